// The embedding layer without Python: the rows it reads, the scatter-add gradient (same bits for
// 1, 2 and 3 threads), the reserved row, and where the network accepts it.
#include <cstring>
#include <vector>

#include "nncore/network.h"
#include "nncore/threading.h"
#include "testing.h"

using namespace nncore;

static LayerSpec tabular(bool reserve) {
  LayerSpec s;
  s.type = "embedding";
  s.list["numeric"] = {0};
  s.list["columns"] = {1, 2};
  s.list["cardinality"] = {40, 5};
  s.list["dim"] = {24, 3};
  s.num["reserve"] = reserve ? 1 : 0;
  return s;
}

static LayerSpec dense(int units) {
  LayerSpec s;
  s.type = "dense";
  s.num["units"] = units;
  s.str["activation"] = "tanh";
  return s;
}

// n rows of (numeric, code in [0, 40) skewed to small codes, code in [0, 5))
static std::vector<float> codes(int n) {
  std::vector<float> x(std::size_t(n) * 3);
  for (int i = 0; i < n; ++i) {
    x[3 * i] = float(i % 7) * 0.25f - 0.8f;
    x[3 * i + 1] = float((i * i) % 13 + (i % 3) * 9);
    x[3 * i + 2] = float(i % 5);
  }
  return x;
}

TEST(embedding_reads_table_rows) {
  Network net(3, {tabular(false)}, 3);
  CHECK(net.output_dim() == 1 + 24 + 3);
  float x[3] = {0.5f, 7.f, 4.f};
  const float* y = net.forward(x, 1, false);
  const float* w0 = net.params() + net.param_views()[0].offset;
  const float* w1 = net.params() + net.param_views()[1].offset;
  CHECK(y[0] == 0.5f);
  for (int e = 0; e < 24; ++e) CHECK(y[1 + e] == w0[7 * 24 + e]);
  for (int e = 0; e < 3; ++e) CHECK(y[25 + e] == w1[4 * 3 + e]);
}

TEST(embedding_training_same_bits_for_1_2_3_threads) {
  const int n = 1000;  // n x 28 outputs: above the layer's threshold for threads
  std::vector<float> x = codes(n), y(n);
  for (int i = 0; i < n; ++i) y[i] = float(i % 2);
  std::vector<float> first;
  for (int threads : {1, 2, 3}) {
    set_num_threads(threads);
    Network net(3, {tabular(false), dense(16), dense(1)}, 5);
    net.set_loss(Loss::mse);
    net.set_optimizer(make_optimizer("adam", {{"lr", 0.01}}));
    Targets t;
    t.values = y.data();
    for (int step = 0; step < 5; ++step) net.train_step(x.data(), t, n);
    std::vector<float> p(net.params(), net.params() + net.num_params());
    if (first.empty())
      first = p;
    else
      CHECK(std::memcmp(first.data(), p.data(), p.size() * sizeof(float)) == 0);
  }
  set_num_threads(0);
}

TEST(embedding_unknown_codes) {
  float x[3] = {0.f, 40.f, 1.f};
  Network strict(3, {tabular(false)}, 0);
  CHECK_THROWS(strict.forward(x, 1, false));
  Network lenient(3, {tabular(true)}, 0);
  const float* y = lenient.forward(x, 1, false);
  for (int e = 0; e < 24; ++e) CHECK(y[1 + e] == 0.f);  // the reserved row starts at zero
}

TEST(embedding_only_first) {
  CHECK_THROWS(Network(3, {dense(3), tabular(false)}, 0));
  LayerSpec overlap = tabular(false);
  overlap.list["numeric"] = {1};
  CHECK_THROWS(Network(3, {overlap}, 0));
  LayerSpec out_of_range = tabular(false);
  out_of_range.list["columns"] = {1, 3};
  CHECK_THROWS(Network(3, {out_of_range}, 0));
}
