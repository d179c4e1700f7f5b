// PLACEHOLDER losses (to be replaced by the chunked, SIMD version).
#include "nncore/losses.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace nncore {

Loss parse_loss(const std::string& name) {
  if (name == "mse" || name == "mean_squared_error") return Loss::mse;
  if (name == "mae" || name == "mean_absolute_error") return Loss::mae;
  if (name == "huber") return Loss::huber;
  if (name == "cross_entropy" || name == "categorical_crossentropy" ||
      name == "sparse_categorical_crossentropy")
    return Loss::cross_entropy;
  if (name == "binary_cross_entropy" || name == "binary_crossentropy") return Loss::binary_cross_entropy;
  throw std::invalid_argument("unknown loss '" + name +
                              "': expected one of mse, mae, huber, cross_entropy, "
                              "binary_cross_entropy");
}

const char* loss_name(Loss l) {
  static const char* names[] = {"mse", "mae", "huber", "cross_entropy", "binary_cross_entropy"};
  return names[static_cast<int>(l)];
}

double loss_forward_backward(Loss loss, const float* pred, const float* target,
                             const std::int32_t* labels, const float* w, float* dpred, int n,
                             int k, float delta) {
  double total = 0;
  if (loss == Loss::cross_entropy) {
    for (int i = 0; i < n; ++i) {
      const float* z = pred + (size_t)i * k;
      double m = z[0];
      for (int j = 1; j < k; ++j) m = std::max(m, double(z[j]));
      double s = 0;
      for (int j = 0; j < k; ++j) s += std::exp(z[j] - m);
      double lse = m + std::log(s);
      double wi = w ? w[i] : 1.0, li = 0;
      for (int j = 0; j < k; ++j) {
        double t = labels ? (labels[i] == j ? 1.0 : 0.0) : target[(size_t)i * k + j];
        li += t * (lse - z[j]);
        if (dpred) {
          // sum_j t_j may differ from 1 for soft targets: d/dz_j = p_j * sum(t) - t_j
          double tsum = 1.0;
          if (!labels) {
            tsum = 0;
            for (int q = 0; q < k; ++q) tsum += target[(size_t)i * k + q];
          }
          dpred[(size_t)i * k + j] = float(wi * (std::exp(z[j] - lse) * tsum - t) / n);
        }
      }
      total += wi * li;
    }
    return total / n;
  }
  double norm = double(n) * k;
  for (int i = 0; i < n; ++i) {
    double wi = w ? w[i] : 1.0;
    for (int j = 0; j < k; ++j) {
      size_t idx = (size_t)i * k + j;
      double p = pred[idx], t = target[idx], d = p - t, l = 0, g = 0;
      switch (loss) {
        case Loss::mse: l = d * d; g = 2 * d; break;
        case Loss::mae: l = std::fabs(d); g = (d > 0) - (d < 0); break;
        case Loss::huber:
          if (std::fabs(d) < delta) { l = 0.5 * d * d; g = d; }
          else { l = delta * (std::fabs(d) - 0.5 * delta); g = delta * ((d > 0) - (d < 0)); }
          break;
        case Loss::binary_cross_entropy:
          l = std::max(p, 0.0) - p * t + std::log1p(std::exp(-std::fabs(p)));
          g = 1 / (1 + std::exp(-p)) - t;
          break;
        default: break;
      }
      total += wi * l;
      if (dpred) dpred[idx] = float(wi * g / norm);
    }
  }
  return total / norm;
}

}  // namespace nncore
