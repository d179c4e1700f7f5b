// SGEMM against its naive twin: every ISA path, layouts, edge shapes, threads, epilogue,
// packed B, and the determinism contract (thread count, M, ISA). Small sizes: runs in < 1 s.
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "gemm/gemm_internal.h"
#include "nncore/cpu.h"
#include "nncore/gemm.h"
#include "nncore/threading.h"
#include "testing.h"

using namespace nncore;

namespace {

std::vector<float> randn(std::size_t n, unsigned seed) {
  std::vector<float> v(n);
  unsigned s = seed * 2654435761u + 12345u;
  for (auto& x : v) {
    s = s * 1664525u + 1013904223u;
    x = float((s >> 8) & 0xFFFF) / 32768.f - 1.f;
  }
  return v;
}

std::vector<Isa> isas() {
  std::vector<Isa> out;
  for (Isa i : {Isa::scalar, Isa::avx2, Isa::avx512, Isa::neon})
    if (isa_supported(i)) out.push_back(i);
  return out;
}

struct IsaGuard {
  Isa before = active_isa();
  ~IsaGuard() {
    set_active_isa(before);
    set_num_threads(0);
  }
};

// Max over elements of |C - naive| / (|alpha|·|A|·|B| + |beta|·|C0|), computed in double.
double rel_err(Trans ta, Trans tb, int M, int N, int K, float alpha, const std::vector<float>& A,
               int lda, const std::vector<float>& B, int ldb, float beta,
               const std::vector<float>& C0, const std::vector<float>& C) {
  double worst = 0;
  for (int i = 0; i < M; ++i)
    for (int j = 0; j < N; ++j) {
      double s = 0, sa = 0;
      for (int k = 0; k < K; ++k) {
        double a = ta == Trans::N ? A[(size_t)i * lda + k] : A[(size_t)k * lda + i];
        double b = tb == Trans::N ? B[(size_t)k * ldb + j] : B[(size_t)j * ldb + k];
        s += a * b;
        sa += std::fabs(a * b);
      }
      double ref = alpha * s, scale = std::fabs(alpha) * sa;
      if (beta != 0.f)
        ref += double(beta) * C0[(size_t)i * N + j],
            scale += std::fabs(beta * C0[(size_t)i * N + j]);
      double c = C[(size_t)i * N + j];
      if (!std::isfinite(c)) return 1e30;
      double e = std::fabs(c - ref) / (scale + 1e-30);
      if (e > worst) worst = e;
    }
  return worst;
}

void one_case(Trans ta, Trans tb, int M, int N, int K, float alpha, float beta, unsigned seed) {
  const int lda = ta == Trans::N ? K : M, ldb = tb == Trans::N ? N : K;
  auto A = randn((size_t)M * K, seed), B = randn((size_t)K * N, seed + 1);
  auto C0 = randn((size_t)M * N, seed + 2);
  std::vector<float> C = C0;
  if (beta == 0.f) std::fill(C.begin(), C.end(), std::numeric_limits<float>::quiet_NaN());
  sgemm(ta, tb, M, N, K, alpha, A.data(), lda, B.data(), ldb, beta, C.data(), N);
  double e = rel_err(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C0, C);
  if (!(e <= 1e-5))
    std::printf("  isa %s M=%d N=%d K=%d ta=%d tb=%d alpha=%g beta=%g: rel err %g\n",
                isa_name(active_isa()), M, N, K, int(ta), int(tb), alpha, beta, e);
  CHECK(e <= 1e-5);
}

}  // namespace

