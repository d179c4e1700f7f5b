// Losses with their gradient in one pass (see losses.h). Rows are processed in fixed chunks of
// kRowChunk whose double sums are combined in order, so the value is the same for any thread
// count; one baseline build serves every ISA (same bits everywhere). Leaves out reductions
// other than 'mean' (the Python layer rescales when it needs a sum).
#include "nncore/losses.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "nncore/common.h"
#include "nncore/schema.h"
#include "nncore/threading.h"

// Lets GCC if-convert the selects without AVX-512 masking; changes no rounding.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("no-trapping-math")
#endif

namespace nncore {

namespace loss_detail {
#include "vmath.inc"
}  // namespace loss_detail

namespace {
using namespace loss_detail;
constexpr int kRowChunk = 256;

// Cross-entropy over rows [r0, r1) with softmax fused: returns Σ w_i·l_i, writes dpred.
double ce_rows(const float* pred, const float* target, const std::int32_t* labels, const float* w,
               float* dpred, int r0, int r1, int k, double inv_n) {
  double total = 0;
  float stack_buf[64];
  std::vector<float> heap;
  if (k > 64) heap.resize(static_cast<std::size_t>(k));
  float* ep = k > 64 ? heap.data() : stack_buf;
  for (int i = r0; i < r1; ++i) {
    const float* z = pred + std::size_t(i) * k;
    float m = z[0];
    for (int j = 1; j < k; ++j) m = vm_max(m, z[j]);
#pragma omp simd
    for (int j = 0; j < k; ++j) ep[j] = vm_exp(z[j] - m);
    double s = 0;
    for (int j = 0; j < k; ++j) s += ep[j];
    const double lse = double(m) + std::log(s);
    const double wi = w ? double(w[i]) : 1.0;
    double li, tsum = 1.0;
    if (labels) {
      li = lse - double(z[labels[i]]);
    } else {
      const float* t = target + std::size_t(i) * k;
      li = 0;
      tsum = 0;
      for (int j = 0; j < k; ++j) {
        li += double(t[j]) * (lse - double(z[j]));
        tsum += t[j];
      }
    }
    total += wi * li;
    if (dpred) {
      float* d = dpred + std::size_t(i) * k;
      // d/dz_j = (p_j·Σt − t_j)·w_i/n; Σt = 1 for labels and one-hot rows.
      const float ps = float(tsum / s * wi * inv_n);
      const float tw = float(wi * inv_n);
#pragma omp simd
      for (int j = 0; j < k; ++j) d[j] = ep[j] * ps;
      if (labels) {
        d[labels[i]] -= tw;
      } else {
        const float* t = target + std::size_t(i) * k;
#pragma omp simd
        for (int j = 0; j < k; ++j) d[j] -= t[j] * tw;
      }
    }
  }
  return total;
}

// Elementwise losses over rows [r0, r1): returns Σ w_i·Σ_j l_ij, writes dpred.
double elem_rows(Loss loss, const float* pred, const float* target, const float* w, float* dpred,
                 int r0, int r1, int k, double inv_norm, double delta) {
  double total = 0;
  for (int i = r0; i < r1; ++i) {
    const double wi = w ? double(w[i]) : 1.0;
    const double gscale = wi * inv_norm;
    double row = 0;
    for (int j = 0; j < k; ++j) {
      const std::size_t idx = std::size_t(i) * k + j;
      const double p = pred[idx], t = target[idx], d = p - t;
      double l = 0, g = 0;
      switch (loss) {
        case Loss::mse: l = d * d; g = 2 * d; break;
        case Loss::mae: l = std::fabs(d); g = (d > 0) - (d < 0); break;
        case Loss::huber:
          if (std::fabs(d) < delta) { l = 0.5 * d * d; g = d; }
          else { l = delta * (std::fabs(d) - 0.5 * delta); g = d > 0 ? delta : -delta; }
          break;
        case Loss::poisson: {
          // y·log(y) - y makes the value the deviance (0 at a perfect fit); it has no gradient
          const double mu = std::exp(p);
          l = mu - t * p + (t > 0 ? t * std::log(t) - t : 0.0);
          g = mu - t;
          break;
        }
        case Loss::binary_cross_entropy: {
          const double e = std::exp(-std::fabs(p));
          l = std::max(p, 0.0) - p * t + std::log1p(e);
          g = (p >= 0 ? 1.0 / (1.0 + e) : e / (1.0 + e)) - t;
          break;
        }
        default: break;
      }
      row += l;
      if (dpred) dpred[idx] = float(g * gscale);
    }
    total += wi * row;
  }
  return total;
}
}  // namespace

Loss parse_loss(const std::string& name) {
  std::vector<std::string> known;
  for (const auto& l : schema::losses()) {
    if (name == l.name) return l.loss;
    for (const auto& alias : l.aliases)
      if (name == alias) return l.loss;
    known.push_back(l.name);
  }
  fail("unknown loss '" + name + "': expected one of " + schema::names(known));
}

const char* loss_name(Loss l) { return schema::losses().at(static_cast<int>(l)).name.c_str(); }

double loss_forward_backward(Loss loss, const float* pred, const float* target,
                             const std::int32_t* labels, const float* w, float* dpred, int n,
                             int k, float delta) {
  check(n > 0 && k > 0, std::string(loss_name(loss)) + ": empty prediction");
  const bool ce = loss == Loss::cross_entropy;
  if (ce) {
    check(labels || target, "cross_entropy: needs integer labels or a target matrix");
    if (labels)
      for (int i = 0; i < n; ++i)
        if (labels[i] < 0 || labels[i] >= k)
          fail("cross_entropy: label " + std::to_string(labels[i]) + " at row " +
               std::to_string(i) + " is outside [0, " + std::to_string(k) + ")");
  } else {
    check(target != nullptr, std::string(loss_name(loss)) + ": needs a float target matrix");
  }
  if (loss == Loss::huber) check(delta > 0, "huber: delta must be > 0");
  const int chunks = (n + kRowChunk - 1) / kRowChunk;
  std::vector<double> part(static_cast<std::size_t>(chunks), 0.0);
  const double norm = ce ? double(n) : double(n) * k;
  const bool par = (long)n * k > (1L << 15) && chunks > 1;
#pragma omp parallel for num_threads(num_threads()) if (par) schedule(static)
  for (int c = 0; c < chunks; ++c) {
    const int r0 = c * kRowChunk, r1 = std::min(n, r0 + kRowChunk);
    part[c] = ce ? ce_rows(pred, target, labels, w, dpred, r0, r1, k, 1.0 / norm)
                 : elem_rows(loss, pred, target, w, dpred, r0, r1, k, 1.0 / norm, delta);
  }
  double total = 0;
  for (double p : part) total += p;
  return total / norm;
}

}  // namespace nncore
