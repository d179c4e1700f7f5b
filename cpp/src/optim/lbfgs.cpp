// L-BFGS as L-BFGS-B runs without bounds (nncore/lbfgs.h): the direction from the two-loop
// recursion (in exact arithmetic the compact-form step L-BFGS-B takes when no bound is active), the
// Moré-Thuente line search written from its paper (ACM TOMS 20, 1994), and L-BFGS-B's rules for
// the first step, skipped pairs, restarts and stopping. Serial: its vector work is O(memory·n)
// per iteration, small next to one full-batch evaluation.
#include "nncore/lbfgs.h"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <vector>

namespace nncore {
namespace {

// Eight running sums in a fixed order: vectorisable without reassociation, so the same bits on
// every run.
double dot(const double* a, const double* b, std::size_t n) {
  double s[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int k = 0; k < 8; ++k) s[k] += a[i + k] * b[i + k];
  for (; i < n; ++i) s[i & 7] += a[i] * b[i];
  return ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
}

double max_abs(const double* a, std::size_t n) {
  double m = 0;
  for (std::size_t i = 0; i < n; ++i) m = std::max(m, std::fabs(a[i]));
  return m;
}

// One safeguarded step of the Moré-Thuente search: from the best step so far (stx, fx, dx), the
// other end of the interval (sty, fy, dy) and the trial (stp, fp, dp), a new trial step in stp;
// the interval is updated and `bracketed` set once a minimiser is known to lie inside it.
void trial_step(double& stx, double& fx, double& dx, double& sty, double& fy, double& dy,
                double& stp, double fp, double dp, bool& bracketed, double stpmin, double stpmax) {
  const double sgnd = dp * (dx / std::fabs(dx));
  double stpf;
  if (fp > fx) {
    // Higher function value: the minimiser is bracketed. Cubic or quadratic, whichever is
    // closer to stx (or their mean).
    const double theta = 3.0 * (fx - fp) / (stp - stx) + dx + dp;
    const double s = std::max({std::fabs(theta), std::fabs(dx), std::fabs(dp)});
    double gamma = s * std::sqrt((theta / s) * (theta / s) - (dx / s) * (dp / s));
    if (stp < stx) gamma = -gamma;
    const double p = (gamma - dx) + theta, q = ((gamma - dx) + gamma) + dp, r = p / q;
    const double stpc = stx + r * (stp - stx);
    const double stpq = stx + ((dx / ((fx - fp) / (stp - stx) + dx)) / 2.0) * (stp - stx);
    stpf = std::fabs(stpc - stx) < std::fabs(stpq - stx) ? stpc : stpc + (stpq - stpc) / 2.0;
    bracketed = true;
  } else if (sgnd < 0.0) {
    // Derivatives of opposite sign: bracketed. Cubic or secant, whichever is farther from stp.
    const double theta = 3.0 * (fx - fp) / (stp - stx) + dx + dp;
    const double s = std::max({std::fabs(theta), std::fabs(dx), std::fabs(dp)});
    double gamma = s * std::sqrt((theta / s) * (theta / s) - (dx / s) * (dp / s));
    if (stp > stx) gamma = -gamma;
    const double p = (gamma - dp) + theta, q = ((gamma - dp) + gamma) + dx, r = p / q;
    const double stpc = stp + r * (stx - stp);
    const double stpq = stp + (dp / (dp - dx)) * (stx - stp);
    stpf = std::fabs(stpc - stp) > std::fabs(stpq - stp) ? stpc : stpq;
    bracketed = true;
  } else if (std::fabs(dp) < std::fabs(dx)) {
    // Same sign, the derivative decreasing in magnitude: the cubic only if it tends to infinity
    // in the step's direction (else the bound), against the secant step.
    const double theta = 3.0 * (fx - fp) / (stp - stx) + dx + dp;
    const double s = std::max({std::fabs(theta), std::fabs(dx), std::fabs(dp)});
    double gamma = s * std::sqrt(std::max(0.0, (theta / s) * (theta / s) - (dx / s) * (dp / s)));
    if (stp > stx) gamma = -gamma;
    const double p = (gamma - dp) + theta, q = (gamma + (dx - dp)) + gamma, r = p / q;
    double stpc;
    if (r < 0.0 && gamma != 0.0)
      stpc = stp + r * (stx - stp);
    else
      stpc = stp > stx ? stpmax : stpmin;
    const double stpq = stp + (dp / (dp - dx)) * (stx - stp);
    if (bracketed) {
      stpf = std::fabs(stpc - stp) < std::fabs(stpq - stp) ? stpc : stpq;
      stpf = stp > stx ? std::min(stp + 0.66 * (sty - stp), stpf)
                       : std::max(stp + 0.66 * (sty - stp), stpf);
    } else {
      stpf = std::fabs(stpc - stp) > std::fabs(stpq - stp) ? stpc : stpq;
      stpf = std::max(stpmin, std::min(stpmax, stpf));
    }
  } else {
    // Same sign, the derivative not decreasing: the cubic through stp and sty when bracketed,
    // else the bound.
    if (bracketed) {
      const double theta = 3.0 * (fp - fy) / (sty - stp) + dy + dp;
      const double s = std::max({std::fabs(theta), std::fabs(dy), std::fabs(dp)});
      double gamma = s * std::sqrt((theta / s) * (theta / s) - (dy / s) * (dp / s));
      if (stp > sty) gamma = -gamma;
      const double p = (gamma - dp) + theta, q = ((gamma - dp) + gamma) + dy, r = p / q;
      stpf = stp + r * (sty - stp);
    } else {
      stpf = stp > stx ? stpmax : stpmin;
    }
  }
  if (fp > fx) {
    sty = stp;
    fy = fp;
    dy = dp;
  } else {
    if (sgnd < 0.0) {
      sty = stx;
      fy = fx;
      dy = dx;
    }
    stx = stp;
    fx = fp;
    dx = dp;
  }
  stp = stpf;
}

// The Moré-Thuente search for a step satisfying f(stp) <= f(0) + ftol·stp·f'(0) and
// |f'(stp)| <= gtol·|f'(0)|, one trial per next() call.
class LineSearch {
 public:
  enum class Next { evaluate, converged, warning };

