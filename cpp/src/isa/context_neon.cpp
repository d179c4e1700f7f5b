// The aarch64 table: the NEON GEMM micro-kernel; the elementwise families and the optimizers
// use their portable builds (compiled for the aarch64 baseline, which includes NEON).
#include "isa/context.h"

namespace nncore::isa {

const Context& context_neon() {
  static const Context c = complete([] {
    Context x = context_scalar();
    x.isa = Isa::neon;
    gemm::KernelSet g;  // a whole new GEMM set: nothing of the reference set's carries over
    g.isa = Isa::neon;
    g.name = "neon 8x12";
    // 8×12: 24 accumulators + 2 A + 3 B of the 32 q registers; NC a multiple of 12.
    g.mr = neon::kMR;
    g.nr = neon::kNR;
    g.mc = 128;
    g.nc = 516;
    g.ukr = neon::sgemm_ukr_neon;
    g.pack_a = gemm::pack_a_generic;
    g.pack_b = gemm::pack_b_generic;
    x.gemm = g;
    x.int8 = &quant::kernels_for(Isa::neon);  // sdot where the CPU has it
    return x;
  }());
  return c;
}

}  // namespace nncore::isa
