// Kernel tests without Python: Philox known answers (Random123 kat_vectors), batched Philox,
// activation ISA bitwise agreement and a few values, loss label validation, BN and dropout basics.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <utility>
#include <vector>

#include "nncore/activations.h"
#include "nncore/batchnorm.h"
#include "nncore/cpu.h"
#include "nncore/dropout.h"
#include "nncore/losses.h"
#include "nncore/rng.h"
#include "nncore/threading.h"
#include "testing.h"

using namespace nncore;

TEST(philox_known_answers) {
  auto a = philox4x32_10({0, 0, 0, 0}, {0, 0});
  CHECK(a[0] == 0x6627e8d5u && a[1] == 0xe169c58du && a[2] == 0xbc57ac4cu && a[3] == 0x9b00dbd8u);
  auto b = philox4x32_10({0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu},
                         {0xffffffffu, 0xffffffffu});
  CHECK(b[0] == 0x408f276du && b[1] == 0x41c83b0eu && b[2] == 0xa20bc7c6u && b[3] == 0x6d5451fdu);
  auto c = philox4x32_10({0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u},
                         {0xa4093822u, 0x299f31d0u});
  CHECK(c[0] == 0xd16cfe09u && c[1] == 0x94fdccebu && c[2] == 0x5001e420u && c[3] == 0x24126ea1u);
}

TEST(philox_batch_matches_scalar) {
  std::vector<std::uint32_t> out(4 * 21);
  const std::uint64_t start = 0xfffffff0ull;
  philox4x32_10_batch(out.data(), 21, start, 3, 4, {5, 6});
  for (int b = 0; b < 21; ++b) {
    const std::uint64_t ctr = start + b;
    auto r = philox4x32_10({std::uint32_t(ctr), std::uint32_t(ctr >> 32), 3, 4}, {5, 6});
    for (int w = 0; w < 4; ++w) CHECK(out[4 * b + w] == r[w]);
  }
}

TEST(activations_values_and_isa_bitwise) {
  const Isa saved = active_isa();
  std::vector<float> z(1003);
  for (std::size_t i = 0; i < z.size(); ++i) z[i] = -100.f + 0.2f * float(i);
  std::vector<float> base(z.size()), y(z.size()), dz(z.size()), dbase(z.size());
  for (int a = 0; a <= int(Act::silu); ++a) {
    const Act act = Act(a);
    set_active_isa(Isa::scalar);
    act_forward(act, act_default_alpha(act), z.data(), base.data(), z.size());
    act_backward(act, act_default_alpha(act), z.data(), base.data(), z.data(), dbase.data(),
                 z.size());
    for (float v : base) CHECK(std::isfinite(v));
    for (Isa isa : {Isa::avx2, Isa::avx512}) {
      if (!isa_supported(isa)) continue;
      set_active_isa(isa);
      act_forward(act, act_default_alpha(act), z.data(), y.data(), z.size());
      act_backward(act, act_default_alpha(act), z.data(), y.data(), z.data(), dz.data(), z.size());
      CHECK(std::memcmp(y.data(), base.data(), sizeof(float) * y.size()) == 0);
      CHECK(std::memcmp(dz.data(), dbase.data(), sizeof(float) * y.size()) == 0);
    }
  }
  set_active_isa(saved);
  float x[4] = {-100.f, 0.f, 1.f, 100.f}, r[4];
  act_forward(Act::sigmoid, 0, x, r, 4);
  CHECK(r[0] >= 0 && r[0] < 1e-40f && r[1] == 0.5f && r[3] == 1.f);
  CHECK_NEAR(r[2], 0.7310585786300049, 1e-7);
  act_forward(Act::tanh, 0, x, r, 4);
  CHECK(r[0] == -1.f && r[1] == 0.f && r[3] == 1.f);
  CHECK_NEAR(r[2], 0.7615941559557649, 1e-7);
  act_forward(Act::gelu, 0, x, r, 4);
  CHECK_NEAR(r[2], 0.8413447460685429, 1e-7);
  act_forward(Act::softplus, 0, x, r, 4);
  CHECK(r[3] == 100.f);
  CHECK_NEAR(r[1], 0.6931471805599453, 1e-7);
}

