// The int8 GEMM (quant/igemm.h): every kernel set this CPU runs against the naive twin, on odd
// sizes, saturating inputs and both outputs (u8 and fp32, with and without an activation), over
// 1, 2 and 3 threads: the bits must be identical everywhere, and so must the output range the
// epilogue reports for dynamic quantization.
#include <cstring>
#include <random>

#include "nncore/threading.h"
#include "quant/igemm.h"
#include "testing.h"

using namespace nncore;
using namespace nncore::quant;

namespace {

struct Case {
  int m, n, k;
  bool extreme;  // all activations 255 or 0 and weights ±63: the largest sums
  Act act;
  bool u8_out;
};

void run_case(const Case& cs, std::mt19937& rng) {
  const int k4 = round_up4(cs.k);
  std::uniform_int_distribution<int> au(0, 255), wu(-kWeightMax, kWeightMax), bit(0, 1);
  std::vector<std::uint8_t> a(std::size_t(cs.m) * k4);
  std::vector<std::int8_t> w(std::size_t(cs.n) * cs.k);
  for (int i = 0; i < cs.m; ++i)
    for (int c = 0; c < k4; ++c)
      a[std::size_t(i) * k4 + c] = std::uint8_t(cs.extreme ? (c < cs.k ? 255 * bit(rng) : 7)
                                                           : au(rng));
  for (auto& v : w) v = std::int8_t(cs.extreme ? (bit(rng) ? kWeightMax : -kWeightMax) : wu(rng));
  if (cs.extreme && cs.m > 0)
    for (int c = 0; c < cs.k; ++c) a[c] = 255;  // row 0: every activation at the top
  std::vector<float> scale(std::size_t(cs.n)), bias(std::size_t(cs.n));
  for (int j = 0; j < cs.n; ++j) {
    scale[std::size_t(j)] = 1e-5f * float(1 + j % 13);
    bias[std::size_t(j)] = 0.01f * float(j % 7) - 0.03f;
  }
  PackedS8 pw;
  pw.pack(w.data(), cs.n, cs.k);
  Requant r;
  r.scale = scale.data();
  r.bias = bias.data();
  r.colsum = pw.colsum.data();
  r.a_zp = 37;
  r.act = cs.act;
  r.alpha = 0.01f;
  r.out_scale = 0.02f;
  r.out_zp = 11;
  const std::size_t size = std::size_t(cs.m) * cs.n;
  std::vector<float> fref(size, -1.f), f(size);
  std::vector<std::uint8_t> qref(size, 1), q(size);
  set_num_threads(1);
  force_kernels("scalar 4x64");
  igemm_naive(cs.m, a.data(), k4, w.data(), cs.n, cs.k, r, cs.u8_out ? nullptr : fref.data(), cs.n,
              cs.u8_out ? qref.data() : nullptr, cs.n);
  for (const Kernels* ks : available_kernels()) {
    force_kernels(ks->name);
    for (int nt : {1, 2, 3}) {
      set_num_threads(nt);
      std::fill(f.begin(), f.end(), 7.f);
      std::fill(q.begin(), q.end(), std::uint8_t(3));
      float lohi[2] = {9.f, 9.f};
      igemm(cs.m, a.data(), k4, pw, r, cs.u8_out ? nullptr : f.data(), cs.n,
            cs.u8_out ? q.data() : nullptr, cs.n, lohi);
      bool same = cs.u8_out ? q == qref : std::memcmp(f.data(), fref.data(), size * 4) == 0;
      if (!cs.u8_out) {  // the range the epilogue found, as a pass over the output finds it
        float lo, hi;
        min_max(fref.data(), size, &lo, &hi);
        same = same && std::memcmp(lohi, &lo, 4) == 0 && std::memcmp(lohi + 1, &hi, 4) == 0;
      }
      if (!same)
        std::printf("  %s, %d threads: m %d n %d k %d differs from the naive twin\n", ks->name, nt,
                    cs.m, cs.n, cs.k);
      CHECK(same);
    }
  }
  force_kernels("");
  set_num_threads(0);
}

}  // namespace

TEST(igemm_kernels_match_naive_on_odd_sizes) {
  std::printf("  int8 kernel sets tested here:");
  for (const Kernels* ks : available_kernels()) std::printf(" [%s]", ks->name);
  std::printf("\n");
  std::mt19937 rng(5);
  const int sizes[] = {1, 7, 33, 1000};
  for (int m : sizes)
    for (int n : sizes)
      for (int k : sizes) {
        if (std::int64_t(m) * n * k > 40'000'000) continue;  // 1000³: covered by 1000²·33
        run_case({m, n, k, false, Act::relu, (m + n + k) % 2 == 0}, rng);
      }
}

TEST(igemm_kernels_exact_on_saturating_inputs) {
  std::mt19937 rng(6);
  for (bool u8 : {true, false}) {
    run_case({13, 70, 1000, true, Act::linear, u8}, rng);
    run_case({7, 33, 4001, true, Act::relu, u8}, rng);
    run_case({6, 64, 784, true, Act::tanh, u8}, rng);
  }
}

TEST(igemm_naive_sums_exactly) {
  // one row, one column: acc = Σ a·w = 255·63·1000; y = (acc - zp·colsum)·scale
  std::vector<std::uint8_t> a(1000, 255);
  std::vector<std::int8_t> w(1000, 63);
  const float scale = 1.f;
  const std::int32_t colsum = 63 * 1000;
  Requant r;
  r.scale = &scale;
  r.colsum = &colsum;
  r.a_zp = 5;
  float f = 0.f;
  igemm_naive(1, a.data(), 1000, w.data(), 1, 1000, r, &f, 1, nullptr, 1);
  CHECK(f == float(250 * 63 * 1000));
}

TEST(choose_qparams_matches_dynamic_quantize_linear) {
  float s;
  std::int32_t zp;
  choose_qparams(-1.f, 3.f, &s, &zp);
  CHECK(s == 4.f / 255.f);
  CHECK(zp == 64);                     // nearbyint(63.75)
  choose_qparams(0.5f, 2.f, &s, &zp);  // widened to hold 0
  CHECK(s == 2.f / 255.f && zp == 0);
  choose_qparams(0.f, 0.f, &s, &zp);
  CHECK(s == 1.f && zp == 0);
}