  LineSearch(double ftol, double gtol, double xtol, double stpmin, double stpmax)
      : ftol_(ftol), gtol_(gtol), xtol_(xtol), stpmin_(stpmin), stpmax_(stpmax) {}

  // f and g: the value and directional derivative at step 0; the first trial is stp.
  void start(double f, double g, double stp) {
    bracketed_ = false;
    stage_ = 1;
    finit_ = f;
    ginit_ = g;
    gtest_ = ftol_ * ginit_;
    width_ = stpmax_ - stpmin_;
    width1_ = width_ / 0.5;
    stx_ = 0.0;
    fx_ = finit_;
    gx_ = ginit_;
    sty_ = 0.0;
    fy_ = finit_;
    gy_ = ginit_;
    stmin_ = 0.0;
    stmax_ = stp + kExtrapolateUpper * stp;
  }

  // f and g at the trial stp: either the search ends, or stp becomes the next trial.
  Next next(double f, double g, double& stp) {
    const double ftest = finit_ + stp * gtest_;
    if (stage_ == 1 && f <= ftest && g >= 0.0) stage_ = 2;
    bool warn = false;
    if (bracketed_ && (stp <= stmin_ || stp >= stmax_)) warn = true;   // rounding errors
    if (bracketed_ && stmax_ - stmin_ <= xtol_ * stmax_) warn = true;  // interval too small
    if (stp == stpmax_ && f <= ftest && g <= gtest_) warn = true;
    if (stp == stpmin_ && (f > ftest || g >= gtest_)) warn = true;
    if (f <= ftest && std::fabs(g) <= gtol_ * (-ginit_)) return Next::converged;
    if (warn) return Next::warning;
    if (stage_ == 1 && f <= fx_ && f > ftest) {
      // The modified function ψ(stp) = f(stp) - f(0) - ftol·stp·f'(0) until a step with ψ <= 0
      // and f' >= 0 is found.
      double fm = f - stp * gtest_, fxm = fx_ - stx_ * gtest_, fym = fy_ - sty_ * gtest_;
      double gm = g - gtest_, gxm = gx_ - gtest_, gym = gy_ - gtest_;
      trial_step(stx_, fxm, gxm, sty_, fym, gym, stp, fm, gm, bracketed_, stmin_, stmax_);
      fx_ = fxm + stx_ * gtest_;
      fy_ = fym + sty_ * gtest_;
      gx_ = gxm + gtest_;
      gy_ = gym + gtest_;
    } else {
      trial_step(stx_, fx_, gx_, sty_, fy_, gy_, stp, f, g, bracketed_, stmin_, stmax_);
    }
    if (bracketed_) {
      // Bisect when the interval did not shrink enough over two trials.
      if (std::fabs(sty_ - stx_) >= 0.66 * width1_) stp = stx_ + 0.5 * (sty_ - stx_);
      width1_ = width_;
      width_ = std::fabs(sty_ - stx_);
      stmin_ = std::min(stx_, sty_);
      stmax_ = std::max(stx_, sty_);
    } else {
      stmin_ = stp + kExtrapolateLower * (stp - stx_);
      stmax_ = stp + kExtrapolateUpper * (stp - stx_);
    }
    stp = std::min(std::max(stp, stpmin_), stpmax_);
    if ((bracketed_ && (stp <= stmin_ || stp >= stmax_)) ||
        (bracketed_ && stmax_ - stmin_ <= xtol_ * stmax_))
      stp = stx_;
    return Next::evaluate;
  }

