// LayerNorm without Python: the kernels' values against a double reference, the same bits on every
// ISA and thread count (odd widths, partial column ranges, rows split over tasks), and the layer
// inside a Network (arena layout, the fused training step's overwritten gradients).
#include <cmath>
#include <cstring>
#include <vector>

#include "nncore/cpu.h"
#include "nncore/layernorm.h"
#include "nncore/network.h"
#include "nncore/optim.h"
#include "nncore/threading.h"
#include "testing.h"

using namespace nncore;

namespace {

struct LnInputs {
  std::vector<float> x, dy, gamma, beta;
};
LnInputs ln_inputs(int n, int c) {
  LnInputs in{std::vector<float>(std::size_t(n) * c), std::vector<float>(std::size_t(n) * c),
              std::vector<float>(c), std::vector<float>(c)};
  for (std::size_t i = 0; i < in.x.size(); ++i) {
    in.x[i] = float(std::sin(0.7 * double(i)) * 3.0 + 5.0);
    in.dy[i] = float(std::cos(1.3 * double(i)));
  }
  for (int j = 0; j < c; ++j) in.gamma[j] = 0.5f + 0.01f * j, in.beta[j] = 0.1f * j - 0.3f;
  return in;
}

// Every output of one forward and backward, concatenated.
std::vector<float> ln_outputs(const LnInputs& in, int n, int c) {
  std::vector<float> y(in.x.size()), mean(n), lo(n), rstd(n), dx(in.x.size()), dg(c, 0.f),
      db(c, 0.f);
  ln_forward(y.data(), mean.data(), lo.data(), rstd.data(), in.x.data(), in.gamma.data(),
             in.beta.data(), n, c, 1e-5f);
  ln_backward(dx.data(), dg.data(), db.data(), in.dy.data(), in.x.data(), mean.data(), lo.data(),
              rstd.data(), in.gamma.data(), n, c);
  std::vector<float> all;
  for (const auto* v : {&y, &mean, &lo, &rstd, &dx, &dg, &db})
    all.insert(all.end(), v->begin(), v->end());
  return all;
}

}  // namespace

TEST(layernorm_matches_a_double_reference) {
  const int n = 5, c = 37;
  const LnInputs in = ln_inputs(n, c);
  const std::vector<float> out = ln_outputs(in, n, c);
  const float* y = out.data();
  const float* dx = out.data() + n * c + 3 * n;
  const float* dg = dx + n * c;
  const float* db = dg + c;
  std::vector<double> sg(c, 0), sb(c, 0);
  for (int i = 0; i < n; ++i) {
    double m = 0, v = 0, a = 0, b = 0;
    for (int j = 0; j < c; ++j) m += in.x[i * c + j];
    m /= c;
    for (int j = 0; j < c; ++j) v += (in.x[i * c + j] - m) * (in.x[i * c + j] - m);
    const double rs = 1 / std::sqrt(v / c + 1e-5);
    for (int j = 0; j < c; ++j) {
      const double xh = (in.x[i * c + j] - m) * rs, g = in.dy[i * c + j] * double(in.gamma[j]);
      CHECK_NEAR(y[i * c + j], xh * in.gamma[j] + in.beta[j], 1e-5);
      sg[j] += in.dy[i * c + j] * xh;
      sb[j] += in.dy[i * c + j];
      a += g / c;
      b += g * xh / c;
    }
    // dx = rstd·(g - mean(g) - x̂·mean(g·x̂)), g = dy·gamma
    for (int j = 0; j < c; ++j) {
      const double xh = (in.x[i * c + j] - m) * rs, g = in.dy[i * c + j] * double(in.gamma[j]);
      CHECK_NEAR(dx[i * c + j], rs * (g - a - xh * b), 1e-4);
    }
  }
  for (int j = 0; j < c; ++j) {
    CHECK_NEAR(dg[j], sg[j], 1e-5);
    CHECK_NEAR(db[j], sb[j], 1e-5);
  }
}

TEST(layernorm_same_bits_on_every_isa_and_thread_count) {
  // The per-ISA builds only change the vector width, the threads only which rows or columns a
  // task owns: every output must keep its bits. 40 x 1000 and 300 x 130 are large enough to
  // run threaded, with several row tasks and column ranges.
  const Isa before = active_isa();
  const int shapes[][2] = {{1, 1}, {7, 7}, {33, 33}, {1, 1000}, {7, 65}, {40, 1000}, {300, 130}};
  for (const auto& s : shapes) {
    const int n = s[0], c = s[1];
    const LnInputs in = ln_inputs(n, c);
    std::vector<float> ref;
    for (Isa isa : {Isa::scalar, Isa::avx2, Isa::avx512}) {
      if (!isa_supported(isa)) continue;
      set_active_isa(isa);
      for (int nt : {1, 2, 3}) {
        set_num_threads(nt);
        const std::vector<float> all = ln_outputs(in, n, c);
        if (ref.empty()) ref = all;
        CHECK(std::memcmp(all.data(), ref.data(), sizeof(float) * all.size()) == 0);
      }
    }
  }
  set_num_threads(0);
  set_active_isa(before);
}

TEST(layernorm_in_a_network) {
  LayerSpec dense, ln, out;
  dense.type = "dense";
  dense.num["units"] = 8;
  ln.type = "layernorm";
  out.type = "dense";
  out.num["units"] = 1;
  Network net(3, {dense, ln, out}, 0);
  CHECK(net.num_params() == 3 * 8 + 8 + 2 * 8 + 8 + 1);
  CHECK(net.param_views()[2].name == "1.weight" && net.param_views()[3].name == "1.bias");
  ln.num["bias"] = 0;
  CHECK(Network(3, {dense, ln}, 0).num_params() == 3 * 8 + 8 + 8);
  ln.num["elementwise_affine"] = 0;
  CHECK(Network(3, {dense, ln}, 0).num_params() == 3 * 8 + 8);
  ln.num["eps"] = 0;
  CHECK_THROWS(Network(3, {dense, ln}, 0));
  // The fused step overwrites the gradients (no zeroing pass): two steps from the same state
  // must give the same gradients as one.
  net.set_loss(Loss::mse);
  net.set_optimizer(make_optimizer("sgd", {{"lr", 0.0}}));
  float X[12] = {0, 1, 2, 3, -1, 4, 2, 2, 2, 0.5f, 7, -3};
  float Y[4] = {1, 0, 1, 0};
  Targets t;
  t.values = Y;
  net.train_step(X, t, 4);
  std::vector<float> g1(net.grads(), net.grads() + net.num_params());
  net.train_step(X, t, 4);
  CHECK(std::memcmp(g1.data(), net.grads(), sizeof(float) * g1.size()) == 0);
}
