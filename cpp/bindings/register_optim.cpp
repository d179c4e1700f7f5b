// Optimizer objects: made from a name and hyper-parameters, attached to a Network.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "arrays.h"
#include "nncore/optim.h"

namespace py = pybind11;
using namespace nncore_py;

void register_optim(py::module_& m) {
  py::class_<nncore::Optimizer, std::shared_ptr<nncore::Optimizer>>(m, "Optimizer")
      .def_property_readonly("name", &nncore::Optimizer::name)
      .def_property("lr", &nncore::Optimizer::lr, &nncore::Optimizer::set_lr)
      .def_property("steps", &nncore::Optimizer::steps, &nncore::Optimizer::set_steps)
      .def("hparams", &nncore::Optimizer::hparams)
      .def("state_names", &nncore::Optimizer::state_names)
      .def("get_state", [](nncore::Optimizer& o, const std::string& name) {
        auto& v = o.state(name);
        farray a(py::ssize_t(v.size()));
        std::copy(v.begin(), v.end(), a.mutable_data());
        return a;
      })
      .def("set_state", [](nncore::Optimizer& o, const std::string& name, const py::array& a) {
        farray v = vector(a, name.c_str());
        auto& s = o.state(name);
        s.assign(v.data(), v.data() + v.size());
      });
  m.def("make_optimizer", &nncore::make_optimizer, py::arg("name"), py::arg("hparams"));
}