TEST(softmax_rows_sum_to_one) {
  float z[6] = {1000.f, 0.f, -1000.f, 1.f, 2.f, 3.f}, y[6];
  act_forward(Act::softmax, 0, z, y, 6, 3);
  CHECK(y[0] == 1.f && y[1] == 0.f);
  CHECK_NEAR(y[3] + y[4] + y[5], 1.0, 1e-6);
}

TEST(loss_rejects_bad_labels) {
  float p[6] = {0, 0, 0, 0, 0, 0}, d[6];
  std::int32_t good[2] = {0, 2}, bad[2] = {0, 3};
  CHECK_NEAR(loss_forward_backward(Loss::cross_entropy, p, nullptr, good, nullptr, d, 2, 3),
             std::log(3.0), 1e-6);
  CHECK_THROWS(loss_forward_backward(Loss::cross_entropy, p, nullptr, bad, nullptr, d, 2, 3));
  CHECK_THROWS(parse_loss("nope"));
}

TEST(batchnorm_normalises_columns) {
  float x[8] = {1, 10, 2, 20, 3, 30, 4, 40}, y[8], mean[2], invstd[2], rm[2] = {0, 0},
        rv[2] = {1, 1};
  bn_forward_train(y, mean, invstd, x, nullptr, nullptr, 4, 2, 1e-5f, 0.1f, rm, rv);
  CHECK_NEAR(mean[0], 2.5, 1e-6);
  CHECK_NEAR(mean[1], 25, 1e-5);
  CHECK_NEAR(y[0] + y[2] + y[4] + y[6], 0, 1e-6);
  CHECK_NEAR(rv[0], 0.9 + 0.1 * (5.0 / 3.0), 1e-6);
}

TEST(dropout_mask_is_stateless) {
  std::vector<float> x(1000, 1.f), y1(1000), y2(1000);
  dropout_apply(y1.data(), x.data(), x.size(), 0.5, 7, 1, 2);
  dropout_apply(y2.data(), x.data(), x.size(), 0.5, 7, 1, 2);
  CHECK(y1 == y2);
  int kept = 0;
  for (float v : y1) kept += v != 0.f;
  CHECK(kept > 400 && kept < 600);
  CHECK_THROWS(dropout_threshold(1.0));
}

TEST(dropout_saved_mask_gives_the_same_bits) {
  // Backward reads the mask forward stored; it must equal regenerating it, on every ISA, for
  // odd sizes (partial words and partial 64-element Philox batches) and on 1 or 2 threads.
  const Isa before = active_isa();
  for (std::size_t n : {1u, 7u, 31u, 33u, 64u, 65u, 1000u, 70001u}) {
    std::vector<float> x(n);
    for (std::size_t i = 0; i < n; ++i) x[i] = 0.25f + float(i % 97) * 0.5f;
    std::vector<float> ref;
    for (Isa isa : {Isa::scalar, Isa::avx2, Isa::avx512}) {
      if (!isa_supported(isa)) continue;
      set_active_isa(isa);
      for (int nt : {1, 2}) {
        set_num_threads(nt);
        std::vector<float> y(n), again(n), from_bits(n);
        std::vector<std::uint32_t> words((n + 31) / 32, 0xFFFFFFFFu);
        dropout_apply(y.data(), x.data(), n, 0.3, 11, 5, 3, words.data());
        dropout_apply(again.data(), x.data(), n, 0.3, 11, 5, 3);
        dropout_apply_bits(from_bits.data(), x.data(), n, 0.3, words.data());
        CHECK(y == again);
        CHECK(from_bits == y);
        std::vector<std::uint8_t> keep(n);
        dropout_mask(keep.data(), n, 0.3, 11, 5, 3);
        bool match = true;
        for (std::size_t i = 0; i < n; ++i) match &= ((words[i / 32] >> (i % 32)) & 1u) == keep[i];
        CHECK(match);
        if (ref.empty()) ref = y;
        CHECK(y == ref);
      }
    }
  }
  set_active_isa(before);
  set_num_threads(0);
}

