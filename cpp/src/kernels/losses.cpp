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
#include "nncore/subnormal.h"
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

// One row's loss term and gradient from its softmax pieces: m (the row's max), e (exp(z_j - m),
// stride apart) and s (their sum in double, in column order). Returns w_i·l_i.
inline double ce_finish_row(const float* z, const float* e, int stride, float m, double s,
                            const float* target, const std::int32_t* labels, const float* w,
                            float* d, int i, int k, double inv_n) {
  const double lse = double(m) + std::log(s);
  const double wi = w ? double(w[i]) : 1.0;
  double li, tsum = 1.0;
  const float* t = labels ? nullptr : target + std::size_t(i) * k;
  if (labels) {
    li = lse - double(z[labels[i]]);
  } else {
    li = 0;
    tsum = 0;
    for (int j = 0; j < k; ++j) {
      li += double(t[j]) * (lse - double(z[j]));
      tsum += t[j];
    }
  }
  if (d) {
    // d/dz_j = (p_j·Σt − t_j)·w_i/n; Σt = 1 for labels and one-hot rows.
    const float ps = float(tsum / s * wi * inv_n);
    const float tw = float(wi * inv_n);
    for (int j = 0; j < k; ++j) d[j] = e[std::size_t(j) * stride] * ps;
    if (labels) {
      d[labels[i]] -= tw;
    } else {
#pragma omp simd
      for (int j = 0; j < k; ++j) d[j] -= t[j] * tw;
    }
  }
  return wi * li;
}

// Rows per block of the narrow-output path: each per-row quantity is one vector over the block.
constexpr int kCeLanes = 8;
constexpr int kCeNarrow = 64;  // widest output the blocked path takes (its stack buffers)

// Cross-entropy over rows [r0, r1) with softmax fused: returns Σ w_i·l_i, writes dpred.
// Outputs up to kCeNarrow wide (most classifiers) run kCeLanes rows at a time with the block
// transposed, so the max, the exps and the double sums of its rows are vector operations: a
// row alone is a chain of dependent scalar steps (k = 10, Zen 4: ~60 ns a row alone, ~37 in
// blocks of 8; 16 lanes spill registers on the baseline ISA). Each row gets the same operations
// in the same order as a row alone, so the same bits.
double ce_rows(const float* pred, const float* target, const std::int32_t* labels, const float* w,
               float* dpred, int r0, int r1, int k, double inv_n) {
  double total = 0;
  if (k <= kCeNarrow) {
    alignas(64) float zt[kCeNarrow * kCeLanes], et[kCeNarrow * kCeLanes];
    alignas(64) float m[kCeLanes];
    alignas(64) double s[kCeLanes];
    for (int i0 = r0; i0 < r1; i0 += kCeLanes) {
      const int rows = std::min(kCeLanes, r1 - i0);
      for (int r = 0; r < rows; ++r) {
        const float* z = pred + std::size_t(i0 + r) * k;
        for (int j = 0; j < k; ++j) zt[j * kCeLanes + r] = z[j];
      }
      for (int r = rows; r < kCeLanes; ++r)  // spare lanes of the last block compute on zeros
        for (int j = 0; j < k; ++j) zt[j * kCeLanes + r] = 0.f;
#pragma omp simd
      for (int r = 0; r < kCeLanes; ++r) m[r] = zt[r];
      for (int j = 1; j < k; ++j) {
        const float* zj = zt + j * kCeLanes;
#pragma omp simd
        for (int r = 0; r < kCeLanes; ++r) m[r] = vm_max(m[r], zj[r]);
      }
#pragma omp simd
      for (int r = 0; r < kCeLanes; ++r) s[r] = 0;
      for (int j = 0; j < k; ++j) {
        const float* zj = zt + j * kCeLanes;
        float* ej = et + j * kCeLanes;
#pragma omp simd
        for (int r = 0; r < kCeLanes; ++r) ej[r] = vm_exp(zj[r] - m[r]);
#pragma omp simd
        for (int r = 0; r < kCeLanes; ++r) s[r] += ej[r];
      }
      for (int r = 0; r < rows; ++r) {
        const int i = i0 + r;
        float* d = dpred ? dpred + std::size_t(i) * k : nullptr;
        total += ce_finish_row(pred + std::size_t(i) * k, et + r, kCeLanes, m[r], s[r], target,
                               labels, w, d, i, k, inv_n);
      }
    }
    return total;
  }
  std::vector<float> ep(static_cast<std::size_t>(k));
  for (int i = r0; i < r1; ++i) {
    const float* z = pred + std::size_t(i) * k;
    float m = z[0];
    for (int j = 1; j < k; ++j) m = vm_max(m, z[j]);
#pragma omp simd
    for (int j = 0; j < k; ++j) ep[j] = vm_exp(z[j] - m);
    double s = 0;
    for (int j = 0; j < k; ++j) s += ep[j];
    float* d = dpred ? dpred + std::size_t(i) * k : nullptr;
    total += ce_finish_row(z, ep.data(), 1, m, s, target, labels, w, d, i, k, inv_n);
  }
  return total;
}

