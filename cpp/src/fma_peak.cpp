// The FMA peak loops, one per vector ISA, compiled for their ISA by function attribute: a
// benchmark utility, so the ISA flags of the kernel files are not needed here.
#include "nncore/fma_peak.h"

#if defined(__x86_64__)
#include <immintrin.h>
#elif defined(__aarch64__)
#include <arm_neon.h>
#endif

#include "nncore/bench_clock.h"

namespace nncore {
namespace {

// 12 chains: more than the FMA latency times the FMA ports of any core nncore targets (4 × 2),
// and with the two operands within AVX2's 16 vector registers (24 spilled there).
constexpr int kChains = 12;
constexpr long kIters = 40000;  // 480k FMAs: ~1 ms at two FMAs per cycle

#if defined(__x86_64__)
__attribute__((target("avx512f"), noinline)) float loop_avx512(long iters) {
  __m512 acc[kChains];
  for (int i = 0; i < kChains; ++i) acc[i] = _mm512_set1_ps(0.01f * i);
  const __m512 a = _mm512_set1_ps(0.999f), b = _mm512_set1_ps(0.001f);
  for (long it = 0; it < iters; ++it)
#pragma GCC unroll 12
    for (int i = 0; i < kChains; ++i) acc[i] = _mm512_fmadd_ps(acc[i], a, b);
  __m512 s = acc[0];
  for (int i = 1; i < kChains; ++i) s = _mm512_add_ps(s, acc[i]);
  alignas(64) float out[16];  // not _mm512_reduce_add_ps: GCC 12 -Wuninitialized misfires on it
  _mm512_store_ps(out, s);
  return out[0] + out[15];
}
__attribute__((target("avx2,fma"), noinline)) float loop_avx2(long iters) {
  __m256 acc[kChains];
  for (int i = 0; i < kChains; ++i) acc[i] = _mm256_set1_ps(0.01f * i);
  const __m256 a = _mm256_set1_ps(0.999f), b = _mm256_set1_ps(0.001f);
  for (long it = 0; it < iters; ++it)
#pragma GCC unroll 12
    for (int i = 0; i < kChains; ++i) acc[i] = _mm256_fmadd_ps(acc[i], a, b);
  __m256 s = acc[0];
  for (int i = 1; i < kChains; ++i) s = _mm256_add_ps(s, acc[i]);
  alignas(32) float out[8];
  _mm256_store_ps(out, s);
  return out[0] + out[7];
}
#elif defined(__aarch64__)
__attribute__((noinline)) float loop_neon(long iters) {
  float32x4_t acc[kChains];
  for (int i = 0; i < kChains; ++i) acc[i] = vdupq_n_f32(0.01f * i);
  const float32x4_t a = vdupq_n_f32(0.999f), b = vdupq_n_f32(0.001f);
  for (long it = 0; it < iters; ++it)
#pragma GCC unroll 12
    for (int i = 0; i < kChains; ++i) acc[i] = vfmaq_f32(b, acc[i], a);
  float32x4_t s = acc[0];
  for (int i = 1; i < kChains; ++i) s = vaddq_f32(s, acc[i]);
  return vaddvq_f32(s);
}
#endif

// One run of the ISA's loop; its lanes per FMA, or 0 when this build or CPU has no such loop.
int run_once(Isa isa, volatile float& sink) {
  if (!isa_supported(isa)) return 0;
#if defined(__x86_64__)
  if (isa == Isa::avx512) {
    sink = sink + loop_avx512(kIters);
    return 16;
  }
  if (isa == Isa::avx2) {
    sink = sink + loop_avx2(kIters);
    return 8;
  }
#elif defined(__aarch64__)
  if (isa == Isa::neon) {
    sink = sink + loop_neon(kIters);
    return 4;
  }
#endif
  return 0;
}

}  // namespace

std::vector<double> fma_peak_samples(Isa isa, int runs) {
  std::vector<double> out;
  volatile float sink = 0;
  const int lanes = run_once(isa, sink);  // also the warm-up run
  if (lanes == 0) return out;
  const double flops = 2.0 * lanes * kChains * double(kIters);
  for (int r = 0; r < runs; ++r) {
    const double t0 = bench_seconds();
    run_once(isa, sink);
    const double dt = bench_seconds() - t0;
    out.push_back(dt > 0 ? flops / dt / 1e9 : 0.0);  // a migration between vCPUs can skew it
  }
  return out;
}

}  // namespace nncore
