// Notices writes into a range of memory with the MMU: arm() makes the range read-only, and the
// first write from anywhere (a numpy view, C++) faults; a SIGSEGV handler then makes the range
// writable again, records the write and returns, so the write completes. Costs nothing while
// nothing is written. Leaves out: ranges that do not own whole pages, and non-Linux systems.
#pragma once
#include <atomic>
#include <cstddef>

namespace nncore {

class WriteWatch {
 public:
  WriteWatch() = default;
  WriteWatch(const WriteWatch&) = delete;
  WriteWatch& operator=(const WriteWatch&) = delete;
  ~WriteWatch();  // writable again; the range must outlive the watch
  // Watches [p, p + bytes): p page-aligned, and the allocation must own the pages up to the
  // next page boundary. False (and nothing watched) when that or the system does not allow it,
  // or NNCORE_WRITE_WATCH=0.
  bool watch(void* p, std::size_t bytes);
  bool watching() const { return slot_.load() >= 0; }
  // Read-only from now on (a no-op while already armed); false when not watching.
  bool arm();
  // Writable again, without recording a write.
  void disarm();
  bool armed() const;
  // Whether a write faulted since the last arm(); clears it.
  bool take_written();

 private:
  std::atomic<int> slot_{-1};  // set once by watch(); read by any thread
};

}  // namespace nncore