TEST(batchnorm_same_bits_on_every_isa) {
  // The per-ISA builds only change the vector width: every kernel must give the same bits,
  // for full and partial 64-feature blocks and odd row counts.
  const Isa before = active_isa();
  for (int n : {2, 7, 33}) {
    for (int c : {1, 7, 64, 65, 130}) {
      std::vector<float> x(std::size_t(n) * c), dy(x.size()), gamma(c), beta(c);
      for (std::size_t i = 0; i < x.size(); ++i) {
        x[i] = float(std::sin(0.7 * double(i)) * 3.0 + 1.0);
        dy[i] = float(std::cos(1.3 * double(i)));
      }
      for (int j = 0; j < c; ++j) gamma[j] = 0.5f + 0.01f * j, beta[j] = 0.1f * j;
      std::vector<float> ref;
      for (Isa isa : {Isa::scalar, Isa::avx2, Isa::avx512}) {
        if (!isa_supported(isa)) continue;
        set_active_isa(isa);
        std::vector<float> y(x.size()), mean(c), invstd(c), rm(c, 0.f), rv(c, 1.f), ye(x.size()),
            ie(c), dx(x.size()), dxe(x.size()), dg(c, 0.f), db(c, 0.f);
        bn_forward_train(y.data(), mean.data(), invstd.data(), x.data(), gamma.data(), beta.data(),
                         n, c, 1e-5f, 0.1f, rm.data(), rv.data());
        bn_forward_eval(ye.data(), ie.data(), x.data(), gamma.data(), beta.data(), rm.data(),
                        rv.data(), n, c, 1e-5f);
        bn_backward(dx.data(), dg.data(), db.data(), dy.data(), x.data(), mean.data(),
                    invstd.data(), gamma.data(), n, c, true);
        bn_backward(dxe.data(), nullptr, nullptr, dy.data(), x.data(), rm.data(), ie.data(),
                    gamma.data(), n, c, false);
        std::vector<float> all;
        for (const auto* v : {&y, &mean, &invstd, &rm, &rv, &ye, &dx, &dxe, &dg, &db})
          all.insert(all.end(), v->begin(), v->end());
        if (ref.empty()) ref = all;
        CHECK(std::memcmp(all.data(), ref.data(), sizeof(float) * all.size()) == 0);
      }
    }
  }
  set_active_isa(before);
}

// Inputs of the BatchNorm bit-equality tests: n×c values and gradients of both signs, and an
// affine transform that sends some features below zero (so a fused ReLU masks something).
struct BnInputs {
  std::vector<float> x, dy, gamma, beta;
};
BnInputs bn_inputs(int n, int c) {
  BnInputs in{std::vector<float>(std::size_t(n) * c), std::vector<float>(std::size_t(n) * c),
              std::vector<float>(c), std::vector<float>(c)};
  for (std::size_t i = 0; i < in.x.size(); ++i) {
    in.x[i] = float(std::sin(0.7 * double(i)) * 3.0 + 1.0);
    in.dy[i] = float(std::cos(1.3 * double(i)));
  }
  for (int j = 0; j < c; ++j) in.gamma[j] = 0.5f + 0.01f * j, in.beta[j] = 0.1f * j - 0.3f;
  return in;
}

// Runs f on every ISA this machine has, on 1 and 2 threads; restores the ISA and threads after.
template <class F>
void on_every_isa_and_thread_count(F f) {
  const Isa before = active_isa();
  for (Isa isa : {Isa::scalar, Isa::avx2, Isa::avx512}) {
    if (!isa_supported(isa)) continue;
    set_active_isa(isa);
    for (int nt : {1, 2}) {
      set_num_threads(nt);
      f();
    }
  }
  set_num_threads(0);
  set_active_isa(before);
}

