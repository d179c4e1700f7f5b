// The pybind11 module nncore._core: one register_* function per family.
#include <pybind11/pybind11.h>

namespace py = pybind11;

void register_config(py::module_& m);
void register_gemm(py::module_& m);
void register_kernels(py::module_& m);
void register_optim(py::module_& m);
void register_network(py::module_& m);
void register_lbfgs(py::module_& m);
void register_infer_rows(py::module_& m);
void register_schema(py::module_& m);
void register_model(py::module_& m);
void register_quant(py::module_& m);

PYBIND11_MODULE(_core, m) {
  m.doc() = "nncore's C++ core";
  register_config(m);
  register_gemm(m);
  register_kernels(m);
  register_optim(m);
  register_network(m);
  register_lbfgs(m);
  register_infer_rows(m);
  register_schema(m);
  register_model(m);
  register_quant(m);
}
