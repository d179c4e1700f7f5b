// Helpers shared by the binding files: numpy buffers in and out.
// The Python layer validates user input (dtype policy, NaN, labels); these checks are the
// last line of defence so that no call can read or write out of bounds.
#pragma once
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <string>
#include <vector>

namespace nncore_py {

namespace py = pybind11;
using farray = py::array_t<float, py::array::c_style | py::array::forcecast>;
using iarray = py::array_t<std::int32_t, py::array::c_style | py::array::forcecast>;
using i64array = py::array_t<std::int64_t, py::array::c_style | py::array::forcecast>;

// A float32 C-contiguous view of `a` (a copy only when needed), checked to be 2-D with `cols`
// columns (cols < 0: any).
inline farray matrix(const py::array& a, const char* name, long cols = -1) {
  farray m = farray::ensure(a);
  if (!m) throw py::value_error(std::string(name) + ": expected a numeric array");
  if (m.ndim() != 2)
    throw py::value_error(std::string(name) + ": expected a 2-D array, got " +
                          std::to_string(m.ndim()) + "-D");
  if (cols >= 0 && m.shape(1) != cols)
    throw py::value_error(std::string(name) + ": expected " + std::to_string(cols) +
                          " columns, got " + std::to_string(m.shape(1)));
  return m;
}

inline farray vector(const py::array& a, const char* name, long len = -1) {
  farray v = farray::ensure(a);
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
