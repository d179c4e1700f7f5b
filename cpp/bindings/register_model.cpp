// nncore._core.CppModel: the C++ inference API (nncore/model.h) reachable from Python, so the
// tests can replay hostile files through the C++ loader and compare its predictions.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include "arrays.h"
#include "nncore/model.h"

namespace py = pybind11;
using namespace nncore_py;

void register_model(py::module_& m) {
  py::register_exception<nncore::ModelError>(m, "CppModelError", PyExc_ValueError);
  py::class_<nncore::Model>(m, "CppModel")
      .def_static("load",
                  [](const std::string& path) {
                    py::gil_scoped_release nogil;
                    return nncore::Model::load(path);
                  })
      .def_static("from_bytes",
                  [](const py::bytes& b) {
                    std::string s = b;
                    py::gil_scoped_release nogil;
                    return nncore::Model::from_bytes(s.data(), s.size());
                  })
      .def_property_readonly("input_dim", &nncore::Model::input_dim)
      .def_property_readonly("output_dim", &nncore::Model::output_dim)
      .def_property_readonly("loss", &nncore::Model::loss)
      .def("predict", [](const nncore::Model& model, const py::array& x) {
        farray xx = matrix(x, "x", model.input_dim());
        const long n = xx.shape(0);
        farray out({n, (long)model.output_dim()});
        {
          py::gil_scoped_release nogil;
          model.predict(xx.data(), n, out.mutable_data());
        }
        return out;
      });
}
