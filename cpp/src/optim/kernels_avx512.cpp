// Optimizer chunk kernels compiled for the avx512 path (bodies in kernels_body.inc).
// Only instruction selection differs between paths; the arithmetic per element is identical.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "nncore/subnormal.h"
#include "optim_kernels.h"

namespace nncore::optim_detail::avx512 {
#include "kernels_body.inc"
}  // namespace nncore::optim_detail::avx512
