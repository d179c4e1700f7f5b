// Bitwise determinism over thread counts {1, 2, 3, 5, 7, 16} (and every ISA the CPU runs): GEMM
// in every layout with shapes whose tiles split unevenly, and whole training runs. Odd counts
// matter: a remainder split that is right for 1 and 2 parts only passes every 1-vs-2 test; 16 is
// a many-core machine's count, where splits that need several slivers or rows per thread change
// shape. OpenMP gives 16 threads on a 2-core machine too (oversubscribed, still a 16-way split).
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "gemm/gemm_internal.h"
#include "nncore/cpu.h"
#include "nncore/gemm.h"
#include "nncore/network.h"
#include "nncore/threading.h"
#include "testing.h"

using namespace nncore;

namespace {

const int kThreads[] = {1, 2, 3, 5, 7, 16};

std::vector<float> noise(std::size_t n, unsigned seed) {
  std::vector<float> v(n);
  std::uint32_t s = seed * 2654435761u + 977u;
  for (auto& x : v) {
    s = s * 1664525u + 1013904223u;
    x = float((s >> 8) & 0xFFFF) / 32768.f - 1.f;
  }
  return v;
}

std::vector<Isa> runnable_isas() {
  std::vector<Isa> out;
  for (Isa i : {Isa::scalar, Isa::avx2, Isa::avx512, Isa::neon})
    if (isa_supported(i)) out.push_back(i);
  return out;
}

struct Restore {
  Isa isa = active_isa();
  ~Restore() {
    set_active_isa(isa);
    set_num_threads(0);
  }
};

// Index of the first differing float (for the failure message), or -1.
long first_diff(const std::vector<float>& a, const std::vector<float>& b) {
  for (std::size_t i = 0; i < a.size() && i < b.size(); ++i)
    if (std::memcmp(&a[i], &b[i], sizeof(float)) != 0) return long(i);
  return a.size() == b.size() ? -1 : long(std::min(a.size(), b.size()));
}

}  // namespace

// Every shape is above the parallel threshold (2^18 multiply-adds), so each thread count really
// splits; M and N of 1, 7, 33, 127 and 1000 leave remainders of every size over 3, 5 and 7 parts.
// C starts as NaN with beta = 0: a row or column block that no thread computes stays NaN.
TEST(gemm_bitwise_over_threads_1_to_16_every_layout) {
  Restore r;
  const int shapes[][3] = {{1, 1000, 300},  {1000, 1, 300}, {7, 1000, 64},  {1000, 7, 64},
                           {33, 1000, 33},  {1000, 33, 33}, {127, 127, 64}, {1000, 127, 17},
                           {127, 1000, 17}, {33, 33, 300},  {7, 127, 300},  {127, 7, 300}};
  for (Isa isa : runnable_isas()) {
    set_active_isa(isa);
    unsigned seed = 1;
    for (auto& s : shapes) {
      const int M = s[0], N = s[1], K = s[2];
      for (int ta = 0; ta < 2; ++ta)
        for (int tb = 0; tb < 2; ++tb, ++seed) {
          const int lda = ta ? M : K, ldb = tb ? K : N;
          auto A = noise(std::size_t(M) * K, seed), B = noise(std::size_t(K) * N, seed + 7);
          auto bias = noise(std::size_t(N), seed + 11);
          Epilogue ep;
          ep.bias = bias.data();
          ep.act = Act::tanh;
          std::vector<float> ref, ref_acc;
          for (int nt : kThreads) {
            set_num_threads(nt);
            std::vector<float> C(std::size_t(M) * N, std::numeric_limits<float>::quiet_NaN());
            sgemm(Trans(ta), Trans(tb), M, N, K, 1.f, A.data(), lda, B.data(), ldb, 0.f, C.data(),
                  N, &ep);
            // beta = 1 accumulates into C (the weight gradient's += path).
            std::vector<float> Cacc = noise(std::size_t(M) * N, seed + 13);
            sgemm(Trans(ta), Trans(tb), M, N, K, 0.5f, A.data(), lda, B.data(), ldb, 1.f,
                  Cacc.data(), N);
            if (nt == 1) {
              ref = C;
              ref_acc = Cacc;
              for (float x : C)
                if (x != x) {
                  CHECK(false);  // 1 thread left an element uncomputed
                  break;
                }
              continue;
            }
            const long d = first_diff(C, ref), da = first_diff(Cacc, ref_acc);
            if (d >= 0 || da >= 0)
              std::printf(
                  "  isa %s M=%d N=%d K=%d ta=%d tb=%d threads=%d: first diff at (%ld, %ld)\n",
                  isa_name(isa), M, N, K, ta, tb, nt, (d >= 0 ? d : da) / N, (d >= 0 ? d : da) % N);
            CHECK(d < 0);
            CHECK(da < 0);
          }
        }
    }
  }
}

