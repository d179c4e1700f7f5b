// The AVX2 table (x86-64 with AVX2 + FMA).
#include "isa/context.h"

namespace nncore::isa {

const Context& context_avx2() {
  // clang-format sets a braced list of more than 20 items one item per line.
  // clang-format off
  static const Context c{Isa::avx2,
                         {Isa::avx2, "avx2 6x16", avx2::kMR, avx2::kNR, 120, 512,
                          avx2::sgemm_ukr_avx2, x86::sgemm_pack_a6_avx2, x86::sgemm_pack_b_avx2,
                          false, avx2::kRowSlivers, avx2::sgemm_ukr_avx2_row, avx2::kColsMax,
                          x86::sgemm_cols_mr6, true, 8, avx2::kFewRowsMax, avx2::kFewSlivers,
                          avx2::sgemm_ukr_avx2_few, avx2::sgemm_ukr_avx2_strip},
                         {act_avx2::forward_span, act_avx2::backward_span, act_avx2::softmax_rows,
                          act_avx2::softmax_backward_rows},
                         {bn_avx2::forward_train_cols, bn_avx2::forward_eval_cols,
                          bn_avx2::backward_cols},
                         {dropout_avx2::apply_span, dropout_avx2::apply_bits_span},
                         {ln_avx2::forward_rows, ln_avx2::backward_rows, ln_avx2::param_grads_cols},
                         &optim_detail::avx2::table()};
  // clang-format on
  return c;
}

}  // namespace nncore::isa
