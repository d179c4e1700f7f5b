// infer_rows: a Network's evaluation outputs for a float64 (or float32) X of any memory layout,
// read once: each chunk of rows is converted to float32 into a buffer that stays in cache,
// checked for NaN/inf on the way, and run through the layers. scikit-learn's predict path, which
// would otherwise sum X for its finiteness check, convert it whole, then read the copy again.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "arrays.h"
#include "nncore/network.h"

namespace py = pybind11;
using namespace nncore_py;

namespace {

// Rows [r0, r0 + m) of X (element strides rs, cs) -> dst (m, d) float32. Returns false when a
// value is NaN or infinite in float32 (v·0 is 0 for every finite v, NaN otherwise).
template <typename T>
bool convert_rows(const T* X, std::int64_t rs, std::int64_t cs, std::int64_t r0, int m, int d,
                  float* dst) {
  float z[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
  for (int r = 0; r < m; ++r) {
    const T* src = X + (r0 + r) * rs;
    float* o = dst + std::size_t(r) * std::size_t(d);
    int j = 0;
    if (cs == 1) {
      for (; j + 16 <= d; j += 16)
        for (int l = 0; l < 16; ++l) {
          const float f = float(src[j + l]);
          o[j + l] = f;
          z[l] += f * 0.f;
        }
    }
    for (; j < d; ++j) {
      const float f = float(src[j * cs]);
      o[j] = f;
      z[0] += f * 0.f;
    }
  }
  float all = 0;
  for (float v : z) all += v;
  return all == 0.f;
}

template <typename T>
bool infer_rows(nncore::Network& net, const py::array& X, float* out) {
  const std::int64_t n = X.shape(0), rs = X.strides(0) / std::int64_t(sizeof(T)),
                     cs = X.strides(1) / std::int64_t(sizeof(T));
  const int d = net.input_dim(), k = net.output_dim();
  const T* base = static_cast<const T*>(X.data());
  // About 1 MiB of float32 rows per chunk: the converted block is still in L2 when the first
  // layer's GEMM packs it.
  const int rows = int(std::clamp<std::int64_t>((std::int64_t(1) << 18) / d, 16, 4096));
  py::gil_scoped_release nogil;
  std::vector<float> buf(std::size_t(std::min<std::int64_t>(rows, n)) * std::size_t(d));
  for (std::int64_t r0 = 0; r0 < n; r0 += rows) {
    const int m = int(std::min<std::int64_t>(rows, n - r0));
    if (!convert_rows(base, rs, cs, r0, m, d, buf.data())) return false;
    net.infer(buf.data(), m, out + r0 * k);
  }
  return true;
}

}  // namespace

void register_infer_rows(py::module_& m) {
  m.def(
      "infer_rows",
      [](nncore::Network& net, const py::array& X) -> py::object {
        if (X.ndim() != 2 || X.shape(1) != net.input_dim())
          throw py::value_error("X: expected a 2-D array with " + std::to_string(net.input_dim()) +
                                " columns");
        // Equivalent types, not the same dtype object (a memmap's or unpickled array's differs).
        const bool f64 = py::isinstance<py::array_t<double>>(X);
        if (!f64 && !py::isinstance<py::array_t<float>>(X))
          throw py::type_error("X: expected float64 or float32");
        if (X.strides(0) % X.itemsize() != 0 || X.strides(1) % X.itemsize() != 0)
          throw py::value_error("X: strides must be multiples of the item size");
        const long n = X.shape(0);
        if (n < 1) throw py::value_error("X: no rows");
        check_alloc(double(n) * net.output_dim() * sizeof(float), "infer_rows output");
        farray out({n, long(net.output_dim())});
        const bool finite = f64 ? infer_rows<double>(net, X, out.mutable_data())
                                : infer_rows<float>(net, X, out.mutable_data());
        if (!finite) return py::none();
        return std::move(out);
      },
      py::arg("net"), py::arg("X"),
      "Evaluation outputs (n, output_dim) float32 of a float64/float32 X of any layout, converted "
      "and checked chunk by chunk; None when X holds a NaN or infinity.");
}