TEST(gemm_matches_reference_all_isas_layouts_threads) {
  IsaGuard g;
  // {300,100,600} and {150,530,300} run the C-resident loop order (several row blocks and K
  // blocks; the second also two column chunks); {520,1024,8} packs a plain B (more rows than
  // the in-place limit and a 4 KB row stride) where the others read it in place.
  const int shapes[][3] = {{1, 1, 1},       {7, 7, 7},     {33, 33, 33},  {100, 100, 100},
                           {9, 97, 300},    {70, 5, 513},  {1, 130, 64},  {300, 100, 600},
                           {150, 530, 300}, {600, 70, 40}, {520, 1024, 8}};
  for (Isa isa : isas()) {
    set_active_isa(isa);
    for (int nt : {1, 2}) {
      set_num_threads(nt);
      unsigned seed = 1;
      for (auto& s : shapes)
        for (int ta = 0; ta < 2; ++ta)
          for (int tb = 0; tb < 2; ++tb) {
            one_case(Trans(ta), Trans(tb), s[0], s[1], s[2], 1.f, 0.f, seed++);
            one_case(Trans(ta), Trans(tb), s[0], s[1], s[2], 0.5f, 1.f, seed++);
            one_case(Trans(ta), Trans(tb), s[0], s[1], s[2], -1.f, 2.f, seed++);
          }
    }
  }
}

TEST(gemm_edge_tiles_every_remainder) {
  IsaGuard g;
  for (Isa isa : isas()) {
    set_active_isa(isa);
    const auto& ks = gemm::kernel_set(isa);
    for (int m = 1; m <= ks.mr + 1; ++m) one_case(Trans::N, Trans::T, m, ks.nr + 5, 3, 1.f, 0.f, m);
    for (int n = 1; n <= ks.nr + 1; ++n) one_case(Trans::T, Trans::N, ks.mr + 3, n, 1, 1.f, 0.f, n);
  }
}

// A plain B read in place must not be read past its last column: put B's last element at the
// end of a page followed by an inaccessible page, for every column remainder of every kernel
// (kernel sets without in_place_b pack B here: the case still holds for them).
TEST(gemm_in_place_b_stays_inside_its_rows) {
  IsaGuard g;
  const long page = sysconf(_SC_PAGESIZE);
  const int M = 9, K = 5;
  for (Isa isa : isas()) {
    set_active_isa(isa);
    for (int N : {1, 7, 15, 17, 33, 47, 49, 50, 95, 100}) {
      const std::size_t bytes = sizeof(float) * K * N, pages = (bytes + page - 1) / page + 1;
      void* mem = mmap(nullptr, pages * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                       -1, 0);
      CHECK(mem != MAP_FAILED);
      if (mem == MAP_FAILED) continue;
      char* guard = static_cast<char*>(mem) + (pages - 1) * page;
      CHECK(mprotect(guard, page, PROT_NONE) == 0);
      float* B = reinterpret_cast<float*>(guard - bytes);
      auto Bv = randn((std::size_t)K * N, N), A = randn((std::size_t)M * K, 7);
      std::memcpy(B, Bv.data(), bytes);
      std::vector<float> C((std::size_t)M * N, std::numeric_limits<float>::quiet_NaN());
      std::vector<float> C0 = C;
      sgemm(Trans::N, Trans::N, M, N, K, 1.f, A.data(), K, B, N, 0.f, C.data(), N);
      CHECK(rel_err(Trans::N, Trans::N, M, N, K, 1.f, A, K, Bv, N, 0.f, C0, C) <= 1e-5);
      munmap(mem, pages * page);
    }
  }
}

TEST(gemm_k_zero_and_empty) {
  float C[6] = {1, 2, 3, 4, 5, 6};
  sgemm(Trans::N, Trans::N, 2, 3, 0, 1.f, nullptr, 1, nullptr, 1, 2.f, C, 3);
  CHECK(C[0] == 2.f && C[5] == 12.f);
  for (float& c : C) c = std::numeric_limits<float>::quiet_NaN();
  sgemm(Trans::N, Trans::N, 2, 3, 0, 1.f, nullptr, 1, nullptr, 1, 0.f, C, 3);
  CHECK(C[0] == 0.f && C[5] == 0.f);
  sgemm(Trans::N, Trans::N, 0, 3, 5, 1.f, nullptr, 5, nullptr, 3, 0.f, nullptr, 3);
  CHECK_THROWS(sgemm(Trans::N, Trans::N, -1, 3, 5, 1.f, nullptr, 5, nullptr, 3, 0.f, nullptr, 3));
}

