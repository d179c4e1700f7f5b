// The x86 registration table: which micro-kernel, tile and cache blocks each ISA uses.
// (An aarch64 build would add a NEON table; until then it falls back to the reference kernel.)
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
  return kRef;
}

}  // namespace nncore::gemm
