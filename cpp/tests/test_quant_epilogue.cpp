// The int8 epilogue and input quantizer of every kernel set (requant_row, quantize_rows) against
// a plain reference of ONNX QuantizeLinear (std::nearbyint of the IEEE quotient): ties, values
// at and past the saturation points, NaN, infinities, denormals and random bit patterns, on every
// row length up to a column group, so vectorized bodies and tails are both checked bit for bit.
#include <cmath>
#include <cstring>
#include <limits>
#include <random>

#include "nncore/activations.h"
#include "quant/igemm.h"
#include "testing.h"

using namespace nncore;
using namespace nncore::quant;

namespace {

// ONNX QuantizeLinear to u8, written the obvious way (NaN -> 0).
std::uint8_t ref_u8(float y, float scale, std::int32_t zp) {
  const float v = y / scale;
  if (std::isnan(v)) return 0;
  const float r = std::nearbyint(v) + float(zp);
  return std::uint8_t(r <= 0.f ? 0.f : r >= 255.f ? 255.f : r);
}

float bits_to_float(std::uint32_t b) {
  float f;
  std::memcpy(&f, &b, 4);
  return f;
}

// Inputs that probe every branch of the rounding and saturation for this scale and zero point.
std::vector<float> probe_values(float scale, std::mt19937& rng) {
  std::vector<float> v;
  for (int k = -300; k <= 300; ++k) {
    const float t = float(k) + 0.5f;  // ties before the division, and near-ties after it
    v.push_back(t * scale);
    v.push_back(std::nextafter(t * scale, 1e30f));
    v.push_back(std::nextafter(t * scale, -1e30f));
    v.push_back(float(k) * scale);
  }
  const float inf = std::numeric_limits<float>::infinity();
  for (float x : {0.f, -0.f, inf, -inf, std::numeric_limits<float>::quiet_NaN(), 1e-45f, -1e-45f,
                  1e-38f, 3e38f, -3e38f, 1023.5f, 1024.f, 1024.5f, -1024.5f, 4194303.5f, 8388609.f})
    v.push_back(x);
  std::uniform_int_distribution<std::uint32_t> bits;
  for (int i = 0; i < 20000; ++i) v.push_back(bits_to_float(bits(rng)));
  std::normal_distribution<float> g(0.f, 200.f);
  for (int i = 0; i < 20000; ++i) v.push_back(g(rng) * scale);
  return v;
}

}  // namespace

TEST(quantize_rows_matches_quantize_linear_on_every_kernel_set) {
  std::mt19937 rng(11);
  for (float scale : {0.25f, 1.f, 0.1f, 0.0137f, 3.3f})
    for (std::int32_t zp : {0, 11, 128, 255}) {
      const std::vector<float> x = probe_values(scale, rng);
      std::vector<std::uint8_t> want(x.size());
      for (std::size_t i = 0; i < x.size(); ++i) want[i] = ref_u8(x[i], scale, zp);
      for (const Kernels* ks : available_kernels()) {
        std::vector<std::uint8_t> got(x.size(), 77);
        // rows of odd lengths, so every tail length is hit
        for (std::size_t i0 = 0, len = 1; i0 < x.size(); i0 += len, len = len % 67 + 1) {
          const int k = int(std::min(len, x.size() - i0));
          ks->quantize(x.data() + i0, std::size_t(k), 1, k, scale, zp, got.data() + i0,
                       std::size_t(k));
        }
        const bool same = got == want;
        if (!same) std::printf("  %s: scale %g zp %d differs\n", ks->name, scale, zp);
        CHECK(same);
      }
    }
}

