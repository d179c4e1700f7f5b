// Selects the per-ISA table (context.h); gemm::kernel_set is its GEMM part.
#include "isa/context.h"

namespace nncore {

namespace isa {
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
