// The portable table: the reference GEMM micro-kernel and the scalar builds of every family.
// Always registered; the fallback of every other ISA.
#include "isa/context.h"

namespace nncore::isa {

const Context& context_scalar() {
  // MC only sizes the per-thread A buffer (the A sliver lives in L1, the KC×NC block of B in L2).
  static const Context c{Isa::scalar,
                         {Isa::scalar, "scalar 4x16 (reference)", ref::kMR, ref::kNR, 64, 512,
                          ref::sgemm_ukr_ref, gemm::pack_a_generic, gemm::pack_b_generic},
                         {act_scalar::forward_span, act_scalar::backward_span,
                          act_scalar::softmax_rows, act_scalar::softmax_backward_rows},
                         {bn_scalar::forward_train_cols, bn_scalar::forward_eval_cols,
                          bn_scalar::backward_cols},
                         {dropout_scalar::apply_span, dropout_scalar::apply_bits_span},
                         {ln_scalar::forward_rows, ln_scalar::backward_rows,
                          ln_scalar::param_grads_cols},
                         &optim_detail::scalar::table()};
  return c;
}

}  // namespace nncore::isa
