// The training step of DESIGN.md §6 from C++ alone: 784-512(BN,ReLU,Dropout .2)-512(...)-10,
// Adam 1e-3, softmax cross-entropy, synthetic data. Prints time per step, the implied 60,000-row
// epoch time, and where the time goes (per layer forward/backward, loss, optimizer, gather).
//   bench_train [batch_size=128] [threads=1] [steps=200] [plain=0]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <numeric>
#include <string>
#include <vector>

#include "nncore/cpu.h"
#include "nncore/network.h"
#include "nncore/rng.h"
#include "nncore/threading.h"

using namespace nncore;

static LayerSpec spec(const char* type, std::map<std::string, double> num = {},
                      std::map<std::string, std::string> str = {}) {
  LayerSpec s;
  s.type = type;
  s.num = std::move(num);
  s.str = std::move(str);
  return s;
}

int main(int argc, char** argv) {
  const int bs = argc > 1 ? std::atoi(argv[1]) : 128;
  const int threads = argc > 2 ? std::atoi(argv[2]) : 1;
  const int steps = argc > 3 ? std::atoi(argv[3]) : 200;
  const bool plain = argc > 4 && std::atoi(argv[4]) != 0;
  set_num_threads(threads);
  const int D = 784, H = 512, K = 10, N = 60000;

  std::vector<LayerSpec> layers;
  for (int i = 0; i < 2; ++i) {
    if (plain) {
      layers.push_back(spec("dense", {{"units", H}}, {{"activation", "relu"}}));
    } else {
      layers.push_back(spec("dense", {{"units", H}}));
      layers.push_back(spec("batchnorm"));
      layers.push_back(spec("activation", {}, {{"activation", "relu"}}));
      layers.push_back(spec("dropout", {{"rate", 0.2}}));
    }
  }
  layers.push_back(spec("dense", {{"units", K}}));
  Network net(D, layers, 0);
  net.set_loss(Loss::cross_entropy);
  net.set_optimizer(make_optimizer("adam", {{"lr", 1e-3}}));

  // A pool of rows the steps cycle through (the full 60,000×784 would only add page faults here).
  const int pool = std::max(bs * 8, 4096);
  std::vector<float> X((size_t)pool * D);
  std::vector<std::int32_t> y(pool);
  Rng rng(1);
  for (auto& v : X) v = float(rng.normal());
  for (auto& v : y) v = std::int32_t(rng.below(K));
  Targets t;
  t.labels = y.data();

  auto run = [&](int nsteps) {
    std::int64_t nb = pool / bs;
    std::int64_t done = 0;
    while (done < nsteps) {
      std::int64_t end = std::min<std::int64_t>(nb, nsteps - done);
      net.train_epoch(X.data(), t, pool, bs, nullptr, 0, end);
      done += end;
    }
  };
  run(std::max(5, steps / 10));  // warm-up: workspaces, page faults, caches
  net.set_profiling(true);
  net.reset_profile();
  auto t0 = std::chrono::steady_clock::now();
  run(steps);
  double sec = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  double per = sec / steps;
  std::printf("isa=%s threads=%d bs=%d %s: %.1f us/step, 60k-row epoch %.3f s\n",
              isa_name(active_isa()), threads, bs, plain ? "plain" : "bn+dropout", per * 1e6,
              per * ((N + bs - 1) / bs));
  double total = 0;
  for (auto& kv : net.profile()) total += kv.second;
  std::printf("%-28s %10s %7s\n", "phase", "us/step", "share");
  for (auto& kv : net.profile())
    std::printf("%-28s %10.1f %6.1f%%\n", kv.first.c_str(), kv.second / steps * 1e6,
                100 * kv.second / total);
  std::printf("%-28s %10.1f (timer overhead and untimed work: %.1f us)\n", "sum",
              total / steps * 1e6, (sec - total) / steps * 1e6);
  return 0;
}