// Softmax of row z in double: p (k) and log Σ exp; returns the log-sum-exp.
double softmax_row(const float* z, int k, double* p) {
  double m = z[0];
  for (int j = 1; j < k; ++j) m = std::max(m, double(z[j]));
  double s = 0;
  for (int j = 0; j < k; ++j) s += p[j] = std::exp(double(z[j]) - m);
  for (int j = 0; j < k; ++j) p[j] /= s;
  return m + std::log(s);
}

// Cross-entropy with label smoothing and/or class weights (PyTorch's definitions, see losses.h),
// and the multi-class focal loss, over rows [r0, r1) in double: returns Σ s_i·l_i, writes dpred
// scaled by inv_norm. The plain cross-entropy keeps its float path (ce_rows).
double softmax_rows(Loss loss, const float* pred, const float* target, const std::int32_t* labels,
                    const float* sw, float* dpred, int r0, int r1, int k, double inv_norm,
                    const LossOptions& o) {
  std::vector<double> p(static_cast<std::size_t>(k)), t(static_cast<std::size_t>(k));
  const float* cw = o.class_weight.empty() ? nullptr : o.class_weight.data();
  const double e = o.label_smoothing, g = o.gamma;
  double total = 0;
  for (int i = r0; i < r1; ++i) {
    const float* z = pred + std::size_t(i) * k;
    const double lse = softmax_row(z, k, p.data());
    const double si = sw ? double(sw[i]) : 1.0;
    float* d = dpred ? dpred + std::size_t(i) * k : nullptr;
    if (loss == Loss::focal) {
      const int y = labels[i];
      const double wy = cw ? double(cw[y]) : 1.0;
      double u = 0;  // 1 - p_y as the sum of the others: exact where p_y rounds to 1
      for (int c = 0; c < k; ++c)
        if (c != y) u += p[c];
      const double ce = lse - double(z[y]);
      const double ug = std::pow(u, g);
      total += si * wy * ug * ce;
      if (d) {
        // d l / d z_j = w_y·(p_j - [j = y])·(u^g + g·p_y·u^(g-1)·ce)
        const double f = ug + (g > 0 && u > 0 ? g * (1 - u) * std::pow(u, g - 1) * ce : 0.0);
        const double sc = si * wy * f * inv_norm;
        for (int j = 0; j < k; ++j) d[j] = float(sc * (p[j] - (j == y ? 1.0 : 0.0)));
      }
      continue;
    }
    // Smoothed, weighted target mass per class: a_c = w_c·t'_c; l_i = Σ_c a_c·(lse - z_c) and
    // d l / d z_j = p_j·Σ_c a_c - a_j.
    double asum = 0, li = 0;
    for (int c = 0; c < k; ++c) {
      double tc = labels ? (c == labels[i] ? 1.0 : 0.0) : double(target[std::size_t(i) * k + c]);
      tc = (1 - e) * tc + e / k;
      t[c] = (cw ? double(cw[c]) : 1.0) * tc;
      asum += t[c];
      li += t[c] * (lse - double(z[c]));
    }
    total += si * li;
    if (d) {
      const double sc = si * inv_norm;
      for (int j = 0; j < k; ++j) d[j] = float(sc * (p[j] * asum - t[j]));
    }
  }
  return total;
}

