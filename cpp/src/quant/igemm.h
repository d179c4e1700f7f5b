// The int8 GEMM behind quantized inference: u8 activations × s8 weights -> exact s32 sums, then a
// requantization epilogue (scale, bias, activation, and u8 for the next layer or fp32 out).
// The framework (igemm.cpp) owns blocking and threading; micro-kernels (igemm_ukr_<isa>.cpp) own
// one MR × (16·panels) register tile; the epilogue (requant_impl.inc) is compiled per ISA.
//
// Layouts.
//   A: m rows of u8, row stride lda, K padded to K4 = round_up(K, 4) (pad bytes: any value).
//   B: the weights W (N, K) s8, stored in panels of 16 output columns; panel p holds, for each
//      group q of 4 consecutive k, 16 × 4 bytes: column j's W[16p + j][4q .. 4q+3] at 4j.
//      That is the operand vpdpbusd (x86) and sdot (arm64) read, and it serves every kernel, so
//      weights are packed once whatever ISA runs. Pad columns and pad k are zero. 16 groups of
//      one panel (64 k) are also exactly an AMX B tile (16 rows of 64 bytes, VNNI-4).
//   Weights are limited to [-63, 63] (7 bits): then the AVX2 kernel's vpmaddubsw pair sum,
//   at most 2 · 255 · 63 = 32130, never saturates int16, and every kernel computes the same
//   exact sums (the bits do not depend on the ISA).
// Determinism: integer sums are exact; the epilogue is one fixed sequence of IEEE operations per
// element (-ffp-contract=off); K is never split; so the output is bitwise the same on every ISA
// and thread count.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "nncore/activations.h"
#include "nncore/cpu.h"

