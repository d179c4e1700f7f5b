// Weight penalties and the max-norm constraint (see regularization.h).
// The penalty sum runs in fixed 4096-element chunks combined in order, so it does not depend
// on the thread count.
#include "nncore/regularization.h"

#include <cmath>
#include <vector>

#include "nncore/threading.h"

namespace nncore {

double l1_l2_penalty(const float* w, std::size_t n, float l1, float l2) {
  if (l1 == 0.f && l2 == 0.f) return 0.0;
  const std::size_t chunk = 4096, nchunks = (n + chunk - 1) / chunk;
  std::vector<double> part(nchunks, 0.0);
#pragma omp parallel for num_threads(num_threads()) if (n > 65536) schedule(static)
  for (std::ptrdiff_t c = 0; c < (std::ptrdiff_t)nchunks; ++c) {
    double a = 0, s = 0;
    std::size_t end = std::min(n, (c + 1) * chunk);
    for (std::size_t i = c * chunk; i < end; ++i) {
      a += std::fabs(w[i]);
      s += double(w[i]) * w[i];
    }
    part[c] = double(l1) * a + double(l2) * s;
  }
  double total = 0;
  for (double p : part) total += p;
  return total;
}

void l1_l2_grad(float* dw, const float* w, std::size_t n, float l1, float l2) {
  if (l1 == 0.f && l2 == 0.f) return;
  const float two_l2 = 2.f * l2;
#pragma omp parallel for num_threads(num_threads()) if (n > 65536) schedule(static)
  for (std::ptrdiff_t i = 0; i < (std::ptrdiff_t)n; ++i) {
    float s = w[i] > 0.f ? 1.f : (w[i] < 0.f ? -1.f : 0.f);
    dw[i] += l1 * s + two_l2 * w[i];
  }
}

void max_norm_rows(float* w, int rows, int cols, float max_norm) {
  if (!(max_norm > 0.f)) return;
  for (int r = 0; r < rows; ++r) {
    float* row = w + (std::size_t)r * cols;
    double s = 0;
    for (int j = 0; j < cols; ++j) s += double(row[j]) * row[j];
    double norm = std::sqrt(s);
    if (norm > max_norm) {
      float scale = float(max_norm / norm);
      for (int j = 0; j < cols; ++j) row[j] *= scale;
    }
  }
}

}  // namespace nncore
