// Residual blocks without Python: the arena layout of nested blocks, the skip's gradient
// against central differences of the network's own forward, the folded plan against the layer
// path, and bad block specs.
#include <cmath>
#include <vector>

#include "nncore/network.h"
#include "testing.h"

using namespace nncore;

static LayerSpec layer(const char* type, std::map<std::string, double> num = {},
                       const char* act = nullptr) {
  LayerSpec s;
  s.type = type;
  s.num = std::move(num);
  if (act) s.str["activation"] = act;
  return s;
}

static LayerSpec block(std::vector<LayerSpec> children, const char* projection = "auto") {
  LayerSpec s = layer("residual");
  s.children = std::move(children);
  s.str["projection"] = projection;
  return s;
}

// Dense(6, tanh), [Dense(4), [Dense(4, tanh)]] with a projection 6 -> 4, Dense(2).
static std::vector<LayerSpec> nested() {
  return {layer("dense", {{"units", 6}}, "tanh"),
          block({layer("dense", {{"units", 4}}), block({layer("dense", {{"units", 4}}, "tanh")})}),
          layer("dense", {{"units", 2}})};
}

TEST(residual_arena_names_and_widths) {
  Network net(3, nested(), 0);
  std::vector<std::string> names;
  for (const auto& v : net.param_views()) names.push_back(v.name);
  const std::vector<std::string> want = {"0.weight",
                                         "0.bias",
                                         "1.body.0.weight",
                                         "1.body.0.bias",
                                         "1.body.1.body.0.weight",
                                         "1.body.1.body.0.bias",
                                         "1.proj.weight",
                                         "2.weight",
                                         "2.bias"};
  CHECK(names == want);
  CHECK(net.layer(1).in_dim() == 6 && net.layer(1).out_dim() == 4);
  CHECK(net.num_params() == 18 + 6 + 24 + 4 + 16 + 4 + 24 + 8 + 2);
}

TEST(residual_gradients_match_central_differences) {
  Network net(3, nested(), 1);
  net.set_loss(Loss::mse);
  const int n = 5;
  std::vector<float> x(n * 3), y(n * 2);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = std::sin(0.7f * float(i) + 0.3f);
  for (std::size_t i = 0; i < y.size(); ++i) y[i] = std::cos(0.4f * float(i));
  Targets t;
  t.values = y.data();
  auto loss = [&] {
    const float* out = net.forward(x.data(), n, true);
    return net.loss_value(out, t, n, nullptr);
  };
  std::vector<float> dout(n * 2);
  net.loss_value(net.forward(x.data(), n, true), t, n, dout.data());
  net.zero_grad();
  net.backward(dout.data(), n);
  std::vector<float> g(net.grads(), net.grads() + net.num_params());
  float* p = net.params();
  double worst = 0;
  for (std::size_t i = 0; i < net.num_params(); ++i) {
    const float old = p[i], h = 1e-2f;
    p[i] = old + h;
    net.params_changed();
    const double lp = loss();
    p[i] = old - h;
    net.params_changed();
    const double lm = loss();
    p[i] = old;
    net.params_changed();
    const double num = (lp - lm) / (2.0 * h);
    worst = std::max(worst, std::fabs(num - g[i]) / std::max({std::fabs(num), 1e-2}));
  }
  CHECK(worst < 2e-3);
}

TEST(residual_folded_plan_matches_layer_path) {
  std::vector<LayerSpec> specs = {layer("dense", {{"units", 8}}),
                                  block({layer("dense", {{"units", 8}}), layer("batchnorm"),
                                         layer("activation", {}, "relu"),
                                         layer("dense", {{"units", 5}})}),
                                  layer("activation", {}, "relu"),
                                  block({layer("dropout", {{"rate", 0.5}})}),
                                  layer("dense", {{"units", 3}})};
  Network net(4, specs, 2);
  CHECK(net.can_fold());
  for (std::size_t i = 0; i < net.num_buffers(); ++i) net.buffers()[i] = 0.5f + 0.01f * float(i);
  net.params_changed();
  const int n = 7;
  std::vector<float> x(n * 4), a(n * 3), b(n * 3);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = std::sin(float(i));
  net.predict(x.data(), n, a.data(), false);
  net.predict(x.data(), n, b.data(), true);
  for (std::size_t i = 0; i < a.size(); ++i) CHECK_NEAR(a[i], b[i], 1e-5);
  // a pre-activation block (BatchNorm first) cannot fold: the layer path answers
  Network pre(4, {block({layer("batchnorm"), layer("dense", {{"units", 4}})})}, 0);
  CHECK(!pre.can_fold());
}

TEST(residual_rejects_bad_blocks) {
  CHECK_THROWS(Network(3, {block({})}, 0));
  LayerSpec with_children = layer("dense", {{"units", 2}});
  with_children.children.push_back(layer("dropout"));
  CHECK_THROWS(Network(3, {with_children}, 0));
  CHECK_THROWS(Network(3, {block({layer("dense", {{"units", 2}})}, "never")}, 0));
  CHECK_THROWS(Network(3, {block({layer("dropout")}, "sometimes")}, 0));
}