TEST(gemm_epilogue_matches_naive) {
  IsaGuard g;
  const int M = 13, N = 70, K = 50;
  auto A = randn(M * K, 3), B = randn(N * K, 4), bias = randn(N, 5);
  for (Isa isa : isas()) {
    set_active_isa(isa);
    for (Act act : {Act::relu, Act::gelu, Act::tanh, Act::leaky_relu}) {
      Epilogue ep;
      ep.bias = bias.data();
      ep.act = act;
      ep.alpha = act_default_alpha(act);
      std::vector<float> C(M * N), Z(M * N), Cn(M * N), Zn(M * N);
      ep.preact = Z.data();
      sgemm(Trans::N, Trans::T, M, N, K, 1.f, A.data(), K, B.data(), K, 0.f, C.data(), N, &ep);
      ep.preact = Zn.data();
      sgemm_naive(Trans::N, Trans::T, M, N, K, 1.f, A.data(), K, B.data(), K, 0.f, Cn.data(), N,
                  &ep);
      for (int i = 0; i < M * N; ++i) {
        CHECK_NEAR(Z[i], Zn[i], 1e-5);
        CHECK_NEAR(C[i], Cn[i], 1e-5);
      }
      // The activation is act_forward of the stored pre-activation, exactly.
      std::vector<float> Y(M * N);
      act_forward(act, ep.alpha, Z.data(), Y.data(), Y.size());
      CHECK(std::memcmp(Y.data(), C.data(), sizeof(float) * Y.size()) == 0);
    }
    Epilogue bad;
    bad.act = Act::softmax;
    std::vector<float> C(M * N);
    CHECK_THROWS(
        sgemm(Trans::N, Trans::T, M, N, K, 1.f, A.data(), K, B.data(), K, 0.f, C.data(), N, &bad));
  }
}

