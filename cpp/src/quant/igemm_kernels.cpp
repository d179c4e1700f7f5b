// The int8 kernel sets (micro-kernel + epilogue per ISA), which of them this CPU runs, and the
// choice for each ISA context: VNNI where the CPU has it (AVX512-VNNI under avx512, AVX-VNNI
// under avx2), else vpmaddubsw; sdot on arm64 with FEAT_DotProd, else widening multiplies.
// AMX-INT8 tiles come before AVX512-VNNI where the CPU has them and Linux lets this process use
// them (arch_prctl ARCH_REQ_XCOMP_PERM; without that grant a tile instruction faults).
#include <atomic>
#include <stdexcept>

#if defined(__aarch64__) && defined(__linux__)
#include <asm/hwcap.h>
#include <sys/auxv.h>
#endif
#if defined(__GNUC__) && defined(__x86_64__)
#include <cpuid.h>
#endif
#if defined(__x86_64__) && defined(__linux__)
#include <sys/syscall.h>
#include <unistd.h>
#endif

#include "isa/context.h"
#include "quant/igemm.h"

namespace nncore::quant {

namespace {

Kernels make(const char* name, int mr, int np, IgemmUkr ukr, RequantRow rq, QuantizeRows qz,
             MinMaxUpdate mm) {
  Kernels k;
  k.name = name;
  k.mr = mr;
  k.max_panels = np;
  k.ukr = ukr;
  k.requant = rq;
  k.quantize = qz;
  k.min_max = mm;
  return k;
}

const Kernels kRef = make("scalar 4x64", 4, 4, igemm_ukr_ref, q_scalar::requant_row,
                          q_scalar::quantize_rows, q_scalar::min_max_update);
#if NNCORE_HAVE_AVX2
const Kernels kAvx2 = make("avx2 4x16 (vpmaddubsw)", 4, 1, igemm_ukr_avx2, q_avx2::requant_row,
                           q_avx2::quantize_rows, q_avx2::min_max_update);
const Kernels kAvxVnni = make("avx-vnni 6x16", 6, 1, igemm_ukr_avxvnni, q_avx2::requant_row,
                              q_avx2::quantize_rows, q_avx2::min_max_update);
#endif
#if NNCORE_HAVE_AVX512
const Kernels kAvx512Vnni = make("avx512-vnni 6x64", 6, 4, igemm_ukr_avx512vnni,
                                 q_avx512::requant_row, q_avx512::quantize_rows,
                                 q_avx512::min_max_update);
Kernels make_amx() {
  Kernels k = make("amx 32x64", kMaxMr, 4, igemm_ukr_amx, q_avx512::requant_row,
                   q_avx512::quantize_rows, q_avx512::min_max_update);
  k.finish = igemm_amx_release;
  return k;
}
const Kernels kAmx = make_amx();
#endif
#if NNCORE_HAVE_NEON
const Kernels kNeon = make("neon 1x16", 1, 1, igemm_ukr_neon, q_scalar::requant_row,
                           q_scalar::quantize_rows, q_scalar::min_max_update);
const Kernels kDotprod = make("neon-dotprod 4x16", 4, 1, igemm_ukr_dotprod, q_scalar::requant_row,
                              q_scalar::quantize_rows, q_scalar::min_max_update);
#endif

// AMX-TILE + AMX-INT8 in CPUID, the OS saving the tile state (XCR0 bits 17, 18), and Linux's
// per-process permission for the tile data (asked once; other systems: no AMX).
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
bool amx_usable() {
#if defined(__x86_64__) && defined(__linux__)
  static const bool ok = [] {
    unsigned a = 0, b = 0, c = 0, d = 0;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return false;
    if (!(d & (1u << 24)) || !(d & (1u << 25))) return false;
    if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & (1u << 27))) return false;  // OSXSAVE
    unsigned lo = 0, hi = 0;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    if ((lo & (3u << 17)) != (3u << 17)) return false;
    constexpr long kArchReqXcompPerm = 0x1023, kXfeatureXtiledata = 18;
    return syscall(SYS_arch_prctl, kArchReqXcompPerm, kXfeatureXtiledata) == 0;
  }();
  return ok;
#else
  return false;
#endif
}
#endif

bool cpu_has(const char* feature) {
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
  __builtin_cpu_init();
  const std::string f = feature;
  if (f == "avx512vnni") return __builtin_cpu_supports("avx512vnni");
  if (f == "avxvnni") return __builtin_cpu_supports("avxvnni");
  if (f == "amx") return __builtin_cpu_supports("avx512vnni") && amx_usable();
#elif defined(__aarch64__) && defined(__linux__)
  if (std::string(feature) == "dotprod") return (getauxval(AT_HWCAP) & HWCAP_ASIMDDP) != 0;
#endif
  (void)feature;
  return false;
}

std::atomic<const Kernels*> g_forced{nullptr};

}  // namespace

// The set for an ISA's context (isa/context_<isa>.cpp).
const Kernels& kernels_for(Isa isa) {
  switch (isa) {
#if NNCORE_HAVE_AVX512
    case Isa::avx512:
      if (cpu_has("amx")) return kAmx;
      if (cpu_has("avx512vnni")) return kAvx512Vnni;
      [[fallthrough]];
#endif
#if NNCORE_HAVE_AVX2
    case Isa::avx2: return cpu_has("avxvnni") ? kAvxVnni : kAvx2;
#endif
#if NNCORE_HAVE_NEON
    case Isa::neon: return cpu_has("dotprod") ? kDotprod : kNeon;
#endif
    default: return kRef;
  }
}

std::vector<const Kernels*> available_kernels() {
  std::vector<const Kernels*> v;
#if NNCORE_HAVE_AVX512
  if (isa_supported(Isa::avx512) && cpu_has("amx")) v.push_back(&kAmx);
  if (isa_supported(Isa::avx512) && cpu_has("avx512vnni")) v.push_back(&kAvx512Vnni);
#endif
#if NNCORE_HAVE_AVX2
  if (isa_supported(Isa::avx2) && cpu_has("avxvnni")) v.push_back(&kAvxVnni);
  if (isa_supported(Isa::avx2)) v.push_back(&kAvx2);
#endif
#if NNCORE_HAVE_NEON
  if (cpu_has("dotprod")) v.push_back(&kDotprod);
  v.push_back(&kNeon);
#endif
  v.push_back(&kRef);
  return v;
}

void force_kernels(const std::string& name) {
  if (name.empty()) {
    g_forced.store(nullptr);
    return;
  }
  for (const Kernels* k : available_kernels())
    if (name == k->name) {
      g_forced.store(k);
      return;
    }
  throw std::invalid_argument("int8 kernel set '" + name + "' is not available on this CPU");
}

const Kernels& kernels() {
  const Kernels* f = g_forced.load();
  return f ? *f : *isa::active().int8;
}

}  // namespace nncore::quant
