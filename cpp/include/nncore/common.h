// Shared small definitions for the nncore core: index type, aligned buffers, error helpers.
// The core reports misuse with C++ exceptions (std::invalid_argument, std::runtime_error);
// the bindings turn them into Python ValueError / RuntimeError.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <new>
#include <stdexcept>
#include <string>
#include <vector>
#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace nncore {

using index_t = std::int64_t;

[[noreturn]] inline void fail(const std::string& msg) { throw std::invalid_argument(msg); }
inline void check(bool ok, const std::string& msg) {
  if (!ok) fail(msg);
}

// 64-byte aligned allocator: one AVX-512 register / one cache line. Buffers of 1 MiB or more
// (weights, gradients, optimizer moments, big activations) are 2 MiB-aligned, rounded up to
// 2 MiB and offered transparent huge pages: every training step streams them, and with 4 KiB
// pages each 4 KiB of a stream costs a TLB walk.
template <class T>
struct AlignedAllocator {
  using value_type = T;
  AlignedAllocator() = default;
  template <class U>
  AlignedAllocator(const AlignedAllocator<U>&) {}
  T* allocate(std::size_t n) {
    constexpr std::size_t kHuge = std::size_t(2) << 20;
    std::size_t bytes = ((n * sizeof(T) + 63) / 64) * 64;
    void* p = nullptr;
    if (bytes >= kHuge / 2) {
      bytes = (bytes + kHuge - 1) / kHuge * kHuge;
      p = std::aligned_alloc(kHuge, bytes);
#ifdef MADV_HUGEPAGE
      if (p) madvise(p, bytes, MADV_HUGEPAGE);  // advice only: failure is harmless
#endif
    } else {
      p = std::aligned_alloc(64, bytes == 0 ? 64 : bytes);
    }
    if (!p) throw std::bad_alloc();
    return static_cast<T*>(p);
  }
  void deallocate(T* p, std::size_t) { std::free(p); }
  template <class U>
  bool operator==(const AlignedAllocator<U>&) const {
    return true;
  }
  template <class U>
  bool operator!=(const AlignedAllocator<U>&) const {
    return false;
  }
};

template <class T>
using aligned_vector = std::vector<T, AlignedAllocator<T>>;
using fvec = aligned_vector<float>;

}  // namespace nncore
