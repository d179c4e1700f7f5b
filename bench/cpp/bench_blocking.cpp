// Cache blocking A/B inside one process: each MLP shape runs under every blocking setting in
// turn, round by round (the order rotating), so the host's drift between seconds hits every
// setting alike. Prints each setting's median GFLOP/s ratio to the first setting with quartiles
// of the per-round ratios. Separate processes run seconds apart read ±5 % on these VMs; this reads
// ±1–2 % (bench/results/issue33.md#nc-floor).
//   bench_blocking [isa=avx512] [threads=1] [rounds=11] [settings=0/0/0,0/1248/0,0/2064/0]
// A setting is MC/NC/GROUP_COLS; 0 keeps the derived value (gemm_blocking.cpp).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "gemm/gemm_internal.h"
#include "nncore/cpu.h"
#include "nncore/gemm.h"
#include "nncore/threading.h"

using namespace nncore;

namespace {

struct Shape {
  const char* name;
  Trans ta, tb;
  int M, N, K;
  bool packed;  // B pre-packed (the inference forward)
};

struct Setting {
  int mc, nc, group;
};

std::vector<Setting> parse_settings(const std::string& text) {
  std::vector<Setting> out;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) {
    Setting s{0, 0, 0};
    if (std::sscanf(item.c_str(), "%d/%d/%d", &s.mc, &s.nc, &s.group) != 3) {
      std::fprintf(stderr, "bad setting '%s' (want MC/NC/GROUP)\n", item.c_str());
      std::exit(2);
    }
    out.push_back(s);
  }
  return out;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  const Isa isa = parse_isa(argc > 1 ? argv[1] : "avx512");
  const int threads = argc > 2 ? std::atoi(argv[2]) : 1;
  const int rounds = std::max(3, argc > 3 ? std::atoi(argv[3]) : 11);
  const std::vector<Setting> sets = parse_settings(argc > 4 ? argv[4] : "0/0/0,0/1248/0,0/2064/0");
  if (!isa_supported(isa)) {
    std::fprintf(stderr, "ISA not supported here\n");
    return 2;
  }
  set_active_isa(isa);
  set_num_threads(threads);
  const std::vector<Shape> shapes = {
      {"fwd 1024x784x512 (packed W)", Trans::N, Trans::T, 1024, 512, 784, true},
      {"NN 2048^3", Trans::N, Trans::N, 2048, 2048, 2048, false},
      {"bwd dX 128x512x784 (NN)", Trans::N, Trans::N, 128, 784, 512, false},
      {"bwd dW 512x128x784 (TN)", Trans::T, Trans::N, 512, 784, 128, false},
      {"bs2048 fwd 2048x784x512 (packed W)", Trans::N, Trans::T, 2048, 512, 784, true},
      {"bs2048 dW 512x2048x784 (TN)", Trans::T, Trans::N, 512, 784, 2048, false},
      {"bs2048 dX 2048x512x512 (NN)", Trans::N, Trans::N, 2048, 512, 512, false},
      {"lbfgs fwd 4096x784x100 (packed W)", Trans::N, Trans::T, 4096, 100, 784, true},
      {"lbfgs dW 100x4096x784 (TN)", Trans::T, Trans::N, 100, 784, 4096, false},
  };
  std::printf("# bench_blocking: isa %s, %d thread(s), %d rounds; ratio = setting / first\n",
              argc > 1 ? argv[1] : "avx512", threads, rounds);
  std::printf("| shape | GFLOP/s (first) |");
  for (const Setting& s : sets) std::printf(" %d/%d/%d |", s.mc, s.nc, s.group);
  std::printf("\n|---|---|");
  for (std::size_t i = 0; i < sets.size(); ++i) std::printf("---|");
  std::printf("\n");
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  for (const Shape& s : shapes) {
    const int lda = s.ta == Trans::N ? s.K : s.M, ldb = s.tb == Trans::N ? s.N : s.K;
    std::vector<float> A((std::size_t)s.M * s.K), B((std::size_t)s.K * s.N),
        C((std::size_t)s.M * s.N);
    for (float& x : A) x = u(rng);
    for (float& x : B) x = u(rng);
    PackedB P;
    if (s.packed) P.pack(s.tb, s.K, s.N, B.data(), ldb);
    auto call = [&] {
      if (s.packed)
        sgemm_packed(s.ta, s.M, 1.f, A.data(), lda, P, 0.f, C.data(), s.N);
      else
        sgemm(s.ta, s.tb, s.M, s.N, s.K, 1.f, A.data(), lda, B.data(), ldb, 0.f, C.data(), s.N);
    };
    const double flop = 2.0 * s.M * s.N * s.K;
    // About 10 ms per sample at 200 GFLOP/s per thread.
    const int reps = std::max(1, (int)(2e9 * threads / flop));
    std::vector<std::vector<double>> t(sets.size());
    for (int r = 0; r < rounds; ++r)
      for (std::size_t j = 0; j < sets.size(); ++j) {
        const std::size_t i = (j + r) % sets.size();
        gemm::force_blocking(sets[i].mc, sets[i].nc, sets[i].group);
        call();  // the buffers grow outside the timing
        const auto t0 = std::chrono::steady_clock::now();
        for (int k = 0; k < reps; ++k) call();
        t[i].push_back(
            std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() / reps);
      }
    gemm::force_blocking(0, 0, 0);
    std::printf("| %s | %.1f |", s.name, flop / 1e9 / median(t[0]));
    for (std::size_t i = 0; i < sets.size(); ++i) {
      std::vector<double> q;
      for (int r = 0; r < rounds; ++r) q.push_back(t[0][r] / t[i][r]);
      std::sort(q.begin(), q.end());
      std::printf(" %.3f [%.2f–%.2f] |", q[q.size() / 2], q[q.size() / 4], q[3 * q.size() / 4]);
    }
    std::printf("\n");
    std::fflush(stdout);
  }
}