TEST(requant_row_matches_the_formula_on_every_kernel_set) {
  std::mt19937 rng(12);
  std::uniform_int_distribution<std::int32_t> accd(-(1 << 30), 1 << 30), csd(-200000, 200000);
  std::uniform_real_distribution<float> sd(1e-6f, 1e-2f), bd(-3.f, 3.f);
  const int n = kRequantMax;
  std::vector<std::int32_t> acc(n), colsum(2 * n);
  std::vector<float> scale(2 * n), bias(2 * n);
  for (Act act : {Act::relu, Act::linear, Act::gelu})
    for (bool with_bias : {true, false})
      for (bool u8 : {true, false})
        for (int rep = 0; rep < 8; ++rep) {
          for (auto& a : acc) a = rep % 2 ? accd(rng) : accd(rng) >> 14;
          for (auto& c : colsum) c = csd(rng);
          for (auto& s : scale) s = sd(rng);
          for (auto& b : bias) b = bd(rng);
          Requant r;
          r.scale = scale.data();
          r.bias = with_bias ? bias.data() : nullptr;
          r.colsum = colsum.data();
          r.a_zp = rep * 31 % 256;
          r.act = act;
          r.out_scale = rep % 2 ? 0.37f : 0.0113f;
          r.out_zp = rep * 17 % 256;
          const int j0 = rep % 3 == 0 ? 0 : n;  // the group's first column
          std::vector<float> yref(n);
          for (int j = 0; j < n; ++j) {
            float y = float(acc[j] - r.a_zp * colsum[j0 + j]) * scale[j0 + j];
            if (with_bias) y = y + bias[j0 + j];
            if (act == Act::relu) y = y > 0.f ? y : 0.f;
            yref[j] = y;
          }
          if (act == Act::gelu)  // the activation itself is the act kernel's (tested there)
            act_forward(act, 0.f, yref.data(), yref.data(), std::size_t(n));
          for (const Kernels* ks : available_kernels())
            for (int len : {1, 7, 16, 33, 64, 255, 256}) {
              std::vector<float> f(n, 5.f);
              std::vector<std::uint8_t> q(n, 5);
              ks->requant(acc.data(), len, r, j0, u8 ? nullptr : f.data(), u8 ? q.data() : nullptr);
              bool same = true;
              for (int j = 0; j < len; ++j)
                same = same && (u8 ? q[j] == ref_u8(yref[j], r.out_scale, r.out_zp)
                                   : std::memcmp(&f[j], &yref[j], 4) == 0);
              for (int j = len; j < n; ++j) same = same && f[j] == 5.f && q[j] == 5;
              if (!same)
                std::printf("  %s: act %d len %d rep %d differs\n", ks->name, int(act), len, rep);
              CHECK(same);
            }
        }
}

TEST(min_max_update_matches_the_plain_loop_on_every_kernel_set) {
  // the running range of each set against the naive min_max, on every length up to 80 (lanes
  // and tails), with NaN, -0, infinities and random bit patterns mixed in
  std::mt19937 rng(13);
  std::uniform_int_distribution<std::uint32_t> bits;
  std::normal_distribution<float> g(0.f, 3.f);
  const float inf = std::numeric_limits<float>::infinity();
  const float special[] = {std::numeric_limits<float>::quiet_NaN(), -0.f, 0.f, inf, -inf, 1e-45f};
  for (int rep = 0; rep < 40; ++rep)
    for (std::size_t n = 0; n <= 80; ++n) {
      std::vector<float> x(n);
      for (auto& v : x)
        v = rep % 4 == 0   ? bits_to_float(bits(rng))
            : rep % 4 == 1 ? special[bits(rng) % 6]
                           : g(rng);
      if (rep % 4 == 3)  // all of one sign, or all -0
        for (auto& v : x) v = rep % 8 == 3 ? std::fabs(v) : -0.f;
      float lo_ref, hi_ref;
      min_max(x.data(), n, &lo_ref, &hi_ref);
      for (const Kernels* ks : available_kernels()) {
        float lo = 0.f, hi = 0.f;
        ks->min_max(x.data(), n, &lo, &hi);
        const bool same = std::memcmp(&lo, &lo_ref, 4) == 0 && std::memcmp(&hi, &hi_ref, 4) == 0;
        if (!same)
          std::printf("  %s: n %zu rep %d: [%g, %g] vs [%g, %g]\n", ks->name, n, rep, lo, hi,
                      lo_ref, hi_ref);
        CHECK(same);
      }
    }
}
