// The L1/L2 penalty inside train_step, checked directly: the step must move each weight by
// lr · (data gradient + l1·sign(w) + 2·l2·w), the data gradient taken from forward + backward
// and the penalty term computed here in float64 (torch's weight_decay = 2·l2 convention).
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "nncore/network.h"
#include "testing.h"

using namespace nncore;

namespace {
LayerSpec dense(int units, double l1, double l2) {
  LayerSpec s;
  s.type = "dense";
  s.num = {{"units", units}, {"l1", l1}, {"l2", l2}};
  s.str["activation"] = "tanh";
  return s;
}
}  // namespace

TEST(penalty_gradient_in_train_step_matches_float64) {
  const int in = 6, n = 9;
  const double l1s[] = {0.01, 0.0, 0.3}, l2s[] = {0.05, 0.2, 0.0};
  Network net(in, {dense(7, l1s[0], l2s[0]), dense(5, l1s[1], l2s[1]), dense(3, l1s[2], l2s[2])},
              7);
  net.set_loss(Loss::mse);
  const double lr = 0.1;
  net.set_optimizer(make_optimizer("sgd", {{"lr", lr}}));
  std::vector<float> X(n * in), Y(n * 3);
  for (std::size_t i = 0; i < X.size(); ++i) X[i] = float(std::sin(0.7 * i + 0.1));
  for (std::size_t i = 0; i < Y.size(); ++i) Y[i] = float(std::cos(1.3 * i));
  Targets t;
  t.values = Y.data();
  const std::size_t np = net.num_params();
  std::vector<float> p0(net.params(), net.params() + np);
  net.zero_grad();
  const float* out = net.forward(X.data(), n, true);
  std::vector<float> dout(n * 3);
  net.loss_value(out, t, n, dout.data());
  net.backward(dout.data(), n);
  std::vector<float> g(net.grads(), net.grads() + np);
  double pen_ref = 0;
  for (const auto& v : net.param_views()) {
    if (v.name.find(".weight") == std::string::npos) continue;
    for (std::size_t i = v.offset; i < v.offset + std::size_t(v.shape[0]) * v.shape[1]; ++i)
      pen_ref += l1s[v.layer] * std::fabs(p0[i]) + l2s[v.layer] * double(p0[i]) * p0[i];
  }
  double pen = -1;
  net.train_step(X.data(), t, n, &pen);
  CHECK_NEAR(pen, pen_ref, 1e-6 * pen_ref);
  double worst = 0;
  for (const auto& v : net.param_views()) {
    const bool weight = v.name.find(".weight") != std::string::npos;
    for (std::size_t i = v.offset; i < v.offset + v.size(); ++i) {
      const double w = p0[i], sgn = w > 0 ? 1 : (w < 0 ? -1 : 0);
      const double pg = weight ? l1s[v.layer] * sgn + 2 * l2s[v.layer] * w : 0.0;
      const double want = w - lr * (double(g[i]) + pg);
      const double err = std::fabs(net.params()[i] - want) /
                         (1e-6 * (std::fabs(w) + lr * (std::fabs(g[i]) + std::fabs(pg))) + 1e-12);
      if (err > worst) worst = err;
      if (err > 1.0)
        std::printf("  %s[%zu]: %.9g, want %.9g (data grad %g, penalty grad %g)\n", v.name.c_str(),
                    i - v.offset, double(net.params()[i]), want, double(g[i]), pg);
    }
  }
  CHECK(worst <= 1.0);
}
