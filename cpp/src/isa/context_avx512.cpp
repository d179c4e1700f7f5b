// The AVX-512 table (F, BW, DQ, VL). Its GEMM set packs with the AVX2-instruction routines of
// gemm_pack_avx2.cpp (AVX-512 implies AVX2): 8-row A slivers match its MR.
#include "isa/context.h"

namespace nncore::isa {

const Context& context_avx512() {
  static const Context c = complete([] {
    Context x;
    x.isa = Isa::avx512;
    gemm::KernelSet& g = x.gemm;
    g.isa = Isa::avx512;
    g.name = "avx512 8x48";
    g.mr = avx512::kMR;
    g.nr = avx512::kNR;
    g.mc = 128;
    g.nc = 528;
    g.ukr = avx512::sgemm_ukr_avx512;
    g.pack_a = x86::sgemm_pack_a8_avx2;
    g.pack_b = x86::sgemm_pack_b_avx2;
    g.in_place_b = true;
    g.row_slivers = avx512::kRowSlivers;
    g.ukr_row = avx512::sgemm_ukr_avx512_row;
    g.cols_max = avx512::kColsMax;
    g.ukr_cols = x86::sgemm_cols_mr8;
    g.a_row = true;
    g.vec = 16;
    g.ukr_strip = avx512::sgemm_ukr_avx512_strip;
    g.ukr_wt = avx512::sgemm_ukr_avx512_wt;
    x.act.forward = act_avx512::forward_span;
    x.act.backward = act_avx512::backward_span;
    x.act.softmax = act_avx512::softmax_rows;
    x.act.softmax_backward = act_avx512::softmax_backward_rows;
    x.bn.train = bn_avx512::forward_train_cols;
    x.bn.eval = bn_avx512::forward_eval_cols;
    x.bn.backward = bn_avx512::backward_cols;
    x.bn.apply = bn_avx512::forward_apply_rows;
    x.bn.dx = bn_avx512::backward_dx_rows;
    x.dropout.apply = dropout_avx512::apply_span;
    x.dropout.apply_bits = dropout_avx512::apply_bits_span;
    x.ln.forward = ln_avx512::forward_rows;
    x.ln.backward = ln_avx512::backward_rows;
    x.ln.param_grads = ln_avx512::param_grads_cols;
    x.optim = &optim_detail::avx512::table();
    x.int8 = &quant::kernels_for(Isa::avx512);
    return x;
  }());
  return c;
}

}  // namespace nncore::isa
