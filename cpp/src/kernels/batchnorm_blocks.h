// Column blocking of the batch-norm kernels, shared by the dispatcher (batchnorm.cpp: threading
// over column ranges) and the per-ISA kernels (batchnorm_impl.inc: stack arrays sized by these),
// so the two cannot drift apart.
#pragma once

namespace nncore::bn_blocks {
constexpr int kBlock = 64;  // features per column block
constexpr int kWide = 512;  // widest column range of the row-sweep kernels
}  // namespace nncore::bn_blocks
