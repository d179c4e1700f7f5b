// L-BFGS over float64 variables, the unbounded case of L-BFGS-B as scipy.optimize.minimize runs
// it for scikit-learn's MLP solver="lbfgs": same memory, first step, Moré-Thuente line search
// (ftol 1e-3, gtol 0.9, xtol 0.1, at most max_ls trials), curvature-pair skip rule, restart after
// a failed line search and stopping tests. No bounds; the direction by the two-loop recursion.
#pragma once
#include <cstddef>
#include <functional>
#include <string>

namespace nncore {

struct LbfgsOptions {
  int memory = 10;        // correction pairs kept (scipy's maxcor)
  long max_iter = 15000;  // iterations (scipy's maxiter)
  long max_fun = 15000;   // function evaluations, checked at the end of an iteration (maxfun)
  double pgtol = 1e-5;    // stop when max |g_i| <= pgtol (scipy's gtol)
  double ftol = 2.2204460492503131e-09;  // stop when (f_old - f) <= ftol·max(|f_old|, |f|, 1)
  int max_ls = 20;                       // line-search trials per iteration (maxls)
};

struct LbfgsResult {
  double f = 0;
  long nit = 0, nfev = 0;
  int status = 0;  // 0 converged, 1 iteration or evaluation limit, 2 line search failed
  std::string message;
};

// f(x) with its gradient written to g (both length n).
using LossGradFn = std::function<double(const double* x, double* g)>;

// Minimises from x (length n), leaving the final iterate in x.
LbfgsResult lbfgs_minimize(std::size_t n, double* x, const LossGradFn& fg,
                           const LbfgsOptions& options);

}  // namespace nncore