// Epilogue::nonfinite: raised by any NaN or ±inf among the finished elements, wherever it lies
// (strip tiles, edge tiles, the narrow-column kernel, a later K block, a second row block or
// column chunk, another thread's share), on every ISA; never raised by a finite product, nor by
// a NaN in C that beta = 0 does not read. K = 0 checks beta·C.
TEST(gemm_epilogue_flags_every_nonfinite_element) {
  IsaGuard g;
  // {8, 100, 64}: 48 + 48 + a 4-column tail; {300, 790, 600}: two row blocks, three K blocks,
  // 16 strip tiles and an edge; {7, 33, 5}: one partial tile.
  const int shapes[][3] = {{8, 100, 64}, {300, 790, 600}, {7, 33, 5}, {64, 2100, 40}};
  for (Isa isa : isas()) {
    set_active_isa(isa);
    for (int nt : {1, 2, 3}) {
      set_num_threads(nt);
      for (auto& s : shapes) {
        const int M = s[0], N = s[1], K = s[2];
        auto A = randn((size_t)K * M, 7), B = randn((size_t)K * N, 8);  // dW = Aᵀ·B, as Dense
        std::vector<float> C((size_t)M * N, std::numeric_limits<float>::quiet_NaN());
        std::atomic<bool> flag{false};
        Epilogue ep;
        ep.nonfinite = &flag;
        sgemm(Trans::T, Trans::N, M, N, K, 1.f, A.data(), M, B.data(), N, 0.f, C.data(), N, &ep);
        CHECK(!flag.load());  // the NaNs beta = 0 overwrote are not seen
        const int positions[][2] = {{0, 0},
                                    {M - 1, N - 1},
                                    {M / 2, N - 1},
                                    {M - 1, 0},
                                    {M / 2, N / 2}};
        for (auto& pos : positions) {
          // Exactly one element goes bad, so a check that skips any row or column misses it.
          // (a) beta = 0: two terms of 3e38 in the last K rows (a later K block must be seen)
          // overflow it, its A column being ones where the rest of those rows is 1e-3.
          auto B2 = B;
          B2[(size_t)(K - 1) * N + pos[1]] = 3e38f;
          B2[(size_t)(K - 2) * N + pos[1]] = 3e38f;
          auto A2 = A;
          for (int k = K - 2; k < K; ++k)
            for (int i = 0; i < M; ++i) A2[(size_t)k * M + i] = i == pos[0] ? 1.f : 1e-3f;
          // (b) beta = 1: C holds one inf or NaN there, the product is finite.
          for (int v = 0; v < 3; ++v) {
            const float* a = v == 0 ? A2.data() : A.data();
            const float* b = v == 0 ? B2.data() : B.data();
            std::vector<float> C1((size_t)M * N, 0.f);
            if (v > 0)
              C1[(size_t)pos[0] * N + pos[1]] = v == 1 ? std::numeric_limits<float>::infinity()
                                                       : std::numeric_limits<float>::quiet_NaN();
            flag = false;
            sgemm(Trans::T, Trans::N, M, N, K, 1.f, a, M, b, N, v == 0 ? 0.f : 1.f, C1.data(), N,
                  &ep);
            int bad = 0;
            for (float c : C1) bad += !std::isfinite(c);
            CHECK(bad == 1 && !std::isfinite(C1[(size_t)pos[0] * N + pos[1]]));
            if (!flag.load())
              std::printf("  isa %s threads %d %dx%dx%d at (%d, %d) case %d: not flagged\n",
                          isa_name(isa), nt, M, N, K, pos[0], pos[1], v);
            CHECK(flag.load());
          }
        }
      }
    }
  }
  std::atomic<bool> flag{false};
  Epilogue ep;
  ep.nonfinite = &flag;
  float C[6] = {1, 2, 3, 4, 5, std::numeric_limits<float>::infinity()};
  sgemm(Trans::N, Trans::N, 2, 3, 0, 1.f, nullptr, 1, nullptr, 1, 0.f, C, 3, &ep);
  CHECK(!flag.load());
  C[5] = std::numeric_limits<float>::infinity();
  sgemm(Trans::N, Trans::N, 2, 3, 0, 1.f, nullptr, 1, nullptr, 1, 1.f, C, 3, &ep);
  CHECK(flag.load());
}

