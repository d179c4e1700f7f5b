// The bound that lets a training step skip reading its gradients for the non-finite check
// (finite_bound.h): max_abs must see every NaN/inf at any position, sums_of_products_finite
// must refuse whatever could overflow, and a deferred weight gradient must not be lost.
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <algorithm>
#include <cstring>
#include <vector>

#include "nncore/finite_bound.h"
#include "nncore/network.h"
#include "nncore/threading.h"
#include "testing.h"

using namespace nncore;

namespace {
float from_bits(std::uint32_t b) {
  float f;
  std::memcpy(&f, &b, sizeof f);
  return f;
}
}  // namespace

TEST(max_abs_is_the_exact_largest_magnitude) {
  for (std::size_t n : {1u, 7u, 15u, 16u, 17u, 33u, 1000u}) {
    std::vector<float> x(n);
    for (std::size_t i = 0; i < n; ++i) x[i] = float(int(i % 13) - 6) * 0.25f;
    float want = 0;
    for (float v : x) want = std::fmax(want, std::fabs(v));
    CHECK(max_abs(x.data(), n) == want);
    for (std::size_t pos : {std::size_t(0), n / 2, n - 1}) {
      auto y = x;
      y[pos] = -FLT_MAX;  // finite: the largest magnitude, negative
      CHECK(max_abs(y.data(), n) == FLT_MAX);
      y[pos] = from_bits(0x80000001u);  // -smallest subnormal
      float want_y = 0;
      for (float v : y) want_y = std::fmax(want_y, std::fabs(v));
      CHECK(max_abs(y.data(), n) == want_y);
    }
  }
  CHECK(max_abs(nullptr, 0) == 0.f);
  const float neg_zero = -0.f;
  CHECK(max_abs(&neg_zero, 1) == 0.f);
}

TEST(max_abs_sees_every_nonfinite_pattern_anywhere) {
  const std::uint32_t bad[] = {0x7F800000u, 0xFF800000u, 0x7FC00000u,
                               0xFFC00000u, 0x7F800001u, 0xFFFFFFFFu};
  for (std::size_t n : {1u, 7u, 16u, 17u, 33u, 1000u})
    for (std::size_t pos : {std::size_t(0), n / 3, n - 1})
      for (std::uint32_t b : bad) {
        std::vector<float> x(n, 1.5f);
        x[pos] = from_bits(b);
        CHECK(std::isinf(max_abs(x.data(), n)));
      }
}

TEST(sums_of_products_bound_refuses_what_could_overflow) {
  CHECK(sums_of_products_finite(32, 1.f, 1.f));
  CHECK(sums_of_products_finite(1 << 20, 1e15f, 1e15f));   // 1.05e36
  CHECK(!sums_of_products_finite(1 << 20, 1e16f, 1e16f));  // 1.05e38: could round to inf
  CHECK(!sums_of_products_finite(8, 1e20f, 1e20f));        // the products alone overflow
  CHECK(!sums_of_products_finite(2, 1e37f, 0.5f));         // sums of a alone (bias): 2e37
  CHECK(sums_of_products_finite(1, 1e37f, 0.5f));
  CHECK(!sums_of_products_finite(4, HUGE_VALF, 1.f));
  CHECK(!sums_of_products_finite(4, 1.f, std::nanf("")));
  CHECK(!sums_of_products_finite(double(1 << 24) + 1, 1.f, 1.f));  // rounding growth unbounded
  CHECK(sums_of_products_finite(0, 1.f, 1.f));
}

// A fused epoch whose optimizer refuses the step (a state of the wrong size) after the first
// layer deferred its weight gradient: as a whole-arena step that throws, the gradients are in the
// arena, the batch's exact gradient, and nothing was updated.
TEST(deferred_weight_gradient_is_written_when_the_step_throws) {
  set_num_threads(1);  // the network defers on one thread
  auto dense = [](int units) {
    LayerSpec s;
    s.type = "dense";
    s.num["units"] = units;
    s.str["activation"] = "relu";
    return s;
  };
  Network net(64, {dense(200), dense(64)}, 3);
  net.set_loss(Loss::mse);
  auto opt = make_optimizer("adam", {});
  net.set_optimizer(opt);
  std::vector<float> X(16 * 64), Y(16 * 64);
  for (std::size_t i = 0; i < X.size(); ++i) {
    X[i] = float(int(i * 7919 % 201) - 100) / 50.f;
    Y[i] = float(int(i * 104729 % 101) - 50) / 50.f;
  }
  Targets t;
  t.values = Y.data();
  net.train_epoch(X.data(), t, 16, 8, nullptr, 0, 2);  // creates the state
  opt->state("exp_avg").resize(5);
  const std::vector<float> params(net.params(), net.params() + net.num_params());
  CHECK_THROWS(net.train_epoch(X.data(), t, 16, 8, nullptr, 0, 2));
  CHECK(std::equal(params.begin(), params.end(), net.params()));
  const std::vector<float> after_throw(net.grads(), net.grads() + net.num_params());
  net.loss_grad(X.data(), t, 8, false);  // the first batch's gradient, computed whole
  CHECK(std::memcmp(after_throw.data(), net.grads(), sizeof(float) * net.num_params()) == 0);
  set_num_threads(0);
}