 private:
  static constexpr double kExtrapolateLower = 1.1, kExtrapolateUpper = 4.0;
  double ftol_, gtol_, xtol_, stpmin_, stpmax_;
  bool bracketed_ = false;
  int stage_ = 1;
  double finit_ = 0, ginit_ = 0, gtest_ = 0, width_ = 0, width1_ = 0;
  double stx_ = 0, fx_ = 0, gx_ = 0, sty_ = 0, fy_ = 0, gy_ = 0, stmin_ = 0, stmax_ = 0;
};

// The last `count` correction pairs (s, y) in a ring, newest at `head - 1`.
struct Memory {
  std::size_t n;
  int capacity, count = 0, head = 0;
  std::vector<double> s, y, rho, alpha;
  Memory(std::size_t n_, int m)
      : n(n_), capacity(m), s(n_ * std::size_t(m)), y(n_ * std::size_t(m)), rho(m), alpha(m) {}
  double* S(int i) { return s.data() + n * std::size_t(i); }
  double* Y(int i) { return y.data() + n * std::size_t(i); }
  void clear() { count = head = 0; }
  // q = -H·g with H0 = I/theta (two-loop recursion).
  void direction(const double* g, double theta, double* q) {
    for (std::size_t i = 0; i < n; ++i) q[i] = -g[i];
    for (int k = 0; k < count; ++k) {
      const int i = (head - 1 - k + capacity) % capacity;
      alpha[i] = rho[i] * dot(S(i), q, n);
      const double a = alpha[i], *yi = Y(i);
      for (std::size_t j = 0; j < n; ++j) q[j] -= a * yi[j];
    }
    const double h0 = 1.0 / theta;
    for (std::size_t j = 0; j < n; ++j) q[j] *= h0;
    for (int k = count - 1; k >= 0; --k) {
      const int i = (head - 1 - k + capacity) % capacity;
      const double b = alpha[i] - rho[i] * dot(Y(i), q, n), *si = S(i);
      for (std::size_t j = 0; j < n; ++j) q[j] += b * si[j];
    }
  }
};

}  // namespace

LbfgsResult lbfgs_minimize(std::size_t n, double* x, const LossGradFn& fg, const LbfgsOptions& o) {
  // L-BFGS-B's line-search constants and its largest step when no bound limits it.
  constexpr double kFtol = 1e-3, kGtol = 0.9, kXtol = 0.1, kStepMax = 1e10;
  const double eps = DBL_EPSILON;
  const double tol = (o.ftol / eps) * eps;  // scipy's factr·epsmch
  LbfgsResult res;
  std::vector<double> g(n), d(n), z(n), x0(n), g0(n);
  Memory mem(n, std::max(1, o.memory));
  double theta = 1.0;
  double f = fg(x, g.data());
  res.nfev = 1;
  auto finish = [&](int status, const char* msg) {
    res.f = f;
    res.status = status;
    res.message = msg;
    return res;
  };
  if (max_abs(g.data(), n) <= o.pgtol)
    return finish(0, "CONVERGENCE: NORM OF PROJECTED GRADIENT <= PGTOL");
  long iter = 0;
  for (;;) {
    // The step to the model's minimiser: -g (with theta = 1) until a pair is stored.
    if (mem.count == 0) {
      for (std::size_t i = 0; i < n; ++i) z[i] = x[i] - g[i] / theta;
    } else {
      mem.direction(g.data(), theta, d.data());
      for (std::size_t i = 0; i < n; ++i) z[i] = x[i] + d[i];
    }
    for (std::size_t i = 0; i < n; ++i) d[i] = z[i] - x[i];
    const double dnorm = std::sqrt(dot(d.data(), d.data(), n));
    double stp = iter == 0 ? std::min(1.0 / dnorm, kStepMax) : 1.0;
    std::copy(x, x + n, x0.begin());
    std::copy(g.begin(), g.end(), g0.begin());
    const double fold = f;
    const double gdold = dot(g.data(), d.data(), n);
    double gd = gdold;
    bool failed = !(gdold < 0.0);  // not a descent direction
    if (!failed) {
      LineSearch ls(kFtol, kGtol, kXtol, 0.0, kStepMax);
      ls.start(f, gdold, stp);
      for (int trial = 0;; ++trial) {
        if (trial >= o.max_ls) {
          failed = true;
          break;
        }
        if (stp == 1.0)
          std::copy(z.begin(), z.end(), x);
        else
          for (std::size_t i = 0; i < n; ++i) x[i] = stp * d[i] + x0[i];
        f = fg(x, g.data());
        ++res.nfev;
        gd = dot(g.data(), d.data(), n);
        if (ls.next(f, gd, stp) != LineSearch::Next::evaluate) break;
      }
    }
    if (failed) {
      std::copy(x0.begin(), x0.end(), x);
      std::copy(g0.begin(), g0.end(), g.begin());
      f = fold;
      if (mem.count == 0) return finish(2, "ABNORMAL: ");
      mem.clear();  // forget the pairs and restart from the steepest descent
      theta = 1.0;
      continue;
    }
    ++iter;
    ++res.nit;
    if (res.nit >= o.max_iter) return finish(1, "STOP: TOTAL NO. OF ITERATIONS REACHED LIMIT");
    if (res.nfev > o.max_fun) return finish(1, "STOP: TOTAL NO. OF F,G EVALUATIONS EXCEEDS LIMIT");
    if (max_abs(g.data(), n) <= o.pgtol)
      return finish(0, "CONVERGENCE: NORM OF PROJECTED GRADIENT <= PGTOL");
    if (fold - f <= tol * std::max({std::fabs(fold), std::fabs(f), 1.0}))
      return finish(0, "CONVERGENCE: RELATIVE REDUCTION OF F <= FACTR*EPSMCH");
    // The new pair: s = stp·d, y = g - g_old; kept only with enough curvature (s·y >
    // eps·|s·g_old|).
    double dr, ddum;
    if (stp == 1.0) {
      dr = gd - gdold;
      ddum = -gdold;
    } else {
      dr = (gd - gdold) * stp;
      for (std::size_t i = 0; i < n; ++i) d[i] *= stp;
      ddum = -gdold * stp;
    }
    if (dr <= eps * ddum) continue;
    const int slot = mem.head;
    double* ys = mem.Y(slot);
    for (std::size_t i = 0; i < n; ++i) ys[i] = g[i] - g0[i];
    std::copy(d.begin(), d.end(), mem.S(slot));
    mem.rho[slot] = 1.0 / dr;
    theta = dot(ys, ys, n) / dr;
    mem.head = (mem.head + 1) % mem.capacity;
    mem.count = std::min(mem.count + 1, mem.capacity);
  }
}

}  // namespace nncore