// Epilogue::a_row_sums: each row of op(A) summed in float, k ascending from 0, then added (the
// bias gradient Dense takes from its weight-gradient product), bit for bit what a plain loop gives,
// on every ISA, 1-3 threads and each split: partial slivers, one row (read in place), several K
// blocks, several row blocks and column chunks, both layouts of A, a pre-packed B, K = 0 and N = 0.
TEST(gemm_epilogue_sums_the_rows_of_a) {
  IsaGuard g;
  const int shapes[][3] = {{1, 5, 7},       {7, 33, 1},     {33, 100, 300}, {512, 784, 128},
                           {100, 784, 600}, {130, 10, 520}, {301, 40, 2100}};
  auto reference = [](Trans ta, int M, int K, const float* A, std::vector<float> s) {
    for (int i = 0; i < M; ++i) {
      float acc = 0.f;
      for (int k = 0; k < K; ++k)
        acc += ta == Trans::N ? A[(size_t)i * K + k] : A[(size_t)k * M + i];
      s[(size_t)i] += acc;
    }
    return s;
  };
  for (Isa isa : isas()) {
    set_active_isa(isa);
    for (int nt : {1, 2, 3}) {
      set_num_threads(nt);
      for (auto& sh : shapes) {
        const int M = sh[0], N = sh[1], K = sh[2];
        for (Trans ta : {Trans::N, Trans::T}) {
          const auto A = randn((size_t)M * K, 11), B = randn((size_t)K * N, 12);
          const int lda = ta == Trans::N ? K : M;
          const auto start = randn((size_t)M, 13);
          const auto want = reference(ta, M, K, A.data(), start);
          for (int mode = 0; mode < 4; ++mode) {  // auto, rows, columns, pre-packed B
            const GemmSplit split = mode == 1   ? GemmSplit::rows
                                    : mode == 2 ? GemmSplit::columns
                                                : GemmSplit::auto_;
            std::vector<float> C((size_t)M * N), sums = start;
            Epilogue ep;
            ep.a_row_sums = sums.data();
            if (mode == 3) {
              PackedB P;
              P.pack(Trans::N, K, N, B.data(), N);
              sgemm_packed(ta, M, 1.f, A.data(), lda, P, 0.f, C.data(), N, &ep);
            } else {
              sgemm(ta, Trans::N, M, N, K, 1.f, A.data(), lda, B.data(), N, 0.f, C.data(), N, &ep,
                    split);
            }
            const bool same = std::memcmp(sums.data(), want.data(), sizeof(float) * M) == 0;
            if (!same)
              std::printf("  isa %s threads %d %dx%dx%d ta %d mode %d: row sums differ\n",
                          isa_name(isa), nt, M, N, K, int(ta), mode);
            CHECK(same);
          }
        }
      }
    }
  }
  // Several column chunks (NC forced to 96): only one of them sums the rows.
  set_num_threads(2);
  gemm::force_blocking(0, 96);
  {
    const int M = 40, N = 500, K = 300;
    const auto A = randn((size_t)M * K, 21), B = randn((size_t)K * N, 22);
    std::vector<float> C((size_t)M * N), sums(M, 0.f);
    Epilogue ep;
    ep.a_row_sums = sums.data();
    sgemm(Trans::N, Trans::N, M, N, K, 1.f, A.data(), K, B.data(), N, 0.f, C.data(), N, &ep);
    CHECK(std::memcmp(sums.data(),
                      reference(Trans::N, M, K, A.data(), std::vector<float>(M, 0.f)).data(),
                      sizeof(float) * M) == 0);
  }
  gemm::force_blocking(0, 0);
  // K = 0 adds zeros; N = 0 still sums A's rows.
  float s0[2] = {1.f, -0.f};
  Epilogue ep;
  ep.a_row_sums = s0;
  float C[6] = {};
  sgemm(Trans::N, Trans::N, 2, 3, 0, 1.f, nullptr, 1, nullptr, 1, 0.f, C, 3, &ep);
  CHECK(s0[0] == 1.f && !std::signbit(s0[1]));
  const float A2[6] = {1, 2, 3, 4, 5, 6};
  float s1[2] = {0.f, 0.f};
  ep.a_row_sums = s1;
  sgemm(Trans::N, Trans::N, 2, 0, 3, 1.f, A2, 3, nullptr, 1, 0.f, C, 1, &ep);
  CHECK(s1[0] == 6.f && s1[1] == 15.f);
}