// Elementwise losses over rows [r0, r1): returns Σ w_i·Σ_j l_ij, writes dpred.
double elem_rows(Loss loss, const float* pred, const float* target, const float* w, float* dpred,
                 int r0, int r1, int k, double inv_norm, const LossOptions& o) {
  const double delta = o.delta, gamma = o.gamma, alpha = o.alpha;
  const float* cw = o.class_weight.empty() ? nullptr : o.class_weight.data();
  const float* qs = o.quantiles.empty() ? nullptr : o.quantiles.data();
  const bool one_q = o.quantiles.size() == 1;
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
        case Loss::mse:
          l = d * d;
          g = 2 * d;
          break;
        case Loss::mae:
          l = std::fabs(d);
          g = (d > 0) - (d < 0);
          break;
        case Loss::huber:
          if (std::fabs(d) < delta) {
            l = 0.5 * d * d;
            g = d;
          } else {
            l = delta * (std::fabs(d) - 0.5 * delta);
            g = d > 0 ? delta : -delta;
          }
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
        case Loss::binary_focal: {
          // torchvision: ce·(1 - p_t)^gamma·alpha_t, p_t = s·t + (1-s)·(1-t), s = sigmoid(p)
          const double e = std::exp(-std::fabs(p));
          const double sg = p >= 0 ? 1.0 / (1.0 + e) : e / (1.0 + e);
          const double sg1 = p >= 0 ? e / (1.0 + e) : 1.0 / (1.0 + e);  // 1 - s, exact
          const double ce = std::max(p, 0.0) - p * t + std::log1p(e);
          const double u = t * sg1 + (1 - t) * sg;  // 1 - p_t
          const double at = alpha < 0 ? 1.0 : alpha * t + (1 - alpha) * (1 - t);
          const double ug = std::pow(u, gamma);
          l = at * ug * ce;
          const double du = (1 - 2 * t) * sg * sg1;
          const double dug = gamma > 0 && u > 0 ? gamma * std::pow(u, gamma - 1) * du : 0.0;
          g = at * (dug * ce + ug * (sg - t));
          break;
        }
        case Loss::quantile: {
          const double q = one_q ? qs[0] : qs[j];
          l = d <= 0 ? -q * d : (1 - q) * d;  // d = p - t: under-prediction costs q
          g = d < 0 ? -q : (d > 0 ? 1 - q : 0.0);
          break;
        }
        default: break;
      }
      if (cw) {
        l *= double(cw[j]);
        g *= double(cw[j]);
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

void check_loss_options(Loss loss, const LossOptions& o, int k) {
  const std::string name = loss_name(loss);
  if (loss == Loss::huber) check(o.delta > 0, "huber: delta must be > 0");
  if (loss == Loss::cross_entropy)
    check(o.label_smoothing >= 0 && o.label_smoothing <= 1,
          "cross_entropy: label_smoothing must be in [0, 1], got " +
              std::to_string(o.label_smoothing));
  if (loss == Loss::focal || loss == Loss::binary_focal)
    check(std::isfinite(o.gamma) && o.gamma >= 0,
          name + ": gamma must be a finite number >= 0, got " + std::to_string(o.gamma));
  if (loss == Loss::binary_focal)
    check(std::isfinite(o.alpha) && o.alpha <= 1,
          "binary_focal: alpha must be in [0, 1] (or < 0 for none), got " +
              std::to_string(o.alpha));
  const bool classify = loss == Loss::cross_entropy || loss == Loss::focal ||
                        loss == Loss::binary_cross_entropy || loss == Loss::binary_focal;
  if (!o.class_weight.empty()) {
    check(classify, name + ": class_weight is only for classification losses");
    check(o.class_weight.size() == std::size_t(k),
          name + ": class_weight has " + std::to_string(o.class_weight.size()) +
              " values but the model has " + std::to_string(k) + " outputs");
    for (float v : o.class_weight)
      check(std::isfinite(v) && v >= 0, name + ": class_weight values must be finite and >= 0");
  }
  if (loss == Loss::quantile) {
    check(o.quantiles.size() == 1 || o.quantiles.size() == std::size_t(k),
          "quantile: needs one quantile or one per output (" + std::to_string(k) + "), got " +
              std::to_string(o.quantiles.size()));
    for (float q : o.quantiles)
      check(q > 0 && q < 1, "quantile: quantiles must lie in (0, 1), got " + std::to_string(q));
  } else {
    check(o.quantiles.empty(), name + ": quantiles are only for the quantile loss");
  }
}

double loss_forward_backward(Loss loss, const float* pred, const float* target,
                             const std::int32_t* labels, const float* w, float* dpred, int n, int k,
                             const LossOptions& opt) {
  check(n > 0 && k > 0, std::string(loss_name(loss)) + ": empty prediction");
  const bool ce = loss == Loss::cross_entropy;
  const bool softmax = ce || loss == Loss::focal;
  if (softmax) {
    if (ce)
      check(labels || target, "cross_entropy: needs integer labels or a target matrix");
    else
      check(labels != nullptr, "focal: needs integer labels");
    if (labels)
      for (int i = 0; i < n; ++i)
        if (labels[i] < 0 || labels[i] >= k)
          fail(std::string(loss_name(loss)) + ": label " + std::to_string(labels[i]) + " at row " +
               std::to_string(i) + " is outside [0, " + std::to_string(k) + ")");
  } else {
    check(target != nullptr, std::string(loss_name(loss)) + ": needs a float target matrix");
  }
  check_loss_options(loss, opt, k);
  const bool plain_ce = ce && opt.label_smoothing == 0 && opt.class_weight.empty();
  const int chunks = (n + kRowChunk - 1) / kRowChunk;
  std::vector<double> part(static_cast<std::size_t>(chunks), 0.0);
  double norm = softmax ? double(n) : double(n) * k;
  if (ce && labels && !opt.class_weight.empty()) {  // PyTorch: the weights of the labels
    norm = 0;
    for (int i = 0; i < n; ++i) norm += double(opt.class_weight[std::size_t(labels[i])]);
    check(norm > 0, "cross_entropy: the class weights of the batch's labels sum to 0");
  }
  const bool par = (long)n * k > (1L << 15) && chunks > 1;
#pragma omp parallel for num_threads(num_threads()) if (par) schedule(static)
  for (int c = 0; c < chunks; ++c) {
    const int r0 = c * kRowChunk, r1 = std::min(n, r0 + kRowChunk);
    part[c] = plain_ce ? ce_rows(pred, target, labels, w, dpred, r0, r1, k, 1.0 / norm)
              : softmax
                  ? softmax_rows(loss, pred, target, labels, w, dpred, r0, r1, k, 1.0 / norm, opt)
                  : elem_rows(loss, pred, target, w, dpred, r0, r1, k, 1.0 / norm, opt);
    // A saturated softmax (L-BFGS's sharp minima, confident classifiers) gives probabilities
    // like 1e-40: flushed, or the output layer's backward GEMMs run 90-140x slower on Intel.
    if (dpred)
      for (std::size_t i = std::size_t(r0) * k; i < std::size_t(r1) * k; ++i)
        dpred[i] = flush_subnormal(dpred[i]);
  }
  double total = 0;
  for (double p : part) total += p;
  return total / norm;
}

}  // namespace nncore
