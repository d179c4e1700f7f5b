// GEMM entry points for tests and benchmarks.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include "arrays.h"
#include "nncore/gemm.h"

namespace py = pybind11;
using namespace nncore_py;

void register_gemm(py::module_& m) {
  // C = alpha·op(A)·op(B) + beta·C; returns C (a new array when C is None).
  auto gemm = [](bool naive, const py::array& A, const py::array& B, bool ta, bool tb, float alpha,
                 float beta, py::object Cin) {
    farray a = matrix(A, "A"), b = matrix(B, "B");
    long M = ta ? a.shape(1) : a.shape(0), K = ta ? a.shape(0) : a.shape(1);
    long KB = tb ? b.shape(1) : b.shape(0), N = tb ? b.shape(0) : b.shape(1);
    if (K != KB) throw py::value_error("gemm: inner dimensions differ (" + std::to_string(K) +
                                       " vs " + std::to_string(KB) + ")");
    farray c;
    if (Cin.is_none()) {
      c = farray({M, N});
      if (beta != 0.f) throw py::value_error("gemm: beta != 0 needs C");
    } else {
      c = py::cast<farray>(Cin);
      if (c.ndim() != 2 || c.shape(0) != M || c.shape(1) != N)
        throw py::value_error("gemm: C has the wrong shape");
    }
    float* cp = c.mutable_data();
    {
      py::gil_scoped_release nogil;
      auto f = naive ? nncore::sgemm_naive : nncore::sgemm;
      f(ta ? nncore::Trans::T : nncore::Trans::N, tb ? nncore::Trans::T : nncore::Trans::N, int(M),
        int(N), int(K), alpha, a.data(), int(a.shape(1)), b.data(), int(b.shape(1)), beta, cp,
        int(N), nullptr);
    }
    return c;
  };
  m.def("sgemm", [gemm](const py::array& A, const py::array& B, bool ta, bool tb, float alpha,
                        float beta, py::object C) { return gemm(false, A, B, ta, tb, alpha, beta, C); },
        py::arg("A"), py::arg("B"), py::arg("trans_a") = false, py::arg("trans_b") = false,
        py::arg("alpha") = 1.0f, py::arg("beta") = 0.0f, py::arg("C") = py::none());
  m.def("sgemm_naive", [gemm](const py::array& A, const py::array& B, bool ta, bool tb, float alpha,
                              float beta, py::object C) { return gemm(true, A, B, ta, tb, alpha, beta, C); },
        py::arg("A"), py::arg("B"), py::arg("trans_a") = false, py::arg("trans_b") = false,
        py::arg("alpha") = 1.0f, py::arg("beta") = 0.0f, py::arg("C") = py::none());
}
