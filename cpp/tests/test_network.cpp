// Network-level tests without Python: XOR trains, the arena layout, batch-size-1 BN error.
#include "nncore/network.h"
#include "testing.h"

using namespace nncore;

static LayerSpec dense(int units, const char* act) {
  LayerSpec s;
  s.type = "dense";
  s.num["units"] = units;
  s.str["activation"] = act;
  return s;
}

TEST(network_arena_layout) {
  Network net(3, {dense(4, "relu"), dense(2, "linear")}, 0);
  CHECK(net.num_params() == 3 * 4 + 4 + 4 * 2 + 2);
  CHECK(net.param_views().size() == 4);
  CHECK(net.param_views()[2].name == "1.weight");
  CHECK(net.param_views()[2].offset == 16);
  CHECK(net.output_dim() == 2);
}

TEST(network_learns_xor) {
  Network net(2, {dense(8, "tanh"), dense(1, "linear")}, 1);
  net.set_loss(Loss::binary_cross_entropy);
  net.set_optimizer(make_optimizer("sgd", {{"lr", 0.5}}));
  float X[8] = {0, 0, 0, 1, 1, 0, 1, 1};
  float Y[4] = {0, 1, 1, 0};
  Targets t;
  t.values = Y;
  double loss = 1;
  for (int i = 0; i < 2000; ++i) loss = net.train_step(X, t, 4);
  CHECK(loss < 0.05);
  float out[4];
  net.set_output_transform(Act::sigmoid);
  net.predict(X, 4, out);
  for (int i = 0; i < 4; ++i) CHECK((out[i] > 0.5f) == (Y[i] > 0.5f));
}

TEST(network_rejects_bad_specs) {
  CHECK_THROWS(Network(0, {dense(4, "relu")}, 0));
  CHECK_THROWS(Network(3, {dense(0, "relu")}, 0));
  CHECK_THROWS(Network(3, {dense(4, "nope")}, 0));
  LayerSpec bad;
  bad.type = "conv";
  CHECK_THROWS(Network(3, {bad}, 0));
}
