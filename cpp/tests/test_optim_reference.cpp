// Every optimizer and option against a naive float64 reference written from torch.optim's
// formulas (not from the kernels), on every ISA. A third of the gradients are 1e-7..1e-9, where
// eps is as large as sqrt(v): eps inside the sqrt or 1000x too large changes those updates by
// tens of percent, far outside the tolerance (1e-6 of the parameter plus 2e-6 of the updates'
// total size, what float32 rounding over a few steps can reach).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "nncore/cpu.h"
#include "nncore/optim.h"
#include "nncore/threading.h"
#include "testing.h"

using namespace nncore;

namespace {

using Hp = std::map<std::string, double>;
using Vec = std::vector<double>;

double get(const Hp& hp, const char* k, double def) {
  auto it = hp.find(k);
  return it == hp.end() ? def : it->second;
}

// Per-element scales 1, 0.1, 1e-3, 1e-7, 1e-8, 1e-9 times a value in [-1, 1] (signs change from
// step to step, so second moments do not cancel against squared means).
std::vector<float> grads(std::size_t n, unsigned step) {
  static const double scale[] = {1, 0.1, 1e-3, 1e-7, 1e-8, 1e-9};
  std::vector<float> g(n);
  unsigned s = step * 2654435761u + 99u;
  for (std::size_t i = 0; i < n; ++i) {
    s = s * 1664525u + 1013904223u;
    double u = double(int(s >> 8) % 20001 - 10000) / 10000.0;
    if (std::fabs(u) < 0.05) u = u < 0 ? -0.05 : 0.05;  // keep every element's eps test active
    g[i] = float(u * scale[i % 6]);
  }
  return g;
}

std::vector<float> params(std::size_t n) {
  std::vector<float> p(n);
  unsigned s = 12345u;
  for (auto& x : p) {  // another generator than grads(): p and g must not be proportional
    s ^= s << 13, s ^= s >> 17, s ^= s << 5;
    x = float(int(s >> 8) % 20001 - 10000) / 10000.0f;
  }
  return p;
}

// The reference optimizer: torch.optim's single-tensor update in double.
struct Reference {
  std::string name;
  Hp hp;
  Vec a, b, c;  // state: (momentum buffer | sum | square_avg | exp_avg), (grad_avg | exp_avg_sq),
                // (max_exp_avg_sq)
  double mu_product = 1;
  int t = 0;

