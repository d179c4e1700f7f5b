// nncore._core.CppModel: the C++ inference API (nncore/model.h) reachable from Python, so the
// tests can replay hostile files through the C++ loader and compare its predictions; and the
// loader's validation (check_model_bytes) that nncore.io runs before Python builds anything.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include "arrays.h"
#include "model/model_file.h"
#include "nncore/model.h"

namespace py = pybind11;
using namespace nncore_py;

void register_model(py::module_& m) {
  py::register_exception<nncore::ModelError>(m, "CppModelError", PyExc_ValueError);
  using Limits = nncore::ModelFileLimits;
  m.def("model_file_limits", [] {
    py::dict d;
    d["max_json_depth"] = Limits::max_json_depth;
    d["max_json_nodes"] = Limits::max_json_nodes;
    d["max_header_bytes"] = Limits::max_header_bytes;
    d["max_layers"] = Limits::max_layers;
    d["free_width"] = Limits::free_width;
    d["default_max_file_bytes"] = Limits::default_max_file_bytes;
    return d;
  });
  m.def(
      "check_model_bytes",
      [](const py::bytes& b, const std::string& name) {
        std::string_view s = b;  // no copy: the bytes object outlives the call
        std::uint64_t np = 0, nb = 0;
        {
          py::gil_scoped_release nogil;
          const nncore::CheckedModel c = nncore::check_model_file(
              reinterpret_cast<const std::uint8_t*>(s.data()), s.size(), name);
          np = c.num_params;
          nb = c.num_buffers;
        }
        return py::make_tuple(np, nb);
      },
      py::arg("data"), py::arg("name"));
  py::class_<nncore::Model>(m, "CppModel")
      .def_static(
          "load",
          [](const std::string& path, std::uint64_t max_bytes) {
            py::gil_scoped_release nogil;
            return nncore::Model::load(path, max_bytes);
          },
          py::arg("path"), py::arg("max_bytes") = Limits::default_max_file_bytes)
      .def_static(
          "from_bytes",
          [](const py::bytes& b, const std::string& name) {
            std::string_view s = b;
            py::gil_scoped_release nogil;
            return nncore::Model::from_bytes(s.data(), s.size(), name);
          },
          py::arg("data"), py::arg("name") = "<memory>")
      .def_property_readonly("input_dim", &nncore::Model::input_dim)
      .def_property_readonly("output_dim", &nncore::Model::output_dim)
      .def_property_readonly("loss", &nncore::Model::loss)
      .def_property_readonly("quantized", &nncore::Model::quantized)
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
