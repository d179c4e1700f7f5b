// Optimizer tests in C++: fused Adam/SGD against naive per-element references written from the
// torch formulas, bitwise equality over ISA paths and thread counts (1, 2, 3, 5, 7, 16), errors,
// non-finite skip.
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "nncore/cpu.h"
#include "nncore/optim.h"
#include "nncore/threading.h"
#include "testing.h"

using namespace nncore;

namespace {
std::vector<float> pseudo(std::size_t n, unsigned seed) {
  std::vector<float> v(n);
  unsigned s = seed * 2654435761u + 1;
  for (auto& x : v) {
    s = s * 1664525u + 1013904223u;
    x = float(int(s >> 8) % 20001 - 10000) / 5000.0f;
  }
  return v;
}
}  // namespace

TEST(optim_adam_matches_naive_reference) {
  const std::size_t n = 1000;
  auto p = pseudo(n, 1);
  std::vector<double> rp(p.begin(), p.end()), m(n, 0), v(n, 0);
  auto opt = make_optimizer("adam", {{"lr", 0.01}, {"weight_decay", 0.1}});
  for (int t = 1; t <= 50; ++t) {
    auto g = pseudo(n, 100 + t);
    opt->step(p.data(), g.data(), n);
    const double b1 = 0.9, b2 = 0.999, bc1 = 1 - std::pow(b1, t), bc2 = 1 - std::pow(b2, t);
    for (std::size_t i = 0; i < n; ++i) {
      double gi = g[i] + 0.1 * rp[i];
      m[i] = b1 * m[i] + (1 - b1) * gi;
      v[i] = b2 * v[i] + (1 - b2) * gi * gi;
      rp[i] -= 0.01 / bc1 * m[i] / (std::sqrt(v[i]) / std::sqrt(bc2) + 1e-8);
    }
  }
  double worst = 0;
  for (std::size_t i = 0; i < n; ++i)
    worst = std::max(worst, std::fabs(p[i] - rp[i]) / (std::fabs(rp[i]) + 1e-3));
  CHECK(worst < 1e-4);
  CHECK(opt->steps() == 50);
}

TEST(optim_sgd_nesterov_matches_naive_reference) {
  const std::size_t n = 100;
  auto p = pseudo(n, 2);
  std::vector<double> rp(p.begin(), p.end()), buf(n, 0);
  auto opt = make_optimizer("sgd", {{"lr", 0.1}, {"momentum", 0.9}, {"nesterov", 1}});
  for (int t = 1; t <= 20; ++t) {
    auto g = pseudo(n, 200 + t);
    opt->step(p.data(), g.data(), n);
    for (std::size_t i = 0; i < n; ++i) {
      buf[i] = t == 1 ? g[i] : 0.9 * buf[i] + g[i];
      rp[i] -= 0.1 * (g[i] + 0.9 * buf[i]);
    }
  }
  for (std::size_t i = 0; i < n; ++i) CHECK_NEAR(p[i], rp[i], 1e-4);
}

TEST(optim_bitwise_over_isas_and_threads) {
  const std::size_t n = 300007;
  auto p0 = pseudo(n, 3);
  std::vector<std::vector<float>> results;
  const Isa before = active_isa();
  for (Isa isa : {Isa::scalar, Isa::avx2, Isa::avx512, Isa::neon}) {
    if (!isa_supported(isa)) continue;
    set_active_isa(isa);
    for (int threads : {1, 2, 3, 5, 7, 16}) {
      set_num_threads(threads);
      auto p = p0;
      auto opt = make_optimizer("nadam", {{"weight_decay", 0.01}, {"clipnorm", 10.0}});
      for (int t = 0; t < 3; ++t) {
        auto g = pseudo(n, 300 + t);
        opt->step(p.data(), g.data(), n);
      }
      results.push_back(p);
    }
  }
  set_num_threads(0);
  set_active_isa(before);
  for (const auto& r : results)
    for (std::size_t i = 0; i < n; ++i)
      if (std::memcmp(&r[i], &results[0][i], 4) != 0) {
        CHECK(false);
        break;
      }
}

TEST(optim_grad_norm_and_clipping) {
  auto g = pseudo(100003, 4);
  double ref = 0;
  for (float x : g) ref += double(x) * x;
  ref = std::sqrt(ref);
  CHECK_NEAR(grad_norm(g.data(), g.size()), ref, 1e-12 * ref);
  double pre = clip_grad_norm(g.data(), g.size(), 1.0);
  CHECK_NEAR(pre, ref, 1e-12 * ref);
  CHECK_NEAR(grad_norm(g.data(), g.size()), 1.0, 1e-5);
  clip_grad_value(g.data(), g.size(), 1e-3);
  for (float x : g) CHECK(std::fabs(x) <= 1e-3f);
  CHECK_THROWS(clip_grad_norm(g.data(), g.size(), -1));
}

TEST(optim_skips_nonfinite) {
  std::vector<float> p(50, 1.0f), g(50, 0.5f);
  auto opt = make_optimizer("adam", {});
  g[17] = std::numeric_limits<float>::quiet_NaN();
  StepInfo s = opt->step(p.data(), g.data(), p.size());
  CHECK(!s.finite && s.skipped);
  CHECK(opt->steps() == 0);
  for (float x : p) CHECK(x == 1.0f);
}

TEST(optim_rejects_bad_hyperparameters) {
  CHECK_THROWS(make_optimizer("lion", {}));
  CHECK_THROWS(make_optimizer("adam", {{"beta1", 1.0}}));
  CHECK_THROWS(make_optimizer("adam", {{"eps", 0.0}}));
  CHECK_THROWS(make_optimizer("adam", {{"lr", std::nan("")}}));
  CHECK_THROWS(make_optimizer("adam", {{"momentum", 0.9}}));
  CHECK_THROWS(make_optimizer("sgd", {{"nesterov", 1}}));
  CHECK_THROWS(make_optimizer("sgd", {{"momentum", -1}}));
  CHECK_THROWS(make_optimizer("rmsprop", {{"weight_decay", -1}}));
  auto o = make_optimizer("sgd", {{"momentum", 0.9}});
  CHECK_THROWS(o->set_hparam("momentum", 0.0));
  CHECK_THROWS(o->set_lr(-1));
  o->set_hparam("momentum", 0.5);
  CHECK(o->hparams()["momentum"] == 0.5);
}