// Every odd thread count gets work, and each thread's block is one contiguous range of rows and of
// columns: along a row or a column the owning thread never decreases (an element that no range
// covers reads as thread 0 and breaks the order).
TEST(gemm_thread_of_partitions_every_element_for_odd_counts) {
  Restore r;
  for (Isa isa : runnable_isas()) {
    set_active_isa(isa);
    const auto& ks = gemm::kernel_set(isa);
    for (int nt : {3, 5, 7})
      for (auto how : {GemmSplit::auto_, GemmSplit::rows, GemmSplit::columns}) {
        const int M = 13 * ks.mr + 5, N = 11 * ks.nr + 3, K = 4096;
        std::vector<int> count(nt, 0), prev_in_col(N, 0);
        bool ordered = true;
        for (int i = 0; i < M; ++i) {
          int prev = 0;
          for (int j = 0; j < N; ++j) {
            const int t = sgemm_thread_of(M, N, K, nt, i, j, how);
            CHECK(t >= 0 && t < nt);
            if (t >= 0 && t < nt) ++count[t];
            ordered = ordered && t >= prev && t >= prev_in_col[j];
            prev = prev_in_col[j] = t;
          }
        }
        if (!ordered)
          std::printf("  isa %s threads %d split %d: a block is not contiguous\n", isa_name(isa),
                      nt, int(how));
        CHECK(ordered);
        for (int t = 0; t < nt; ++t) CHECK(count[t] > 0);
      }
  }
}

namespace {

LayerSpec spec(const char* type, std::map<std::string, double> num,
               std::map<std::string, std::string> str = {}) {
  LayerSpec s;
  s.type = type;
  s.num = std::move(num);
  s.str = std::move(str);
  return s;
}

struct RunConfig {
  const char* optimizer;
  std::map<std::string, double> hp;
  Loss loss;
  int batch_size;
};

// Trains a BatchNorm/Dropout/L1/L2 network for 2 shuffled epochs; returns parameters, buffers
// (running statistics) and the epoch losses, all as floats, concatenated.
std::vector<float> train_run(const RunConfig& cfg) {
  const int in = 64, out = 10;
  const std::int64_t N = 150;  // batches of 53: two full ones and one of 44 (of 37: four and 2)
  std::vector<LayerSpec> specs = {
      spec("dense", {{"units", 200}, {"l1", 1e-4}, {"l2", 1e-3}}),
      spec("batchnorm", {{"momentum", 0.1}}),
      spec("activation", {}, {{"activation", "relu"}}),
      spec("dropout", {{"rate", 0.3}}),
      spec("dense", {{"units", 257}, {"l2", 5e-3}}),
      spec("batchnorm", {}),
      spec("activation", {}, {{"activation", "tanh"}}),
      spec("dropout", {{"rate", 0.1}}),
      spec("dense", {{"units", out}, {"l1", 1e-3}}),
  };
  Network net(in, specs, 1234);
  net.set_loss(cfg.loss);
  net.set_optimizer(make_optimizer(cfg.optimizer, cfg.hp));
  auto X = noise(std::size_t(N) * in, 5);
  auto Y = noise(std::size_t(N) * out, 6);
  std::vector<std::int32_t> labels(N);
  for (std::int64_t i = 0; i < N; ++i) labels[i] = std::int32_t((i * 7 + i / 3) % out);
  Targets t;
  if (cfg.loss == Loss::cross_entropy)
    t.labels = labels.data();
  else
    t.values = Y.data();
  std::vector<std::int64_t> order(N);
  std::vector<float> result;
  for (int epoch = 0; epoch < 2; ++epoch) {
    for (std::int64_t i = 0; i < N; ++i) order[i] = (i * 97 + epoch * 31) % N;  // 97 ⟂ 150
    const std::int64_t batches = (N + cfg.batch_size - 1) / cfg.batch_size;
    EpochStats st = net.train_epoch(X.data(), t, N, cfg.batch_size, order.data(), 0, batches);
    result.push_back(float(st.loss_sum));
    result.push_back(float(st.penalty_sum));
  }
  result.insert(result.end(), net.params(), net.params() + net.num_params());
  result.insert(result.end(), net.buffers(), net.buffers() + net.num_buffers());
  return result;
}

void check_training_bitwise(const RunConfig& cfg) {
  Restore r;
  // Say which paths this machine could not compare (an AVX2 runner never runs AVX-512).
  static bool told = false;
  for (Isa isa : {Isa::scalar, Isa::avx2, Isa::avx512, Isa::neon})
    if (!told && !isa_supported(isa) && isa != Isa::neon)
      std::printf("  note: ISA %s is not runnable here; its training bits are not compared\n",
                  isa_name(isa));
  told = true;
  std::vector<float> first;
  std::string first_where;
  for (Isa isa : runnable_isas()) {
    set_active_isa(isa);
    for (int nt : kThreads) {
      set_num_threads(nt);
      auto got = train_run(cfg);
      const std::string where = std::string(isa_name(isa)) + "/" + std::to_string(nt);
      if (first.empty()) {
        first = got;
        first_where = where;
        continue;
      }
      const long d = first_diff(got, first);
      if (d >= 0)
        std::printf("  %s: %s differs from %s at float %ld (%.9g vs %.9g)\n", cfg.optimizer,
                    where.c_str(), first_where.c_str(), d, double(got[d]), double(first[d]));
      CHECK(d < 0);
    }
  }
}

}  // namespace

TEST(network_training_bitwise_over_isas_and_threads_adam) {
  check_training_bitwise({"adam", {{"lr", 3e-3}, {"weight_decay", 1e-2}}, Loss::mse, 53});
}

TEST(network_training_bitwise_over_isas_and_threads_nadam_ce) {
  check_training_bitwise({"nadam", {{"lr", 2e-3}, {"clipnorm", 1.0}}, Loss::cross_entropy, 37});
}
