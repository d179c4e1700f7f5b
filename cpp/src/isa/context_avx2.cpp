// The AVX2 table (x86-64 with AVX2 + FMA).
#include "isa/context.h"

namespace nncore::isa {

const Context& context_avx2() {
  static const Context c = complete([] {
    Context x;
    x.isa = Isa::avx2;
    gemm::KernelSet& g = x.gemm;
    g.isa = Isa::avx2;
    g.name = "avx2 6x16";
    g.mr = avx2::kMR;
    g.nr = avx2::kNR;
    g.mc = 120;
    g.nc = 512;
    g.ukr = avx2::sgemm_ukr_avx2;
    g.pack_a = x86::sgemm_pack_a6_avx2;
    g.pack_b = x86::sgemm_pack_b_avx2;
    g.in_place_b = false;
    g.row_slivers = avx2::kRowSlivers;
    g.ukr_row = avx2::sgemm_ukr_avx2_row;
    g.cols_max = avx2::kColsMax;
    g.ukr_cols = x86::sgemm_cols_mr6;
    g.a_row = true;
    g.vec = 8;
    g.few_rows_max = avx2::kFewRowsMax;
    g.few_slivers = avx2::kFewSlivers;
    g.ukr_few = avx2::sgemm_ukr_avx2_few;
    g.ukr_strip = avx2::sgemm_ukr_avx2_strip;
    g.ukr_wt = avx2::sgemm_ukr_avx2_wt;
    x.act.forward = act_avx2::forward_span;
    x.act.backward = act_avx2::backward_span;
    x.act.softmax = act_avx2::softmax_rows;
    x.act.softmax_backward = act_avx2::softmax_backward_rows;
    x.bn.train = bn_avx2::forward_train_cols;
    x.bn.eval = bn_avx2::forward_eval_cols;
    x.bn.backward = bn_avx2::backward_cols;
    x.bn.apply = bn_avx2::forward_apply_rows;
    x.bn.dx = bn_avx2::backward_dx_rows;
    x.dropout.apply = dropout_avx2::apply_span;
    x.dropout.apply_bits = dropout_avx2::apply_bits_span;
    x.ln.forward = ln_avx2::forward_rows;
    x.ln.backward = ln_avx2::backward_rows;
    x.ln.param_grads = ln_avx2::param_grads_cols;
    x.optim = &optim_detail::avx2::table();
    x.int8 = &quant::kernels_for(Isa::avx2);
    return x;
  }());
  return c;
}

}  // namespace nncore::isa
