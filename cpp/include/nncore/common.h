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

namespace nncore {

using index_t = std::int64_t;

[[noreturn]] inline void fail(const std::string& msg) { throw std::invalid_argument(msg); }
inline void check(bool ok, const std::string& msg) {
  if (!ok) fail(msg);
}

// 64-byte aligned allocator: one AVX-512 register / one cache line.
template <class T>
struct AlignedAllocator {
  using value_type = T;
  AlignedAllocator() = default;
  template <class U>
  AlignedAllocator(const AlignedAllocator<U>&) {}
  T* allocate(std::size_t n) {
    std::size_t bytes = ((n * sizeof(T) + 63) / 64) * 64;
    void* p = std::aligned_alloc(64, bytes == 0 ? 64 : bytes);
    if (!p) throw std::bad_alloc();
    return static_cast<T*>(p);
  }
  void deallocate(T* p, std::size_t) { std::free(p); }
  template <class U>
  bool operator==(const AlignedAllocator<U>&) const { return true; }
  template <class U>
  bool operator!=(const AlignedAllocator<U>&) const { return false; }
};

template <class T>
using aligned_vector = std::vector<T, AlignedAllocator<T>>;
using fvec = aligned_vector<float>;

}  // namespace nncore
