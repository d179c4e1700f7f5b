// One table per ISA listing every kernel family the core dispatches (as BLIS's
// bli_cntx_init_<arch>): the GEMM micro-kernel set with its packing and blocking, the
// activation, batch-norm, dropout and layer-norm kernels and the optimizer update kernels. Each
// table is filled in its own file (context_<isa>.cpp, data only: compiled for the baseline, see
// cmake/NncoreIsa.cmake) and built once, on first use; the scalar table is always there.
// Losses, regularisation and initialisers are compiled once for the baseline and not dispatched.
#pragma once
#include "gemm/gemm_internal.h"
#include "isa/kernels.h"
#include "nncore/cpu.h"
#include "optim/optim_kernels.h"
#include "quant/igemm.h"

namespace nncore::isa {

struct ActKernels {
  decltype(&act_scalar::forward_span) forward;
  decltype(&act_scalar::backward_span) backward;
  decltype(&act_scalar::softmax_rows) softmax;
  decltype(&act_scalar::softmax_backward_rows) softmax_backward;
};

struct BnKernels {
  decltype(&bn_scalar::forward_train_cols) train;
  decltype(&bn_scalar::forward_eval_cols) eval;
  decltype(&bn_scalar::backward_cols) backward;
  // The elementwise passes of train and backward over rows [r0, r1) and every column, from the
  // statistics (and the backward's sums) the column kernels wrote: a large batch on several
  // threads splits those passes by rows (batchnorm.cpp).
  decltype(&bn_scalar::forward_apply_rows) apply;
  decltype(&bn_scalar::backward_dx_rows) dx;
};

// The mask-only kernel is not here: dropout_mask (the tests' reference) always runs the scalar
// one.
struct DropoutKernels {
  decltype(&dropout_scalar::apply_span) apply;
  decltype(&dropout_scalar::apply_bits_span) apply_bits;
};

// Layer norm: the forward and dx over rows, the parameter gradients over columns.
struct LnKernels {
  decltype(&ln_scalar::forward_rows) forward;
  decltype(&ln_scalar::backward_rows) backward;
  decltype(&ln_scalar::param_grads_cols) param_grads;
};

// Filled by name in each context_<isa>.cpp (`c.gemm.mr = ...`), never by position: a misplaced
// boolean in a 20-field braced list silently changed the kernel set. complete() checks the
// result before it is used.
struct Context {
  Isa isa = Isa::scalar;
  gemm::KernelSet gemm{};
  ActKernels act{};
  BnKernels bn{};
  DropoutKernels dropout{};
  LnKernels ln{};
  const optim_detail::Kernels* optim = nullptr;
  const quant::Kernels* int8 = nullptr;  // the int8 GEMM (quant/igemm.h), VNNI where present
};

// c, after checking that every family is filled and that each optional GEMM kernel comes with
// its size (row_slivers with ukr_row, cols_max with ukr_cols, few_rows_max and few_slivers with
// ukr_few): a table left half-filled aborts at its first use instead of calling a null kernel.
Context complete(Context c);

// The table of an ISA (the scalar table for one this build lacks), and of the active ISA
// (active_isa(), which tests may switch between calls).
const Context& context(Isa isa);
inline const Context& active() { return context(active_isa()); }

// One per context_<isa>.cpp.
const Context& context_scalar();
#if NNCORE_HAVE_AVX2
const Context& context_avx2();
#endif
#if NNCORE_HAVE_AVX512
const Context& context_avx512();
#endif
#if NNCORE_HAVE_NEON
const Context& context_neon();
#endif

}  // namespace nncore::isa
