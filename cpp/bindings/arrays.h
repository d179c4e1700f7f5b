// Helpers shared by the binding files: numpy buffers in and out.
// The Python layer validates user input (dtype policy, NaN, labels); these checks are the
// last line of defence so that no call can read or write out of bounds, overflow the core's
// 32-bit (int) row and width indexing, or ask the allocator for more memory than the machine has.
#pragma once
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <unistd.h>

#include <climits>
#include <cstdio>
#include <cstdint>
#include <string>
#include <vector>

namespace nncore_py {

namespace py = pybind11;
using farray = py::array_t<float, py::array::c_style | py::array::forcecast>;
using iarray = py::array_t<std::int32_t, py::array::c_style | py::array::forcecast>;
using i64array = py::array_t<std::int64_t, py::array::c_style | py::array::forcecast>;

// The core indexes rows, widths and per-call element counts with int.
constexpr long long kMaxIndex = INT_MAX;

// Only real numbers are converted (float, int, uint, bool); object, string, complex, datetime and
// structured arrays are refused instead of being cast (a complex cast would drop the imaginary
// part).
inline void check_numeric(const py::array& a, const char* name) {
  if (!a) throw py::type_error(std::string(name) + ": expected a numeric array");
  const char k = a.dtype().kind();
  if (k != 'f' && k != 'i' && k != 'u' && k != 'b')
    throw py::type_error(std::string(name) +
                         ": expected a numeric array (float, int or bool), got dtype " +
                         std::string(py::str(a.dtype())));
}

// Memory available now (MemAvailable from /proc/meminfo), else physical memory, else 0.
inline double available_memory_bytes() {
  if (FILE* f = std::fopen("/proc/meminfo", "r")) {
    char line[256];
    long long kb = -1;
    while (std::fgets(line, sizeof line, f))
      if (std::sscanf(line, "MemAvailable: %lld kB", &kb) == 1) break;
    std::fclose(f);
    if (kb > 0) return double(kb) * 1024.0;
  }
  long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGE_SIZE);
  return pages > 0 && page > 0 ? double(pages) * double(page) : 0.0;
}

// Raises MemoryError before an allocation of `bytes` that cannot fit in the memory available
// (with overcommit, the allocation itself would succeed and the process be killed later).
// Requests under 1 GiB are not checked: reading /proc/meminfo on every small call costs time.
inline void check_alloc(double bytes, const std::string& what) {
  if (bytes < double(1 << 30)) return;
  const double mem = available_memory_bytes();
  if (mem > 0 && bytes > mem) {
    PyErr_SetString(PyExc_MemoryError,
                    (what + " would need " + std::to_string((long long)(bytes / (1 << 20))) +
                     " MiB, more than the " + std::to_string((long long)(mem / (1 << 20))) +
                     " MiB of memory available")
                        .c_str());
    throw py::error_already_set();
  }
}

// `a` itself when it already is a C-contiguous float32 array (numpy's PyArray_FromAny, behind
// ensure(), costs ~0.2 µs even then: a tenth of a batch-1 predict's overhead), else a converted
// copy (null when it cannot be converted).
inline farray as_farray(const py::array& a) {
  if (a.dtype().is(py::dtype::of<float>()) && (a.flags() & py::array::c_style))
    return py::reinterpret_borrow<farray>(a);
  return farray::ensure(a);
}

// A float32 C-contiguous view of `a` (a copy only when needed), checked to be 2-D with `cols`
// columns (cols < 0: any), each dimension within the core's int indexing.
inline farray matrix(const py::array& a, const char* name, long cols = -1) {
  check_numeric(a, name);
  farray m = as_farray(a);
  if (!m) throw py::value_error(std::string(name) + ": expected a numeric array");
  if (m.ndim() != 2)
    throw py::value_error(std::string(name) + ": expected a 2-D array, got " +
                          std::to_string(m.ndim()) + "-D");
  if (cols >= 0 && m.shape(1) != cols)
    throw py::value_error(std::string(name) + ": expected " + std::to_string(cols) +
                          " columns, got " + std::to_string(m.shape(1)));
  if (m.shape(0) > kMaxIndex || m.shape(1) > kMaxIndex)
    throw py::value_error(std::string(name) + ": shape (" + std::to_string(m.shape(0)) + ", " +
                          std::to_string(m.shape(1)) + ") exceeds the core's limit of " +
                          std::to_string(kMaxIndex) + " rows or columns");
  return m;
}

inline farray vector(const py::array& a, const char* name, long len = -1) {
  check_numeric(a, name);
  farray v = as_farray(a);
  if (!v || v.ndim() != 1) throw py::value_error(std::string(name) + ": expected a 1-D array");
  if (len >= 0 && v.shape(0) != len)
    throw py::value_error(std::string(name) + ": expected length " + std::to_string(len) +
                          ", got " + std::to_string(v.shape(0)));
  return v;
}

// A numpy array that views `n` floats at `data`, kept alive by `owner`.
inline py::array_t<float> view(float* data, std::vector<py::ssize_t> shape, py::handle owner) {
  return py::array_t<float>(shape, data, owner);
}

}  // namespace nncore_py
