// MC and NC from the cache sizes (see gemm::Blocking in gemm_internal.h).
//
// KC is not derived: it is fixed at kKcMax for every CPU because the K blocking decides where an
// element's FMA chain restarts (gemm_internal.h), i.e. the bits; a CPU-dependent KC would make
// results depend on the machine. MC and NC are free: they only reorder whole tiles.
//
// The model is the usual one for BLIS-style GEMMs (Low et al., "Analytical modeling is enough
// for high-performance BLIS", TOMS 2016), with the fractions calibrated on the machine the
// kernel sets' constants were tuned on (Zen 4: 1 MiB L2, 32 MiB L3 shared by the VM's 2 CPUs),
// so that there they give those constants back:
//   - the packed A block (MC × KC floats) takes 1/8 of L2, the rest holds the B sliver streamed
//     through L1, the C tiles and the next A sliver;
//   - the packed B panel (KC × NC floats) takes 1/8 of this core's share of L3 (sharing CPUs
//     divide it, capped by what a core of the CPU model can own), but no less than L2, as BLIS's
//     Zen/Haswell NC of ~4K columns does: every extra column chunk packs the same A block again.
//     Swept on the quiet VM (MC 64–256 × NC 384–4096,
//     bench/results/history/2026-11-30-night-issue21.md): NC 512 → 2064 took 2048³ from 86 to
//     89 % of peak and bs-2048 dW from 82 to 88 %, flat from 1.5K to 4K columns, other shapes
//     unchanged. On the Xeon (2 MiB L2, L3 share capped at 5 MiB) the L3 rule alone gave 624
//     columns; 1248–3072 took 2048³, the K = 128 dW and dX and the bs-2048 dW up 1.5–3 % on
//     AVX-512 and AVX2, 1 and 2 threads (bench/results/issue33.md#nc-floor);
//   - a whole-K B panel is re-read from L3 instead of repacked up to 1/8 of that share.
//   - the row block's A slivers pass over the packed B panel in groups of columns that fill half
//     of L2 (480 columns of 48 here), so a 2 MB panel is not streamed from L3 once per A sliver.
//     Swept 192-1440 columns on the quiet VM, then 7 interleaved rounds
//     (bench/results/history/2026-12-01-early-issue21.md): 480 took 2048³ from 89.5 to 90.3 % of
//     peak and bs-2048 dW from 87.8 to 89.2 % (AVX-512), 512 took them from 87.7 to 88.6 and 85.8
//     to 87.5 % (AVX2); 288 and 960 and more gained less.
#include <algorithm>
#include <atomic>
#include <cstdlib>

#include "gemm/gemm_internal.h"
#include "nncore/cpu_caches.h"

namespace nncore::gemm {
namespace {

std::atomic<int> g_forced_mc{-1}, g_forced_nc{-1}, g_forced_group{0};

int env_int(const char* name) {
  const char* e = std::getenv(name);
  return e && *e ? std::max(0, std::atoi(e)) : 0;
}

int round_to(long v, int unit) { return (int)std::max<long>(unit, (v + unit / 2) / unit * unit); }
int round_up(int v, int unit) { return (v + unit - 1) / unit * unit; }
int round_down(long v, int unit) { return (int)std::max<long>(unit, v / unit * unit); }

Blocking derive(const KernelSet& ks) {
  const CacheSizes& c = cache_sizes();
  const long kc_bytes = (long)kKcMax * (long)sizeof(float);
  // The share is capped by what one core of this CPU model can own (cpu_caches.h): this Xeon's
  // VM reports 300 MiB of L3 shared by its 2 vCPUs.
  const long l3_share = c.l3 > 0 ? c.l3_per_cpu : 4 * c.l2;
  Blocking b;
  b.mc = round_to(std::clamp(c.l2 / 8 / kc_bytes, 4L * ks.mr, 1024L), ks.mr);
  // At least L2's size: with the L3 share capped (this Xeon: 5 MiB per core, 640 columns) the
  // extra column chunks cost more in A re-packing than the smaller panel saved.
  b.panel_bytes = std::max(l3_share / 8, c.l2);
  b.nc = round_to(std::clamp(b.panel_bytes / kc_bytes, 8L * ks.nr, 4096L), ks.nr);
  b.group_cols = round_down(c.l2 / 2 / kc_bytes, ks.nr);
  b.source = "derived";
  return b;
}

}  // namespace

Blocking blocking(const KernelSet& ks) {
  static const int env_mc = env_int("NNCORE_GEMM_MC"), env_nc = env_int("NNCORE_GEMM_NC");
  Blocking b = derive(ks);
  int mc = g_forced_mc.load(std::memory_order_relaxed);
  int nc = g_forced_nc.load(std::memory_order_relaxed);
  if (mc < 0) mc = env_mc, nc = env_nc;
  if (mc > 0) b.mc = round_up(mc, ks.mr), b.source = "forced";
  if (nc > 0) b.nc = round_up(nc, ks.nr), b.source = "forced";
  // NNCORE_GEMM_COLS_MAX=0 is meaningful (never the narrow kernel): -1 marks "unset".
  static const int env_cols = std::getenv("NNCORE_GEMM_COLS_MAX") ? env_int("NNCORE_GEMM_COLS_MAX")
                                                                  : -1;
  b.cols_max = ks.ukr_cols ? std::min(env_cols >= 0 ? env_cols : ks.cols_max, kColsLimit) : 0;
  static const int env_group = env_int("NNCORE_GEMM_GROUP");
  const int group = g_forced_group.load(std::memory_order_relaxed);
  if (group > 0 || env_group > 0)
    b.group_cols = round_up(group > 0 ? group : env_group, ks.nr), b.source = "forced";
  static const int env_panel_kb = env_int("NNCORE_GEMM_PANEL_KB");
  if (env_panel_kb > 0) b.panel_bytes = (long)env_panel_kb << 10;
  return b;
}

void force_blocking(int mc, int nc, int group_cols) {
  g_forced_mc.store(mc > 0 ? mc : (nc > 0 ? 0 : -1), std::memory_order_relaxed);
  g_forced_nc.store(nc > 0 ? nc : 0, std::memory_order_relaxed);
  g_forced_group.store(group_cols > 0 ? group_cols : 0, std::memory_order_relaxed);
}

}  // namespace nncore::gemm
