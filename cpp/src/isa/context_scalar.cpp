// The portable table: the reference GEMM micro-kernel and the scalar builds of every family.
// Always registered; the fallback of every other ISA.
#include "isa/context.h"

namespace nncore::isa {

const Context& context_scalar() {
  static const Context c = complete([] {
    Context x;
    x.isa = Isa::scalar;
    gemm::KernelSet& g = x.gemm;
    g.isa = Isa::scalar;
    g.name = "scalar 4x16 (reference)";
    g.mr = ref::kMR;
    g.nr = ref::kNR;
    // MC only sizes the per-thread A buffer (the A sliver lives in L1, the KC×NC block of B in
    // L2).
    g.mc = 64;
    g.nc = 512;
    g.ukr = ref::sgemm_ukr_ref;
    g.pack_a = gemm::pack_a_generic;
    g.pack_b = gemm::pack_b_generic;
    x.act.forward = act_scalar::forward_span;
    x.act.backward = act_scalar::backward_span;
    x.act.softmax = act_scalar::softmax_rows;
    x.act.softmax_backward = act_scalar::softmax_backward_rows;
    x.bn.train = bn_scalar::forward_train_cols;
    x.bn.eval = bn_scalar::forward_eval_cols;
    x.bn.backward = bn_scalar::backward_cols;
    x.bn.apply = bn_scalar::forward_apply_rows;
    x.bn.dx = bn_scalar::backward_dx_rows;
    x.dropout.apply = dropout_scalar::apply_span;
    x.dropout.apply_bits = dropout_scalar::apply_bits_span;
    x.ln.forward = ln_scalar::forward_rows;
    x.ln.backward = ln_scalar::backward_rows;
    x.ln.param_grads = ln_scalar::param_grads_cols;
    x.optim = &optim_detail::scalar::table();
    x.int8 = &quant::kernels_for(Isa::scalar);
    return x;
  }());
  return c;
}

}  // namespace nncore::isa
