// The registration table: which micro-kernel, tile and cache blocks each ISA uses. Each
// architecture's build defines its own NNCORE_HAVE_* (cmake/NncoreIsa.cmake): AVX-512 and AVX2
// on x86-64, NEON on aarch64; the reference kernel is always there.
#include "gemm/gemm_internal.h"

namespace nncore::gemm {

const KernelSet& kernel_set(Isa isa) {
  // MC only sizes the per-thread A buffer (the A sliver lives in L1, the KC×NC block of B in L2).
  static const KernelSet kRef{Isa::scalar, "scalar 4x16 (reference)", ref::kMR, ref::kNR, 64, 512,
                              ref::sgemm_ukr_ref, pack_a_generic, pack_b_generic};
#if NNCORE_HAVE_AVX512
  static const KernelSet kAvx512{Isa::avx512, "avx512 8x48", avx512::kMR, avx512::kNR, 128, 528,
                                 avx512::sgemm_ukr_avx512, avx2::sgemm_pack_a_avx2,
                                 avx2::sgemm_pack_b_avx2, true,  // AVX-512 implies AVX2
                                 avx512::kRowSlivers, avx512::sgemm_ukr_avx512_row};
  if (isa == Isa::avx512) return kAvx512;
#endif
#if NNCORE_HAVE_AVX2
  static const KernelSet kAvx2{Isa::avx2, "avx2 6x16", avx2::kMR, avx2::kNR, 120, 512,
                               avx2::sgemm_ukr_avx2, pack_a_generic, avx2::sgemm_pack_b_avx2};
  if (isa == Isa::avx2) return kAvx2;
#endif
#if NNCORE_HAVE_NEON
  // 8×12: 24 accumulators + 2 A + 3 B of the 32 q registers; NC a multiple of 12.
  static const KernelSet kNeon{Isa::neon, "neon 8x12", neon::kMR, neon::kNR, 128, 516,
                               neon::sgemm_ukr_neon, pack_a_generic, pack_b_generic};
  if (isa == Isa::neon) return kNeon;
#endif
  return kRef;
}

}  // namespace nncore::gemm