// BatchNorm with a fused ReLU gives the bits of BatchNorm then the ReLU activation kernel, both
// ways, every ISA, 1 and 2 threads, full and partial feature blocks.
TEST(batchnorm_fused_relu_equals_bn_then_relu) {
  for (int n : {2, 7, 33, 300}) {
    for (int c : {1, 7, 64, 65, 130}) {
      const BnInputs in = bn_inputs(n, c);
      const std::vector<float>&x = in.x, &dy = in.dy, &gamma = in.gamma, &beta = in.beta;
      on_every_isa_and_thread_count([&] {
        const std::size_t sz = x.size();
        std::vector<float> y(sz), r(sz), yf(sz), mean(c), invstd(c), rm(c, 0.f), rv(c, 1.f), m2(c),
            i2(c), rm2(c, 0.f), rv2(c, 1.f);
        bn_forward_train(y.data(), mean.data(), invstd.data(), x.data(), gamma.data(), beta.data(),
                         n, c, 1e-5f, 0.1f, rm.data(), rv.data());
        act_forward(Act::relu, 0.f, y.data(), r.data(), sz, c);
        bn_forward_train(yf.data(), m2.data(), i2.data(), x.data(), gamma.data(), beta.data(), n, c,
                         1e-5f, 0.1f, rm2.data(), rv2.data(), /*relu=*/true);
        CHECK(std::memcmp(r.data(), yf.data(), sizeof(float) * sz) == 0);
        CHECK(std::memcmp(rm.data(), rm2.data(), sizeof(float) * c) == 0);
        std::vector<float> ye(sz), re(sz), yef(sz), ie(c);
        bn_forward_eval(ye.data(), ie.data(), x.data(), gamma.data(), beta.data(), rm.data(),
                        rv.data(), n, c, 1e-5f);
        act_forward(Act::relu, 0.f, ye.data(), re.data(), sz, c);
        bn_forward_eval(yef.data(), ie.data(), x.data(), gamma.data(), beta.data(), rm.data(),
                        rv.data(), n, c, 1e-5f, /*relu=*/true);
        CHECK(std::memcmp(re.data(), yef.data(), sizeof(float) * sz) == 0);
        for (bool training : {true, false}) {
          std::vector<float> dz(sz), dx(sz), dxf(sz), dg(c, 0.f), db(c, 0.f), dgf(c, 0.f),
              dbf(c, 0.f);
          act_backward(Act::relu, 0.f, nullptr, r.data(), dy.data(), dz.data(), sz, c);
          bn_backward(dx.data(), dg.data(), db.data(), dz.data(), x.data(), mean.data(),
                      invstd.data(), gamma.data(), n, c, training);
          bn_backward(dxf.data(), dgf.data(), dbf.data(), dy.data(), x.data(), mean.data(),
                      invstd.data(), gamma.data(), n, c, training, r.data());
          CHECK(std::memcmp(dx.data(), dxf.data(), sizeof(float) * sz) == 0);
          CHECK(std::memcmp(dg.data(), dgf.data(), sizeof(float) * c) == 0);
          CHECK(std::memcmp(db.data(), dbf.data(), sizeof(float) * c) == 0);
        }
      });
    }
  }
}

