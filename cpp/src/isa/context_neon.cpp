// The aarch64 table: the NEON GEMM micro-kernel; the elementwise families and the optimizers
// use their portable builds (compiled for the aarch64 baseline, which includes NEON).
#include "isa/context.h"

namespace nncore::isa {

const Context& context_neon() {
  static const Context c = [] {
    Context n = context_scalar();
    n.isa = Isa::neon;
    // 8×12: 24 accumulators + 2 A + 3 B of the 32 q registers; NC a multiple of 12.
    n.gemm = {Isa::neon,
              "neon 8x12",
              neon::kMR,
              neon::kNR,
              128,
              516,
              neon::sgemm_ukr_neon,
              gemm::pack_a_generic,
              gemm::pack_b_generic};
    return n;
  }();
  return c;
}

}  // namespace nncore::isa
