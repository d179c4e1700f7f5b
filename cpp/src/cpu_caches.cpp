// Cache size detection for the GEMM blocking (see nncore/cpu_caches.h).
#include "nncore/cpu_caches.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <string>

#if defined(__linux__)
#include <unistd.h>
#endif
#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

namespace nncore {
namespace {

// "48K", "1024K", "32M", "524288" -> bytes; 0 when unparsable.
long parse_size(const std::string& text) {
  std::size_t i = 0;
  while (i < text.size() && std::isspace((unsigned char)text[i])) ++i;
  long v = 0;
  bool digits = false;
  for (; i < text.size() && std::isdigit((unsigned char)text[i]); ++i) {
    v = v * 10 + (text[i] - '0');
    digits = true;
    if (v > (1L << 40)) return 0;
  }
  if (!digits) return 0;
  if (i < text.size()) {
    const char u = (char)std::toupper((unsigned char)text[i]);
    if (u == 'K')
      v <<= 10;
    else if (u == 'M')
      v <<= 20;
    else if (u == 'G')
      v <<= 30;
  }
  return v;
}

std::string read_line(const std::string& path) {
  std::ifstream f(path);
  std::string s;
  if (f) std::getline(f, s);
  return s;
}

// CPUs in a sysfs cpu list such as "0-7,16-23".
int count_cpu_list(const std::string& list) {
  int n = 0;
  std::size_t i = 0;
  while (i < list.size()) {
    const std::size_t comma = list.find(',', i);
    const std::string part = list.substr(i, comma == std::string::npos ? std::string::npos
                                                                       : comma - i);
    const std::size_t dash = part.find('-');
    if (dash == std::string::npos) {
      if (!part.empty()) ++n;
    } else {
      n += std::atoi(part.c_str() + dash + 1) - std::atoi(part.c_str()) + 1;
    }
    if (comma == std::string::npos) break;
    i = comma + 1;
  }
  return n > 0 ? n : 1;
}

void read_sysfs(CacheSizes& c) {
  for (int idx = 0; idx < 8; ++idx) {
    const std::string dir = "/sys/devices/system/cpu/cpu0/cache/index" + std::to_string(idx) + "/";
    const std::string type = read_line(dir + "type");
    if (type.empty()) break;
    if (type == "Instruction") continue;
    const int level = std::atoi(read_line(dir + "level").c_str());
    const long size = parse_size(read_line(dir + "size"));
    if (level == 1) c.l1d = size;
    if (level == 2) c.l2 = size;
    if (level == 3) {
      c.l3 = size;
      c.l3_sharing = count_cpu_list(read_line(dir + "shared_cpu_list"));
    }
  }
}

constexpr long kMiB = 1L << 20;

}  // namespace

long l3_cap_per_core() {
#if defined(__x86_64__) || defined(__i386__)
  unsigned a, b, c, d;
  if (__get_cpuid(0, &a, &b, &c, &d)) {
    const bool intel = b == 0x756e6547 && d == 0x49656e69 && c == 0x6c65746e;  // GenuineIntel
    const bool amd = b == 0x68747541 && d == 0x69746e65 && c == 0x444d4163;    // AuthenticAMD
    __get_cpuid(1, &a, &b, &c, &d);
    const unsigned base = (a >> 8) & 0xf;
    const unsigned family = base == 0xf ? base + ((a >> 20) & 0xff) : base;
    const unsigned model = ((a >> 4) & 0xf) |
                           (base == 6 || base == 0xf ? ((a >> 16) & 0xf) << 4 : 0);
    if (intel && family == 6) {
      if (model == 207) return 5 * kMiB;       // Emerald Rapids: 320 MiB for 64 cores
      if (model == 143) return 15 * kMiB / 8;  // Sapphire Rapids: 1.875 MiB per core
      return 3 * kMiB;  // server parts 1.375-2 MiB per core, client parts up to 3 MiB
    }
    if (amd && family >= 0x19) return 12 * kMiB;  // Zen 3-5: 96 MiB V-Cache CCD of 8 cores
    if (amd && family == 0x17) return 4 * kMiB;   // Zen 1-2: 16 MiB per 4-core CCX
  }
#endif
  return 16 * kMiB;
}

namespace {

CacheSizes detect() {
  CacheSizes c;
  read_sysfs(c);
  c.source = c.l2 > 0 ? "sysfs" : "";
#if defined(__linux__) && defined(_SC_LEVEL2_CACHE_SIZE)
  if (c.l2 <= 0) {
    c.l1d = sysconf(_SC_LEVEL1_DCACHE_SIZE);
    c.l2 = sysconf(_SC_LEVEL2_CACHE_SIZE);
    c.l3 = sysconf(_SC_LEVEL3_CACHE_SIZE);
    if (c.l2 > 0) c.source = "sysconf";
  }
#endif
  if (c.l2 <= 0) {
    c.l1d = 32L << 10;
    c.l2 = 512L << 10;
    c.l3 = 8L << 20;
    c.l3_sharing = 1;
    c.source = "default";
  }
  if (c.l1d <= 0) c.l1d = 32L << 10;
  if (c.l3 < 0) c.l3 = 0;
  if (const char* e = std::getenv("NNCORE_CACHE_L2"); e && parse_size(e) > 0) {
    c.l2 = parse_size(e);
    c.source += "+env";
  }
  const bool l3_env = std::getenv("NNCORE_CACHE_L3") &&
                      parse_size(std::getenv("NNCORE_CACHE_L3")) > 0;
  if (l3_env) {
    c.l3 = parse_size(std::getenv("NNCORE_CACHE_L3"));
    c.l3_sharing = 1;
    if (c.source.find("+env") == std::string::npos) c.source += "+env";
  }
  c.l3_per_cpu = c.l3 / std::max(1, c.l3_sharing);
  c.l3_cap = l3_cap_per_core();
  if (!l3_env && c.l3_per_cpu > c.l3_cap) {
    c.l3_per_cpu = c.l3_cap;
    c.source += "+capped";
  }
  return c;
}

}  // namespace

const CacheSizes& cache_sizes() {
  static const CacheSizes c = detect();
  return c;
}

}  // namespace nncore
