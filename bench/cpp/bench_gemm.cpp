// SGEMM benchmark: measures this machine's FMA peak per ISA (nncore/fma_peak.h), then for
// each MLP shape and each ISA path prints best/median time, GFLOP/s, % of peak and the max
// relative difference from the double-accumulating naive twin (C·t vs A·(B·t) for 2048³).
//   bench_gemm [threads=1,2] [isas=avx512,avx2,neon] [min_seconds_per_case=0.25] [shape filter]
//              [pages=4k|huge]
// pages: the operands are plain std::vectors (4 KiB pages, as most callers' arrays) by default;
// huge puts them in nncore's 2 MiB-aligned, MADV_HUGEPAGE buffers, as the training step's are.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>
#include <vector>

#include "gemm/gemm_internal.h"
#include "nncore/bench_clock.h"
#include "nncore/common.h"
#include "nncore/cpu.h"
#include "nncore/fma_peak.h"
#include "nncore/gemm.h"
#include "nncore/threading.h"

using namespace nncore;

namespace {

double now() { return bench_seconds(); }

// Peak single-thread GFLOP/s of one ISA: best of 300 short (~1 ms) runs, so a run that other
// processes pre-empt does not count.
double measure_peak(Isa isa) {
  const std::vector<double> runs = fma_peak_samples(isa, 300);
  return runs.empty() ? 0.0 : *std::max_element(runs.begin(), runs.end());
}

// Operand storage: 4 KiB pages, or nncore's huge-page buffers (see the header comment).
struct Operand {
  std::vector<float> small;
  fvec huge;
  bool use_huge = false;
  float* data() { return use_huge ? huge.data() : small.data(); }
  const float* data() const { return use_huge ? huge.data() : small.data(); }
  float operator[](std::size_t i) const { return data()[i]; }
};

Operand operand(bool huge, const std::vector<float>& values) {
  Operand o;
  o.use_huge = huge;
  if (huge)
    o.huge.assign(values.begin(), values.end());
  else
    o.small = values;
  return o;
}

std::vector<float> randv(std::size_t n, unsigned seed) {
  std::vector<float> v(n);
  unsigned s = seed * 747796405u + 1u;
  for (auto& x : v) {
    s = s * 1664525u + 1013904223u;
    x = float((s >> 8) & 0xFFFF) / 32768.f - 1.f;
  }
  return v;
}

struct Case {
  std::string name;
  Trans ta, tb;
  int M, N, K;
  float beta;
  bool packed;       // B is a Dense weight W (N×K) kept packed (the forward path)
  bool xwt = false;  // the training forward through sgemm_xwt (W read in place, Yᵀ = W·Xᵀ)
};

struct Stats {
  double best, median;
};

template <class F>
Stats time_it(F&& f, double min_seconds) {
  std::vector<double> t;
  f();  // warm-up: buffers, pages, caches
  const double start = now();
  while (t.size() < 5 || (now() - start < min_seconds && t.size() < 2000)) {
    double a = now();
    f();
    const double dt = now() - a;
    if (dt > 0) t.push_back(dt);  // a migration between vCPUs can skew the TSC
  }
  std::sort(t.begin(), t.end());
  return {t.front(), t[t.size() / 2]};
}

// max |C - ref| / (|A|·|B| scale) against the naive twin, or via a random vector when huge.
double max_rel_diff(const Case& c, const Operand& A, int lda, const Operand& B, int ldb,
                    const Operand& C) {
  const int M = c.M, N = c.N, K = c.K;
  auto opA = [&](int i, int k) {
    return double(c.ta == Trans::N ? A[(size_t)i * lda + k] : A[(size_t)k * lda + i]);
  };
  auto opB = [&](int k, int j) {
    return double(c.tb == Trans::N ? B[(size_t)k * ldb + j] : B[(size_t)j * ldb + k]);
  };
  if ((double)M * N * K > 1e9) {
    std::vector<double> t(N), bt(K, 0.0), abt(K, 0.0);
    for (int j = 0; j < N; ++j) t[j] = std::cos(j * 0.7 + 0.1);
    for (int k = 0; k < K; ++k)
      for (int j = 0; j < N; ++j) bt[k] += opB(k, j) * t[j], abt[k] += std::fabs(opB(k, j) * t[j]);
    double worst = 0;
    for (int i = 0; i < M; ++i) {
      double ref = 0, scale = 0, got = 0;
      for (int k = 0; k < K; ++k) ref += opA(i, k) * bt[k], scale += std::fabs(opA(i, k)) * abt[k];
      for (int j = 0; j < N; ++j) got += C[(size_t)i * N + j] * t[j];
      worst = std::max(worst, std::fabs(got - ref) / scale);
    }
    return worst;
  }
  std::vector<float> R((size_t)M * N, 0.f);
  sgemm_naive(c.ta, c.tb, M, N, K, 1.f, A.data(), lda, B.data(), ldb, 0.f, R.data(), N);
  double worst = 0, scale = 0;
  for (int i = 0; i < M; ++i)
    for (int j = 0; j < N; ++j) scale = std::max(scale, (double)std::fabs(R[(size_t)i * N + j]));
  for (size_t i = 0; i < R.size(); ++i) worst = std::max(worst, (double)std::fabs(C[i] - R[i]));
  return worst / std::max(scale, 1e-30);
}

std::vector<std::string> split_csv(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string x;
  while (std::getline(ss, x, ',')) out.push_back(x);
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<int> threads;
  for (auto& s : split_csv(argc > 1 ? argv[1] : "1,2")) threads.push_back(std::atoi(s.c_str()));
  std::vector<Isa> isas;
  for (auto& s : split_csv(argc > 2 ? argv[2] : "avx512,avx2,neon"))
    if (isa_supported(parse_isa(s))) isas.push_back(parse_isa(s));
  const double min_s = argc > 3 ? std::atof(argv[3]) : 0.25;
  const std::string filter = argc > 4 ? argv[4] : "";
  const bool huge = argc > 5 && std::string(argv[5]) == "huge";

  std::vector<Case> cases = {
      {"fwd 32x784x512 (packed W)", Trans::N, Trans::T, 32, 512, 784, 0.f, true},
      {"fwd 128x784x512 (packed W)", Trans::N, Trans::T, 128, 512, 784, 0.f, true},
      // The training forward: W changes every step, so it is packed inside each call.
      {"train fwd 32x784x512 = X.W^T (NT)", Trans::N, Trans::T, 32, 512, 784, 0.f, false},
      {"train fwd 128x784x512 = X.W^T (NT)", Trans::N, Trans::T, 128, 512, 784, 0.f, false},
      {"train dW 512x32x784 = dY^T.X (TN)", Trans::T, Trans::N, 512, 784, 32, 0.f, false},
      {"fwd 128x512x512 (packed W)", Trans::N, Trans::T, 128, 512, 512, 0.f, true},
      {"fwd 512x512x512 (packed W)", Trans::N, Trans::T, 512, 512, 512, 0.f, true},
      {"fwd 1024x784x512 (packed W)", Trans::N, Trans::T, 1024, 512, 784, 0.f, true},
      {"NN 128x784x512", Trans::N, Trans::N, 128, 512, 784, 0.f, false},
      {"NN 2048^3", Trans::N, Trans::N, 2048, 2048, 2048, 0.f, false},
      {"bwd dX 128x512x784 = dY.W (NN)", Trans::N, Trans::N, 128, 784, 512, 0.f, false},
      {"bwd dW 512x128x784 += dY^T.X (TN)", Trans::T, Trans::N, 512, 784, 128, 1.f, false},
      // The bs-2048 training step's big products (the first layer's, and the 512x512 dX).
      {"bs2048 fwd 2048x784x512 (packed W)", Trans::N, Trans::T, 2048, 512, 784, 0.f, true},
      {"bs2048 dW 512x2048x784 = dY^T.X (TN)", Trans::T, Trans::N, 512, 784, 2048, 0.f, false},
      {"bs2048 dX 2048x512x512 = dY.W (NN)", Trans::N, Trans::N, 2048, 512, 512, 0.f, false},
      {"batch-1 1x784x512 (packed W)", Trans::N, Trans::T, 1, 512, 784, 0.f, true},
      {"batch-4 4x784x512 (packed W)", Trans::N, Trans::T, 4, 512, 784, 0.f, true},
      // Narrow outputs (the x86 sets' row-vectorised kernel up to its cols_max): a regression
      // output, a few and ten logits, at sklearn's default batch of 200 rows.
      {"narrow fwd 200x100x1 (regression out)", Trans::N, Trans::T, 200, 1, 100, 0.f, false},
      {"narrow fwd 200x100x4", Trans::N, Trans::T, 200, 4, 100, 0.f, false},
      {"narrow fwd 200x100x8", Trans::N, Trans::T, 200, 8, 100, 0.f, false},
      {"narrow fwd 200x100x10", Trans::N, Trans::T, 200, 10, 100, 0.f, false},
      {"narrow fwd 200x100x12", Trans::N, Trans::T, 200, 12, 100, 0.f, false},
      {"narrow dW^T 100x200x1 (TN)", Trans::T, Trans::N, 100, 1, 200, 0.f, false},
      // scikit-learn's default hidden layer: 100 = 2·48 + 4 columns on AVX-512, 6·16 + 4 on AVX2.
      {"narrow-tail fwd 200x784x100", Trans::N, Trans::T, 200, 100, 784, 0.f, false},
      {"narrow-tail fwd 200x64x100", Trans::N, Trans::T, 200, 100, 64, 0.f, false},
      // scikit-learn's default MLP in a full-batch L-BFGS chunk of 4096 rows (X read in place).
      {"lbfgs fwd 4096x784x100 (packed W)", Trans::N, Trans::T, 4096, 100, 784, 0.f, true},
      {"lbfgs dW 100x4096x784 = dY^T.X (TN)", Trans::T, Trans::N, 100, 784, 4096, 0.f, false},
  };

  // Widths the packed kernel's tiles fill badly (sgemm_xwt_pays), and small-batch training
  // forwards, through both paths; the K < 256 ones are where sgemm_xwt loses.
  for (auto [M, K, N] : {std::array<int, 3>{256, 784, 100},
                         {200, 784, 100},
                         {2048, 784, 100},
                         {256, 784, 60},
                         {4096, 50, 100},
                         {200, 64, 100},
                         {200, 128, 100},
                         {256, 300, 200},
                         // the training forwards at small batches (Dense::reads_w_in_place)
                         {32, 784, 512},
                         {64, 784, 512},
                         {128, 784, 512},
                         {32, 512, 512}}) {
    const std::string shape = "wide fwd " + std::to_string(M) + "x" + std::to_string(K) + "x" +
                              std::to_string(N);
    cases.push_back({shape + " (packed W)", Trans::N, Trans::T, M, N, K, 0.f, true});
    cases.push_back({shape + " (xwt)", Trans::N, Trans::T, M, N, K, 0.f, false, true});
  }

  std::printf("# bench_gemm: %s, %d cores; shapes are M x K x N; operands on %s\n", NNCORE_COMPILER,
              num_cores(), huge ? "2 MiB (huge) pages" : "4 KiB pages");
  for (Isa isa : isas) {
    const double peak = measure_peak(isa);
    std::printf("\n## %s (%s): measured FMA peak %.1f GFLOP/s per core\n\n", isa_name(isa),
                gemm::kernel_set(isa).name, peak);
    std::printf(
        "| shape | threads | best ms | median ms | GFLOP/s (median) | %% of peak (1 core) | max "
        "rel diff |\n");
    std::printf("|---|---|---|---|---|---|---|\n");
    set_active_isa(isa);
    for (const Case& c : cases) {
      if (!filter.empty() && c.name.find(filter) == std::string::npos) continue;
      const int lda = c.ta == Trans::N ? c.K : c.M, ldb = c.tb == Trans::N ? c.N : c.K;
      Operand A = operand(huge, randv((size_t)c.M * c.K, 1));
      Operand B = operand(huge, randv((size_t)c.K * c.N, 2));
      Operand C = operand(huge, std::vector<float>((size_t)c.M * c.N, 0.f));
      PackedB P;
      if (c.packed) P.pack(c.tb, c.K, c.N, B.data(), ldb);
      double diff = -1;
      for (int nt : threads) {
        set_num_threads(nt);
        auto call = [&](float beta) {
          if (c.xwt)
            sgemm_xwt(c.M, c.N, c.K, A.data(), lda, B.data(), ldb, C.data(), c.N);
          else if (c.packed)
            sgemm_packed(c.ta, c.M, 1.f, A.data(), lda, P, beta, C.data(), c.N);
          else
            sgemm(c.ta, c.tb, c.M, c.N, c.K, 1.f, A.data(), lda, B.data(), ldb, beta, C.data(),
                  c.N);
        };
        Stats s = time_it([&] { call(c.beta); }, min_s);
        if (diff < 0) {
          std::fill(C.data(), C.data() + (size_t)c.M * c.N, 0.f);
          call(0.f);
          diff = max_rel_diff(c, A, lda, B, ldb, C);
        }
        const double gf = 2.0 * c.M * c.N * c.K / s.median / 1e9;
        std::printf("| %s | %d | %.4f | %.4f | %.1f | %.1f | %.1e |\n", c.name.c_str(), nt,
                    s.best * 1e3, s.median * 1e3, gf, 100.0 * gf / (peak * nt), diff);
        std::fflush(stdout);
      }
    }
    // The Dense re-pack after each optimizer step: W (512×784) into the kernel's layout.
    auto W = randv(512 * 784, 3);
    for (int nt : threads) {
      set_num_threads(nt);
      PackedB P;
      Stats s = time_it([&] { P.pack(Trans::T, 784, 512, W.data(), 784); }, min_s);
      std::printf("| re-pack W 512x784 (Dense, after each step) | %d | %.4f | %.4f | - | - | - |\n",
                  nt, s.best * 1e3, s.median * 1e3);
    }
    // The micro-kernel alone: one packed A sliver against 16 packed B slivers (a row strip),
    // operands in L1/L2, 1 thread. At a short K block the tile's set-up and epilogue show: the
    // weight gradient at batch 32 runs kc = 32 (bench/results/issue33.md#unit-epilogue).
    const gemm::KernelSet& ks = gemm::kernel_set(isa);
    for (int kc : {32, 64, 256})
      for (float beta : {0.f, 1.f}) {
        const std::string name = "ukr strip 16 tiles " + std::to_string(ks.mr) + "x" +
                                 std::to_string(ks.nr) + " kc=" + std::to_string(kc) +
                                 (beta != 0.f ? " C+=" : " C=");
        if (!filter.empty() && name.find(filter) == std::string::npos) continue;
        const int tiles = 16, reps = 64;
        auto a = randv((size_t)ks.mr * kc, 4), b = randv((size_t)kc * ks.nr * tiles, 5);
        std::vector<float> c((size_t)ks.mr * ks.nr * tiles, 0.f);
        const std::ptrdiff_t ldc = (std::ptrdiff_t)ks.nr * tiles;
        gemm::UkrEpi e;
        e.beta = beta;
        Stats st = time_it(
            [&] {
              for (int r = 0; r < reps; ++r) {
                if (ks.ukr_strip) {
                  ks.ukr_strip(tiles, kc, a.data(), b.data(), c.data(), ldc, e);
                } else {
                  for (int t = 0; t < tiles; ++t)
                    ks.ukr(ks.mr, ks.nr, kc, a.data(), b.data() + (size_t)t * kc * ks.nr,
                           c.data() + (size_t)t * ks.nr, ldc, e);
                }
              }
            },
            min_s);
        const double gf = 2.0 * ks.mr * ks.nr * kc * tiles * reps / st.median / 1e9;
        std::printf("| %s | 1 | %.4f | %.4f | %.1f | %.1f | - |\n", name.c_str(), st.best * 1e3,
                    st.median * 1e3, gf, 100.0 * gf / peak);
      }
  }
  set_num_threads(0);
  return 0;
}