  void step(Vec& p, const std::vector<float>& gf) {
    const std::size_t n = p.size();
    ++t;
    const double lr = get(hp, "lr",
                          name == "adam" || name == "adamw" ? 1e-3
                          : name == "nadam"                 ? 2e-3
                                                            : 1e-2);
    const double wd = get(hp, "weight_decay", name == "adamw" ? 1e-2 : 0.0);
    Vec g(gf.begin(), gf.end());
    if (get(hp, "maximize", 0))
      for (double& x : g) x = -x;
    // clip_grad_norm_ then clip_grad_value_ (the order the optimizer applies them).
    if (double cn = get(hp, "clipnorm", 0); cn > 0) {
      double ss = 0;
      for (float x : gf) ss += double(x) * x;
      const double coef = cn / (std::sqrt(ss) + 1e-6);
      if (coef < 1)
        for (double& x : g) x *= coef;
    }
    if (double cv = get(hp, "clipvalue", 0); cv > 0)
      for (double& x : g) x = std::min(cv, std::max(-cv, x));
    if (a.empty()) {
      const double init = name == "adagrad" ? get(hp, "initial_accumulator_value", 0) : 0;
      a.assign(n, init);
      b.assign(n, 0);
      c.assign(n, 0);
    }
    if (name == "sgd") {
      const double mom = get(hp, "momentum", 0), damp = get(hp, "dampening", 0);
      const bool nest = get(hp, "nesterov", 0) != 0;
      for (std::size_t i = 0; i < n; ++i) {
        double d = g[i] + wd * p[i];
        if (mom != 0) {
          a[i] = t == 1 ? d : mom * a[i] + (1 - damp) * d;
          d = nest ? d + mom * a[i] : a[i];
        }
        p[i] -= lr * d;
      }
    } else if (name == "adagrad") {
      const double clr = lr / (1 + (t - 1) * get(hp, "lr_decay", 0)), eps = get(hp, "eps", 1e-10);
      for (std::size_t i = 0; i < n; ++i) {
        const double d = g[i] + wd * p[i];
        a[i] += d * d;
        p[i] -= clr * d / (std::sqrt(a[i]) + eps);
      }
    } else if (name == "rmsprop") {
      const double alpha = get(hp, "alpha", 0.99), eps = get(hp, "eps", 1e-8);
      const double mom = get(hp, "momentum", 0);
      const bool centered = get(hp, "centered", 0) != 0;
      for (std::size_t i = 0; i < n; ++i) {
        const double d = g[i] + wd * p[i];
        a[i] = alpha * a[i] + (1 - alpha) * d * d;
        double avg;
        if (centered) {
          b[i] = alpha * b[i] + (1 - alpha) * d;
          avg = std::sqrt(a[i] - b[i] * b[i]) + eps;
        } else {
          avg = std::sqrt(a[i]) + eps;
        }
        if (mom > 0) {
          c[i] = mom * c[i] + d / avg;
          p[i] -= lr * c[i];
        } else {
          p[i] -= lr * d / avg;
        }
      }
    } else if (name == "adam" || name == "adamw") {
      const double b1 = get(hp, "beta1", 0.9), b2 = get(hp, "beta2", 0.999),
                   eps = get(hp, "eps", 1e-8);
      const bool decoupled = name == "adamw" || get(hp, "decoupled_weight_decay", 0) != 0;
      const bool ams = get(hp, "amsgrad", 0) != 0;
      const double bc1 = 1 - std::pow(b1, t), bc2 = 1 - std::pow(b2, t);
      for (std::size_t i = 0; i < n; ++i) {
        double d = g[i];
        if (decoupled)
          p[i] *= 1 - lr * wd;
        else
          d += wd * p[i];
        a[i] = b1 * a[i] + (1 - b1) * d;
        b[i] = b2 * b[i] + (1 - b2) * d * d;
        double v = b[i];
        if (ams) v = c[i] = std::max(c[i], b[i]);
        p[i] -= lr / bc1 * a[i] / (std::sqrt(v) / std::sqrt(bc2) + eps);
      }
    } else if (name == "nadam") {
      const double b1 = get(hp, "beta1", 0.9), b2 = get(hp, "beta2", 0.999),
                   eps = get(hp, "eps", 1e-8);
      const double md = get(hp, "momentum_decay", 4e-3);
      const bool decoupled = get(hp, "decoupled_weight_decay", 0) != 0;
      const double bc2 = 1 - std::pow(b2, t);
      const double mu = b1 * (1 - 0.5 * std::pow(0.96, t * md));
      const double mu_next = b1 * (1 - 0.5 * std::pow(0.96, (t + 1) * md));
      mu_product *= mu;
      for (std::size_t i = 0; i < n; ++i) {
        double d = g[i];
        if (decoupled)
          p[i] *= 1 - lr * wd;
        else
          d += wd * p[i];
        a[i] = b1 * a[i] + (1 - b1) * d;
        b[i] = b2 * b[i] + (1 - b2) * d * d;
        const double den = std::sqrt(b[i] / bc2) + eps;
        p[i] -= lr * (1 - mu) / (1 - mu_product) * d / den;
        p[i] -= lr * mu_next / (1 - mu_product * mu_next) * a[i] / den;
      }
    }
  }
};

// Runs `steps` steps of nncore's optimizer and of the reference from the same float32 start
// with the same float32 gradients; returns false (and prints the worst element) on a mismatch.
bool matches(const std::string& name, const Hp& hp, int steps = 6) {
  const std::size_t n = 1003;  // not a multiple of any vector width: the tails run too
  auto pf = params(n);
  Vec pr(pf.begin(), pf.end()), moved(n, 0);
  auto opt = make_optimizer(name, hp);
  Reference ref{name, hp};
  for (int t = 1; t <= steps; ++t) {
    auto g = grads(n, unsigned(t));
    opt->step(pf.data(), g.data(), n);
    Vec before = pr;
    ref.step(pr, g);
    for (std::size_t i = 0; i < n; ++i) moved[i] += std::fabs(pr[i] - before[i]);
    double worst = 0;
    std::size_t wi = 0;
    for (std::size_t i = 0; i < n; ++i) {
      const double tol = 1e-6 * std::fabs(pr[i]) + 2e-6 * moved[i] + 1e-30;
      const double r = std::fabs(double(pf[i]) - pr[i]) / tol;
      if (!(r <= worst)) worst = r, wi = i;
    }
    if (!(worst <= 1.0)) {
      std::printf("  %s %s:", isa_name(active_isa()), name.c_str());
      for (const auto& kv : hp) std::printf(" %s=%g", kv.first.c_str(), kv.second);
      std::printf(" step %d, element %zu (grad scale %g): %.9g vs reference %.9g (moved %g)\n", t,
                  wi, double(g[wi]), double(pf[wi]), pr[wi], moved[wi]);
      return false;
    }
  }
  return true;
}

template <class F>
void on_every_isa(F f) {
  const Isa before = active_isa();
  for (Isa isa : {Isa::scalar, Isa::avx2, Isa::avx512, Isa::neon}) {
    if (!isa_supported(isa)) continue;
    set_active_isa(isa);
    f();
  }
  set_active_isa(before);
}

}  // namespace

