// Column ranges of the layer-norm parameter-gradient kernel, shared by the dispatcher
// (layernorm.cpp: threading over column ranges) and the per-ISA kernels (layernorm_impl.inc:
// stack accumulators sized by it), so the two cannot drift apart.
#pragma once

namespace nncore::ln_blocks {
constexpr int kBlock = 64;  // column ranges are multiples of this
constexpr int kWide = 512;  // widest column range of param_grads_cols
}  // namespace nncore::ln_blocks