// Every epilogue the micro-kernels specialise (alpha 1 with beta 0 or 1, bias or not, preact or
// not: bench/results/issue33.md#unit-epilogue) and the generic ones (other alpha and beta) give
// the same bits on every ISA: full and edge tiles, one K block (K = 32) and several (K = 300,
// later blocks accumulate with beta = 1), B packed, read in place, and pre-packed.
TEST(gemm_epilogue_variants_same_bits_on_every_isa) {
  IsaGuard g;
  const int shapes[][3] = {{16, 96, 32}, {17, 100, 300}, {8, 48, 64}};
  for (const auto& sh : shapes) {
    const int M = sh[0], N = sh[1], K = sh[2];
    auto A = randn(std::size_t(M) * K, 31), B = randn(std::size_t(N) * K, 32),
         C0 = randn(std::size_t(M) * N, 33), bias = randn(N, 34);
    for (float alpha : {1.f, 0.5f})
      for (float beta : {0.f, 1.f, -0.75f})
        for (bool with_bias : {false, true})
          for (bool with_preact : {false, true})
            for (Act act : {Act::linear, Act::relu}) {
              std::vector<std::vector<float>> first;
              for (Isa isa : isas()) {
                set_active_isa(isa);
                std::vector<std::vector<float>> got;
                for (int path = 0; path < 3; ++path) {
                  std::vector<float> C = C0, Z(C0.size(), 7.f);
                  Epilogue ep;
                  ep.bias = with_bias ? bias.data() : nullptr;
                  ep.act = act;
                  ep.preact = with_preact ? Z.data() : nullptr;
                  if (path == 0) {  // B = Wᵀ (N×K rows): packed inside the call
                    sgemm(Trans::N, Trans::T, M, N, K, alpha, A.data(), K, B.data(), K, beta,
                          C.data(), N, &ep);
                  } else if (path == 1) {  // B (K×N) plain: read in place where the ISA does
                    sgemm(Trans::N, Trans::N, M, N, K, alpha, A.data(), K, B.data(), N, beta,
                          C.data(), N, &ep);
                  } else {
                    PackedB P;
                    P.pack(Trans::T, K, N, B.data(), K);
                    sgemm_packed(Trans::N, M, alpha, A.data(), K, P, beta, C.data(), N, &ep);
                  }
                  got.push_back(C);
                  got.push_back(Z);
                }
                if (first.empty()) first = got;
                for (std::size_t i = 0; i < got.size(); ++i)
                  if (std::memcmp(got[i].data(), first[i].data(), sizeof(float) * got[i].size())) {
                    std::printf(
                        "  isa %s M=%d N=%d K=%d alpha=%g beta=%g bias=%d preact=%d "
                        "act=%d output %zu differs\n",
                        isa_name(isa), M, N, K, alpha, beta, int(with_bias), int(with_preact),
                        int(act), i);
                    CHECK(false);
                  }
              }
            }
  }
}

TEST(gemm_determinism_threads_rows_isas) {
  IsaGuard g;
  const int M = 150, N = 200, K = 600;  // parallel (above the threshold), several K blocks
  auto A = randn(M * K, 7), W = randn(N * K, 8), bias = randn(N, 9);
  Epilogue ep;
  ep.bias = bias.data();
  ep.act = Act::silu;
  std::vector<float> first;
  for (Isa isa : isas()) {
    set_active_isa(isa);
    PackedB P;
    P.pack(Trans::T, K, N, W.data(), K);
    std::vector<float> ref;
    for (int nt : {1, 2}) {
      set_num_threads(nt);
      std::vector<float> C(M * N), Cp(M * N);
      sgemm(Trans::N, Trans::T, M, N, K, 1.f, A.data(), K, W.data(), K, 0.f, C.data(), N, &ep);
      sgemm_packed(Trans::N, M, 1.f, A.data(), K, P, 0.f, Cp.data(), N, &ep);
      CHECK(C == Cp);
      std::vector<float> Cc(M * N);
      sgemm(Trans::N, Trans::T, M, N, K, 1.f, A.data(), K, W.data(), K, 0.f, Cc.data(), N, &ep,
            GemmSplit::columns);
      CHECK(C == Cc);  // the split is placement only
      if (ref.empty()) ref = C;
      CHECK(C == ref);  // 1 vs 2 threads
      for (int i0 : {0, 1, 77, 149})
        for (int m : {1, 2, 3, 4, 5}) {
          if (i0 + m > M) continue;
          std::vector<float> R(m * N);
          sgemm_packed(Trans::N, m, 1.f, A.data() + (size_t)i0 * K, K, P, 0.f, R.data(), N, &ep);
          CHECK(std::memcmp(R.data(), ref.data() + (size_t)i0 * N, sizeof(float) * R.size()) == 0);
        }
    }
    if (first.empty()) first = ref;
    CHECK(ref == first);  // every ISA: the same bits
  }
}

