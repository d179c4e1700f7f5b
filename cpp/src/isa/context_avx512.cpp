// The AVX-512 table (F, BW, DQ, VL). Its GEMM set packs with the AVX2-instruction routines of
// gemm_pack_avx2.cpp (AVX-512 implies AVX2): 8-row A slivers match its MR.
#include "isa/context.h"

namespace nncore::isa {

const Context& context_avx512() {
  static const Context c{
      Isa::avx512,
      {Isa::avx512, "avx512 8x48", avx512::kMR, avx512::kNR, 128, 528, avx512::sgemm_ukr_avx512,
       x86::sgemm_pack_a8_avx2, x86::sgemm_pack_b_avx2, true, avx512::kRowSlivers,
       avx512::sgemm_ukr_avx512_row, avx512::kColsMax, x86::sgemm_cols_mr8, true, 16},
      {act_avx512::forward_span, act_avx512::backward_span, act_avx512::softmax_rows,
       act_avx512::softmax_backward_rows},
      {bn_avx512::forward_train_cols, bn_avx512::forward_eval_cols, bn_avx512::backward_cols},
      {dropout_avx512::apply_span, dropout_avx512::apply_bits_span},
      {ln_avx512::forward_rows, ln_avx512::backward_rows, ln_avx512::param_grads_cols},
      &optim_detail::avx512::table()};
  return c;
}

}  // namespace nncore::isa
