// Selects the per-ISA table (context.h); gemm::kernel_set is its GEMM part.
#include "isa/context.h"

#include <cstdio>
#include <cstdlib>

namespace nncore {

namespace isa {

Context complete(Context c) {
  const gemm::KernelSet& g = c.gemm;
  const char* missing = !g.name || !*g.name                  ? "gemm.name"
                        : g.mr <= 0 || g.nr <= 0             ? "gemm.mr / gemm.nr"
                        : g.mc <= 0 || g.nc <= 0             ? "gemm.mc / gemm.nc"
                        : !g.ukr || !g.pack_a || !g.pack_b   ? "gemm.ukr / pack_a / pack_b"
                        : (g.row_slivers > 0) != !!g.ukr_row ? "gemm.row_slivers with ukr_row"
                        : (g.cols_max > 0) != !!g.ukr_cols   ? "gemm.cols_max with ukr_cols"
                        : (g.few_rows_max > 0) != !!g.ukr_few || (g.few_slivers > 0) != !!g.ukr_few
                            ? "gemm.few_rows_max / few_slivers with ukr_few"
                        : !c.act.forward || !c.act.backward || !c.act.softmax ||
                                !c.act.softmax_backward
                            ? "act"
                        : !c.bn.train || !c.bn.eval || !c.bn.backward || !c.bn.apply || !c.bn.dx
                            ? "bn"
                        : !c.dropout.apply || !c.dropout.apply_bits            ? "dropout"
                        : !c.ln.forward || !c.ln.backward || !c.ln.param_grads ? "ln"
                        : !c.optim                                             ? "optim"
                        : !c.int8                                              ? "int8"
                                                                               : nullptr;
  if (missing) {
    // A build error in a table, not a user's: there is no caller to throw to at static init.
    std::fprintf(stderr, "nncore: the %s ISA table leaves %s unset\n", isa_name(c.isa), missing);
    std::abort();
  }
  return c;
}

const Context& context(Isa isa) {
  switch (isa) {
#if NNCORE_HAVE_AVX512
    case Isa::avx512: return context_avx512();
#endif
#if NNCORE_HAVE_AVX2
    case Isa::avx2: return context_avx2();
#endif
#if NNCORE_HAVE_NEON
    case Isa::neon: return context_neon();
#endif
    default: return context_scalar();
  }
}
}  // namespace isa

const gemm::KernelSet& gemm::kernel_set(Isa isa) { return isa::context(isa).gemm; }

}  // namespace nncore