TEST(gemm_thread_of_matches_the_split) {
  IsaGuard g;
  for (Isa isa : isas()) {
    set_active_isa(isa);
    CHECK(sgemm_thread_of(16, 16, 16, 2, 3, 5) == 0);  // below the parallel threshold
    CHECK(sgemm_thread_of(512, 784, 128, 1, 300, 5) == 0);
    for (int nt : {2, 3, 4, 16}) {
      std::vector<int> seen(nt, 0);
      for (int i = 0; i < 512; i += 7)
        for (int j = 0; j < 784; j += 13) {
          int t = sgemm_thread_of(512, 784, 128, nt, i, j);
          CHECK(t >= 0 && t < nt);
          if (t >= 0 && t < nt) seen[t] = 1;
        }
      for (int t = 0; t < nt; ++t) CHECK(seen[t] == 1);  // every thread gets a block
    }
  }
  // A weight gradient (out=512, in=784) on 2 threads is split by rows, near halves: the optimizer
  // and gradient zeroing rely on this to stay on the core that wrote each part. The automatic
  // grid does the same on the x86 kernels; GemmSplit::rows (what Dense asks for) on every ISA.
  for (Isa isa : isas()) {
    set_active_isa(isa);
    for (GemmSplit how : {GemmSplit::auto_, GemmSplit::rows}) {
      if (how == GemmSplit::auto_ && isa == Isa::neon) continue;  // 12-wide tiles split columns
      int boundary = -1;
      for (int i = 0; i < 512; ++i) {
        const int t = sgemm_thread_of(512, 784, 128, 2, i, 0, how);
        for (int j : {1, 400, 783}) CHECK(sgemm_thread_of(512, 784, 128, 2, i, j, how) == t);
        if (t == 1 && boundary < 0) boundary = i;
      }
      CHECK(boundary >= 240 && boundary <= 272);
    }
    // Too few row slivers for whole rows per thread: rows falls back to the automatic grid.
    for (int j : {0, 100, 511})
      CHECK(sgemm_thread_of(10, 512, 512, 2, 3, j, GemmSplit::rows) ==
            sgemm_thread_of(10, 512, 512, 2, 3, j));
  }
}

// The batch-1 GEMV (sgemv_packed): the same bits as sgemm_packed on one row, in either
// direction, on odd sizes (one partial sliver group, several K blocks, K not a multiple of 8),
// on every ISA; and within float32 rounding of the double-accumulating reference.
TEST(gemv_packed_matches_gemm_bits_and_double_reference) {
  IsaGuard g;
  const int sizes[] = {1, 7, 33, 1000};
  for (Isa isa : isas()) {
    set_active_isa(isa);
    for (int K : sizes)
      for (int N : sizes) {
        auto x = randn(K, 11), W = randn(std::size_t(N) * K, 12), bias = randn(N, 13);
        PackedB P;
        P.pack(Trans::T, K, N, W.data(), K);
        for (Act act : {Act::linear, Act::relu, Act::tanh}) {
          Epilogue ep;
          ep.bias = bias.data();
          ep.act = act;
          std::vector<float> ref(N), fwd(N, NAN), rev(N, NAN);
          sgemm_packed(Trans::N, 1, 1.f, x.data(), K, P, 0.f, ref.data(), N, &ep);
          sgemv_packed(x.data(), P, fwd.data(), &ep, false);
          sgemv_packed(x.data(), P, rev.data(), &ep, true);
          CHECK(std::memcmp(fwd.data(), ref.data(), sizeof(float) * N) == 0);
          CHECK(std::memcmp(rev.data(), ref.data(), sizeof(float) * N) == 0);
          if (act != Act::linear) continue;
          for (int j = 0; j < N; ++j) {
            double s = bias[j], sa = std::fabs(bias[j]);
            for (int k = 0; k < K; ++k) {
              s += double(x[k]) * W[std::size_t(j) * K + k];
              sa += std::fabs(double(x[k]) * W[std::size_t(j) * K + k]);
            }
            CHECK(std::fabs(fwd[j] - s) <= 1e-6 * (sa + 1e-30) * (K + 1));
          }
        }
      }
  }
}