namespace nncore::quant {

constexpr int kPanel = 16;      // output columns per packed panel
constexpr int kMaxMr = 32;      // the most rows a micro-kernel takes (AMX: two 16-row tiles)
constexpr int kWeightMax = 63;  // |w| bound of the 7-bit weights (see the header)
constexpr int kMaxK = 1 << 17;
constexpr int kRequantMax = 256;  // the most columns one epilogue call takes   // K bound: |Σ (a -
                                  // zp)·w| ≤ 255·63·K stays below 2^31

inline int round_up4(int k) { return (k + 3) & ~3; }

// W (N, K) s8 row-major in the panel layout above, with each column's sum Σ_k W[j][k] (for the
// zero-point correction and for the arm64 kernel's +128 shift).
struct PackedS8 {
  int K = 0, N = 0, K4 = 0, panels = 0;
  std::vector<std::int8_t> data;     // panels · K4 · 16
  std::vector<std::int32_t> colsum;  // panels · 16 (pad columns 0)
  void pack(const std::int8_t* w, int n, int k);
  std::size_t panel_stride() const { return std::size_t(K4) * kPanel; }
};

// Micro-kernel: c[i][j] = Σ_k a[i][k] · W[j][k] exactly, for i < m (1 ≤ m ≤ the kernel's mr),
// j < 16 · np (1 ≤ np ≤ its max_panels), over all K4 of k (kq = K4 / 4 groups). b points at the
// first panel, the next is panel_stride bytes on. colsum: those columns' sums (the arm64 sdot
// kernel computes Σ (a - 128)·w and adds 128·colsum back; the others ignore it).
using IgemmUkr = void (*)(int m, int kq, const std::uint8_t* a, std::size_t lda,
                          const std::int8_t* b, std::size_t panel_stride, int np,
                          const std::int32_t* colsum, std::int32_t* c, std::size_t ldc);

// What follows the sums, per output element (i, j):
//   y = float(acc - a_zp · colsum[j]) · scale[j] + bias[j]     (scale = a_scale · w_scale[j])
//   y = act(y)
//   u8:   q = saturate_0_255(nearbyint(y / out_scale) + out_zp)   (ONNX QuantizeLinear)
//   fp32: y
struct Requant {
  const float* scale = nullptr;
  const float* bias = nullptr;  // null: none
  const std::int32_t* colsum = nullptr;
  std::int32_t a_zp = 0;
  Act act = Act::linear;
  float alpha = 0.f;
  float out_scale = 1.f;
  std::int32_t out_zp = 0;
};

// One epilogue row: acc[0..n) (n ≤ kRequantMax) are columns j0.. of one output row; writes q[0..n)
// (u8 out) when q is non-null, else f[0..n). Per ISA (requant_impl.inc), the same bits on each.
using RequantRow = void (*)(const std::int32_t* acc, int n, const Requant& r, int j0, float* f,
                            std::uint8_t* q);
// x (m rows of k floats, stride ldx) -> u8 rows (stride ldq) with scale / zero point, as ONNX
// QuantizeLinear; pad bytes k..ldq left alone.
using QuantizeRows = void (*)(const float* x, std::size_t ldx, int m, int k, float scale,
                              std::int32_t zp, std::uint8_t* q, std::size_t ldq);

// Widens [*lo, *hi] to hold every non-NaN value of x[0..n) (a running min / max): the same
// result whatever the order, so a split over threads or lanes changes no bit.
using MinMaxUpdate = void (*)(const float* x, std::size_t n, float* lo, float* hi);

struct Kernels {
  const char* name = nullptr;  // e.g. "avx512-vnni 6x64"
  int mr = 0, max_panels = 0;
  IgemmUkr ukr = nullptr;
  RequantRow requant = nullptr;
  QuantizeRows quantize = nullptr;
  MinMaxUpdate min_max = nullptr;
  void (*finish)() = nullptr;  // called by a thread after its share of an igemm (AMX: tiles off)
};

// The kernel set an ISA's context uses (VNNI / dot product where this CPU has it).
const Kernels& kernels_for(Isa isa);
// The kernel set of the active ISA (isa::active().int8), or the one a test forced.
const Kernels& kernels();
// The kernel sets this CPU and build can run, best first (for tests and benchmarks).
std::vector<const Kernels*> available_kernels();
// Forces the kernel set with this name ("" returns to the ISA's choice); throws
// std::invalid_argument for one not available here.
void force_kernels(const std::string& name);

// out = epilogue(A · Wᵀ) for m rows: u8 rows into q (stride ldq) or fp32 rows into f (ldf).
// Threads split (row tile, column group) pairs; each output element is computed by one thread.
// lohi (fp32 out only, may be null): set to min_max of all the outputs, each row scanned as the
// epilogue writes it (while it is in L1), for the next layer's dynamic quantization.
void igemm(int m, const std::uint8_t* a, std::size_t lda, const PackedS8& w, const Requant& r,
           float* f, std::size_t ldf, std::uint8_t* q, std::size_t ldq, float* lohi = nullptr);
// The naive twin: the same sums with a triple loop and the scalar epilogue (test oracle).
void igemm_naive(int m, const std::uint8_t* a, std::size_t lda, const std::int8_t* w, int n, int k,
                 const Requant& r, float* f, std::size_t ldf, std::uint8_t* q, std::size_t ldq);

// Activation range -> (scale, zero point) as ONNX DynamicQuantizeLinear: the range widened to
// hold 0, scale = (hi - lo) / 255, zp = nearbyint(saturate(-lo / scale)); a zero range gives
// scale 1, zp 0.
void choose_qparams(float lo, float hi, float* scale, std::int32_t* zp);
// Min and max of n floats (NaN ignored), widened to hold 0.
void min_max(const float* x, std::size_t n, float* lo, float* hi);

// Declared per ISA namespace (defined in igemm_ukr_<isa>.cpp and requant_<isa>.cpp).
#define NNCORE_DECLARE_QUANT_EPILOGUE(ns)                                                         \
  namespace ns {                                                                                  \
  void requant_row(const std::int32_t* acc, int n, const Requant& r, int j0, float* f,            \
                   std::uint8_t* q);                                                              \
  void quantize_rows(const float* x, std::size_t ldx, int m, int k, float scale, std::int32_t zp, \
                     std::uint8_t* q, std::size_t ldq);                                           \
  void min_max_update(const float* x, std::size_t n, float* lo, float* hi);                       \
  }
NNCORE_DECLARE_QUANT_EPILOGUE(q_scalar)
#if NNCORE_HAVE_AVX2
NNCORE_DECLARE_QUANT_EPILOGUE(q_avx2)
#endif
#if NNCORE_HAVE_AVX512
NNCORE_DECLARE_QUANT_EPILOGUE(q_avx512)
#endif
#undef NNCORE_DECLARE_QUANT_EPILOGUE

#define NNCORE_DECLARE_UKR(fn)                                                           \
  void fn(int m, int kq, const std::uint8_t* a, std::size_t lda, const std::int8_t* b,   \
          std::size_t panel_stride, int np, const std::int32_t* colsum, std::int32_t* c, \
          std::size_t ldc);
NNCORE_DECLARE_UKR(igemm_ukr_ref)  // mr 4, 4 panels
#if NNCORE_HAVE_AVX2
NNCORE_DECLARE_UKR(igemm_ukr_avx2)     // mr 4, 1 panel: vpmaddubsw + vpmaddwd
NNCORE_DECLARE_UKR(igemm_ukr_avxvnni)  // mr 6, 1 panel: 256-bit vpdpbusd
#endif
#if NNCORE_HAVE_AVX512
NNCORE_DECLARE_UKR(igemm_ukr_avx512vnni)  // mr 6, 4 panels: 512-bit vpdpbusd
NNCORE_DECLARE_UKR(igemm_ukr_amx)         // mr 32, 4 panels: AMX tdpbusd (m <= 6: VNNI)
void igemm_amx_release();                 // _tile_release on this thread if it configured tiles
#endif
#if NNCORE_HAVE_NEON
NNCORE_DECLARE_UKR(igemm_ukr_neon)     // mr 1, 1 panel: widening multiplies
NNCORE_DECLARE_UKR(igemm_ukr_dotprod)  // mr 4, 1 panel: sdot with the +128 shift
#endif
#undef NNCORE_DECLARE_UKR

}  // namespace nncore::quant
