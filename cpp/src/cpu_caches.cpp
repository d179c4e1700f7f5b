// Cache size detection for the GEMM blocking (see nncore/cpu_caches.h).
#include "nncore/cpu_caches.h"

#include <cctype>
#include <cstdlib>
#include <fstream>
#include <string>

#if defined(__linux__)
#include <unistd.h>
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
  if (const char* e = std::getenv("NNCORE_CACHE_L3"); e && parse_size(e) > 0) {
    c.l3 = parse_size(e);
    c.l3_sharing = 1;
    if (c.source.find("+env") == std::string::npos) c.source += "+env";
  }
  return c;
}

}  // namespace

const CacheSizes& cache_sizes() {
  static const CacheSizes c = detect();
  return c;
}

}  // namespace nncore
