// The write watch's SIGSEGV handler and its table of watched ranges (write_watch.h). The handler
// only reads the table and calls mprotect (async-signal-safe); a fault outside every range goes
// to the handler that was installed before (Python's faulthandler, or the default action).
#include "write_watch.h"

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <mutex>

#if defined(__linux__)
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>
#define NNCORE_WRITE_WATCH_OK 1
#else
#define NNCORE_WRITE_WATCH_OK 0
#endif

namespace nncore {

#if NNCORE_WRITE_WATCH_OK
namespace {

// A slot is taken for a watch's whole life and its range never changes while taken, so the
// handler cannot see a range half-written or freed under it.
struct Slot {
  std::atomic<std::uintptr_t> lo{0}, hi{0};
  std::atomic<int> armed{0}, written{0};
};
constexpr int kSlots = 64;
Slot g_slots[kSlots];
std::mutex g_mu;  // guards taking slots and installing the handler
struct sigaction g_prev;

void on_segv(int sig, siginfo_t* info, void* uc) {
  const std::uintptr_t a = reinterpret_cast<std::uintptr_t>(info->si_addr);
  for (Slot& s : g_slots) {
    const std::uintptr_t lo = s.lo.load(std::memory_order_acquire);
    if (lo == 0 || a < lo || a >= s.hi.load(std::memory_order_acquire)) continue;
    // Several threads may fault at once: mprotect is idempotent.
    mprotect(reinterpret_cast<void*>(lo), s.hi.load() - lo, PROT_READ | PROT_WRITE);
    s.written.store(1, std::memory_order_release);
    s.armed.store(0, std::memory_order_release);
    return;  // the faulting write runs again, now allowed
  }
  if (g_prev.sa_flags & SA_SIGINFO) {
    g_prev.sa_sigaction(sig, info, uc);
  } else if (g_prev.sa_handler != SIG_DFL && g_prev.sa_handler != SIG_IGN) {
    g_prev.sa_handler(sig);
  } else {
    sigaction(sig, &g_prev, nullptr);  // the fault repeats under the default action
  }
}

// Installs on_segv unless it is the current handler (someone may have replaced it since, e.g.
// faulthandler.enable(): it then becomes the handler to chain to). Under g_mu.
bool ensure_handler() {
  struct sigaction cur;
  if (sigaction(SIGSEGV, nullptr, &cur) != 0) return false;
  if ((cur.sa_flags & SA_SIGINFO) && cur.sa_sigaction == on_segv) return true;
  struct sigaction sa;
  std::memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_segv;
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
  sigemptyset(&sa.sa_mask);
  g_prev = cur;
  return sigaction(SIGSEGV, &sa, nullptr) == 0;
}

std::uintptr_t page_size() {
  static const std::uintptr_t p = std::uintptr_t(sysconf(_SC_PAGESIZE));
  return p;
}

bool enabled() {
  const char* e = std::getenv("NNCORE_WRITE_WATCH");
  return !(e && std::strcmp(e, "0") == 0);
}

}  // namespace

bool WriteWatch::watch(void* p, std::size_t bytes) {
  if (slot_.load() >= 0 || !p || bytes == 0 || !enabled()) return false;
  const std::uintptr_t lo = reinterpret_cast<std::uintptr_t>(p), ps = page_size();
  if (lo % ps) return false;
  const std::uintptr_t hi = (lo + bytes + ps - 1) / ps * ps;
  std::lock_guard<std::mutex> lock(g_mu);
  for (int i = 0; i < kSlots; ++i) {
    Slot& s = g_slots[i];
    if (s.lo.load() != 0) continue;
    s.hi.store(hi, std::memory_order_release);
    s.armed.store(0);
    s.written.store(0);
    s.lo.store(lo, std::memory_order_release);
    slot_.store(i);
    return true;
  }
  return false;
}

bool WriteWatch::arm() {
  const int slot = slot_.load();
  if (slot < 0) return false;
  Slot& s = g_slots[slot];
  if (s.armed.load(std::memory_order_acquire)) return true;
  {
    std::lock_guard<std::mutex> lock(g_mu);
    if (!ensure_handler()) return false;
  }
  // Armed before the pages turn read-only: a write that faults right after mprotect clears it
  // again, so armed() never claims a protection that a fault has already lifted.
  s.written.store(0, std::memory_order_release);
  s.armed.store(1, std::memory_order_release);
  const std::uintptr_t lo = s.lo.load();
  if (mprotect(reinterpret_cast<void*>(lo), s.hi.load() - lo, PROT_READ) != 0) {
    s.armed.store(0, std::memory_order_release);
    return false;
  }
  return true;
}

void WriteWatch::disarm() {
  const int slot = slot_.load();
  if (slot < 0) return;
  Slot& s = g_slots[slot];
  if (!s.armed.load(std::memory_order_acquire)) return;
  const std::uintptr_t lo = s.lo.load();
  mprotect(reinterpret_cast<void*>(lo), s.hi.load() - lo, PROT_READ | PROT_WRITE);
  s.armed.store(0, std::memory_order_release);
}

bool WriteWatch::armed() const {
  const int slot = slot_.load();
  return slot >= 0 && g_slots[slot].armed.load(std::memory_order_acquire) != 0;
}

bool WriteWatch::take_written() {
  const int slot = slot_.load();
  return slot >= 0 && g_slots[slot].written.exchange(0, std::memory_order_acq_rel) != 0;
}

WriteWatch::~WriteWatch() {
  const int slot = slot_.load();
  if (slot < 0) return;
  disarm();
  std::lock_guard<std::mutex> lock(g_mu);
  g_slots[slot].lo.store(0, std::memory_order_release);
}

#else  // no MMU tricks here: nothing is ever watched

bool WriteWatch::watch(void*, std::size_t) { return false; }
bool WriteWatch::arm() { return false; }
void WriteWatch::disarm() {}
bool WriteWatch::armed() const { return false; }
bool WriteWatch::take_written() { return false; }
WriteWatch::~WriteWatch() = default;

#endif

}  // namespace nncore