// The row sweep (large batches) and the 64-feature column blocks give the same bits: forward
// (with and without the fused ReLU), backward (batch and fixed statistics, with and without the
// ReLU mask), every ISA, 1 and 2 threads, several 512-feature ranges and partial blocks.
TEST(batchnorm_row_sweep_equals_column_blocks) {
  const int sweep_before = bn_set_row_sweep_rows(1 << 30);
  for (int n : {2, 37, 1031}) {
    for (int c : {7, 64, 130, 600}) {
      const std::size_t sz = std::size_t(n) * c;
      const BnInputs in = bn_inputs(n, c);
      const std::vector<float>&x = in.x, &dy = in.dy, &gamma = in.gamma, &beta = in.beta;
      on_every_isa_and_thread_count([&] {
        std::vector<float> out[2];
        for (int sweep = 0; sweep < 2; ++sweep) {
          bn_set_row_sweep_rows(sweep ? 1 : 1 << 30);
          std::vector<float>& all = out[sweep];
          for (bool relu : {false, true}) {
            std::vector<float> y(sz), mean(c), invstd(c), rm(c, 0.f), rv(c, 1.f);
            bn_forward_train(y.data(), mean.data(), invstd.data(), x.data(), gamma.data(),
                             beta.data(), n, c, 1e-5f, 0.1f, rm.data(), rv.data(), relu);
            for (const auto* v : {&y, &mean, &invstd, &rm, &rv})
              all.insert(all.end(), v->begin(), v->end());
            for (bool training : {true, false}) {
              std::vector<float> dx(sz), dg(c, 0.f), db(c, 0.f);
              bn_backward(dx.data(), dg.data(), db.data(), dy.data(), x.data(), mean.data(),
                          invstd.data(), gamma.data(), n, c, training, relu ? y.data() : nullptr);
              for (const auto* v : {&dx, &dg, &db}) all.insert(all.end(), v->begin(), v->end());
            }
          }
        }
        CHECK(out[0].size() == out[1].size());
        CHECK(std::memcmp(out[0].data(), out[1].data(), sizeof(float) * out[0].size()) == 0);
      });
    }
  }
  bn_set_row_sweep_rows(sweep_before);
}

// The per-ISA span kernels, declared here to reach a counter the public API needs 16 G elements
// for.
#define NNC_TEST_DECLARE_SPAN(ns)                                                               \
  namespace nncore::ns {                                                                        \
  void apply_span(float* y, const float* x, std::size_t i0, std::size_t len, std::uint32_t thr, \
                  float scale, std::uint32_t c2, std::uint32_t c3, std::uint32_t k0,            \
                  std::uint32_t k1, std::uint32_t* bits);                                       \
  }
NNC_TEST_DECLARE_SPAN(dropout_scalar)
#if NNCORE_HAVE_AVX2
NNC_TEST_DECLARE_SPAN(dropout_avx2)
#endif
#if NNCORE_HAVE_AVX512
NNC_TEST_DECLARE_SPAN(dropout_avx512)
#endif

TEST(dropout_philox_counter_carries_into_the_high_word) {
  // Blocks 2^32 - 8 .. 2^32 + 7: the low counter word wraps inside one 16-block batch. Each SIMD
  // Philox must give the portable kernel's words.
  const std::size_t i0 = (std::size_t(1) << 34) - 32, n = 128;
  std::vector<float> x(n, 1.5f), ys(n), yv(n);
  std::vector<std::uint32_t> bs(n / 32), bv(n / 32);
  const std::uint32_t thr = dropout_threshold(0.5);
  dropout_scalar::apply_span(ys.data(), x.data(), i0, n, thr, 2.f, 9, 4, 123, 456, bs.data());
  using SpanFn = decltype(&dropout_scalar::apply_span);
  std::vector<std::pair<Isa, SpanFn>> simd;
#if NNCORE_HAVE_AVX2
  simd.push_back({Isa::avx2, dropout_avx2::apply_span});
#endif
#if NNCORE_HAVE_AVX512
  simd.push_back({Isa::avx512, dropout_avx512::apply_span});
#endif
  int checked = 0;
  for (const auto& [isa, span] : simd) {
    if (!isa_supported(isa)) continue;
    span(yv.data(), x.data(), i0, n, thr, 2.f, 9, 4, 123, 456, bv.data());
    CHECK(ys == yv);
    CHECK(bs == bv);
    ++checked;
  }
  if (!checked) std::printf("  (skipped: no SIMD dropout kernel on this machine)\n");
}