// sgemm_xwt (W read in place, Y stored transposed) gives the bits of the packed-W forward, with
// bias, preact and activation, over odd sizes (1, 7, 33 and edge rows/columns of every tile
// width), several K blocks, strided operands, 1-3 threads, and batches of several packed groups.
TEST(xwt_matches_packed_forward_bits) {
  IsaGuard g;
  bool ran = false;
  for (Isa isa : isas()) {
    set_active_isa(isa);
    if (!sgemm_xwt_available()) {
      std::vector<float> y(4);
      CHECK(!sgemm_xwt(1, 2, 2, y.data(), 2, y.data(), 2, y.data(), 2));
      continue;
    }
    ran = true;
    // 200 and 700: tiles split over threads and packed in groups (700 × K 600: four groups)
    const int rows[] = {1, 7, 16, 17, 33, 48, 49, 100, 200, 700};
    const int outs[] = {1, 7, 8, 9, 33, 130};
    const int ins[] = {1, 7, 33, 600};  // 600: three K blocks
    for (int n : rows)
      for (int N : outs)
        for (int K : ins)
          for (int threads : {1, 2, 3}) {
            set_num_threads(threads);
            const int ldx = K + 3, ldw = K + 5, ldy = N + 2;
            auto X = randn(std::size_t(n) * ldx, 21), W = randn(std::size_t(N) * ldw, 22),
                 bias = randn(N, 23);
            for (Act act : {Act::linear, Act::tanh}) {
              Epilogue ep;
              ep.bias = (N + K) % 2 ? bias.data() : nullptr;
              ep.act = act;
              std::vector<float> ref(std::size_t(n) * ldy, 7.f), got(ref), zref(ref), zgot(ref);
              ep.preact = zref.data();
              PackedB P;
              P.pack(Trans::T, K, N, W.data(), ldw);
              sgemm_packed(Trans::N, n, 1.f, X.data(), ldx, P, 0.f, ref.data(), ldy, &ep);
              ep.preact = zgot.data();
              CHECK(sgemm_xwt(n, N, K, X.data(), ldx, W.data(), ldw, got.data(), ldy, &ep));
              CHECK(std::memcmp(ref.data(), got.data(), sizeof(float) * ref.size()) == 0);
              CHECK(std::memcmp(zref.data(), zgot.data(), sizeof(float) * ref.size()) == 0);
            }
          }
  }
  set_num_threads(0);
  (void)ran;
}

// sgemm_xwt_pays picks the widths the packed kernel's tiles fill badly: scikit-learn's 100 units
// at a batch of 200 or a full-batch chunk on AVX-512 (20 on AVX2), never a width its tiles fill
// (512), a narrow output (10: the row-vectorised kernel), a batch under 64 rows or fewer than 256
// inputs; never without the kernel.
TEST(xwt_pays_for_badly_tiled_widths) {
  IsaGuard g;
  for (Isa isa : isas()) {
    set_active_isa(isa);
    if (!sgemm_xwt_available()) {
      CHECK(!sgemm_xwt_pays(256, 100, 784));
      continue;
    }
    if (isa == Isa::avx512) {
      CHECK(sgemm_xwt_pays(256, 100, 784));
      CHECK(sgemm_xwt_pays(200, 100, 784));
      CHECK(sgemm_xwt_pays(4096, 100, 784));
      CHECK(sgemm_xwt_pays(256, 60, 784));
      CHECK(!sgemm_xwt_pays(256, 96, 784));
      CHECK(sgemm_xwt_pays(256, 100, 256));
    } else {
      // AVX2's 16-column tiles fill 100 as 6·16 + 4 (0.90 of its FMAs in 6-unit strips, measured
      // 0.93x at 256 rows: bench_gemm "wide"); 20 = 16 + 4 pays.
      CHECK(isa == Isa::avx2);
      CHECK(!sgemm_xwt_pays(256, 100, 784));
      CHECK(sgemm_xwt_pays(256, 20, 784));
      CHECK(!sgemm_xwt_pays(256, 32, 784));
    }
    CHECK(!sgemm_xwt_pays(256, 512, 784));
    CHECK(!sgemm_xwt_pays(256, 10, 784));
    CHECK(!sgemm_xwt_pays(32, 100, 784));
    CHECK(!sgemm_xwt_pays(4096, 100, 50));
    CHECK(!sgemm_xwt_pays(200, 100, 128));
  }
}