TEST(optim_reference_sgd) {
  on_every_isa([] {
    CHECK(matches("sgd", {{"lr", 0.05}}));
    CHECK(matches("sgd", {{"lr", 0.05}, {"weight_decay", 0.1}}));
    CHECK(matches("sgd", {{"lr", 0.05}, {"momentum", 0.9}}));
    CHECK(matches("sgd", {{"lr", 0.05}, {"momentum", 0.9}, {"dampening", 0.3}}));
    CHECK(matches("sgd", {{"lr", 0.05}, {"momentum", 0.9}, {"nesterov", 1}}));
    CHECK(
        matches("sgd", {{"lr", 0.05}, {"momentum", 0.8}, {"nesterov", 1}, {"weight_decay", 0.01}}));
    CHECK(matches("sgd", {{"lr", 0.05}, {"momentum", 0.5}, {"maximize", 1}}));
  });
}

TEST(optim_reference_adagrad) {
  on_every_isa([] {
    CHECK(matches("adagrad", {{"lr", 0.05}}));
    CHECK(matches("adagrad", {{"lr", 0.05}, {"lr_decay", 0.1}}));
    CHECK(matches("adagrad", {{"lr", 0.05}, {"weight_decay", 0.01}}));
    CHECK(matches("adagrad", {{"lr", 0.05}, {"initial_accumulator_value", 0.1}}));
    CHECK(matches("adagrad", {{"lr", 0.05}, {"eps", 1e-8}}));
  });
}

TEST(optim_reference_rmsprop) {
  on_every_isa([] {
    CHECK(matches("rmsprop", {{"lr", 0.01}}));
    CHECK(matches("rmsprop", {{"lr", 0.01}, {"alpha", 0.9}}));
    CHECK(matches("rmsprop", {{"lr", 0.01}, {"alpha", 0.9}, {"centered", 1}}));
    CHECK(matches("rmsprop",
                  {{"lr", 0.01}, {"alpha", 0.5}, {"centered", 1}}));  // lerp's other branch
    CHECK(matches("rmsprop", {{"lr", 0.01}, {"momentum", 0.9}}));
    CHECK(matches("rmsprop",
                  {{"lr", 0.01}, {"centered", 1}, {"momentum", 0.5}, {"weight_decay", 0.01}}));
  });
}

TEST(optim_reference_adam_amsgrad_l2) {
  on_every_isa([] {
    CHECK(matches("adam", {{"lr", 0.01}}));
    CHECK(matches("adam", {{"lr", 0.01}, {"eps", 1e-6}}));
    CHECK(matches("adam", {{"lr", 0.01}, {"amsgrad", 1}}));
    CHECK(matches("adam", {{"lr", 0.01}, {"weight_decay", 0.1}}));
    CHECK(matches("adam", {{"lr", 0.01}, {"beta1", 0.3}, {"beta2", 0.9}}));  // lerp's other branch
    CHECK(matches("adam", {{"lr", 0.01}, {"weight_decay", 0.1}, {"decoupled_weight_decay", 1}}));
  });
}

TEST(optim_reference_adamw) {
  on_every_isa([] {
    CHECK(matches("adamw", {{"lr", 0.01}}));
    CHECK(matches("adamw", {{"lr", 0.01}, {"weight_decay", 0.5}}));
    CHECK(matches("adamw", {{"lr", 0.01}, {"weight_decay", 0.1}, {"amsgrad", 1}}));
  });
}

TEST(optim_reference_nadam) {
  on_every_isa([] {
    CHECK(matches("nadam", {}));
    CHECK(matches("nadam", {{"momentum_decay", 0.05}}));
    CHECK(matches("nadam", {{"weight_decay", 0.1}}));
    CHECK(matches("nadam", {{"weight_decay", 0.1}, {"decoupled_weight_decay", 1}}));
    CHECK(matches("nadam", {{"beta1", 0.3}}));
  });
}

TEST(optim_reference_clipping_and_maximize) {
  on_every_isa([] {
    CHECK(matches("adam", {{"lr", 0.01}, {"clipnorm", 0.5}}));
    CHECK(matches("sgd", {{"lr", 0.05}, {"clipvalue", 0.3}}));
    CHECK(matches("rmsprop", {{"lr", 0.01}, {"clipnorm", 2.0}, {"clipvalue", 0.05}}));
    CHECK(matches("nadam", {{"clipnorm", 0.1}, {"maximize", 1}}));
  });
}

// The tolerance is tight enough to see eps: the same run with eps 1000x larger, or inside the
// sqrt, does not match (checked here on the reference itself, so the test cannot pass vacuously).
TEST(optim_reference_eps_is_visible) {
  const std::size_t n = 1003;
  auto p0 = params(n);
  auto g = grads(n, 1);
  Reference r1{"adam", {{"lr", 0.01}}}, r2{"adam", {{"lr", 0.01}, {"eps", 1e-5}}};
  Vec a(p0.begin(), p0.end()), b = a;
  r1.step(a, g);
  r2.step(b, g);
  int visible = 0;
  for (std::size_t i = 0; i < n; ++i)
    visible += std::fabs(a[i] - b[i]) > 1e-6 * std::fabs(a[i]) + 2e-6 * std::fabs(a[i] - p0[i]);
  CHECK(visible >= int(n / 3));  // the tiny-gradient elements at least
}
