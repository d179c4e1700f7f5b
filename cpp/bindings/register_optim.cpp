// Optimizer objects: made from a name and hyper-parameters, attached to a Network; a standalone
// step over numpy arrays (tests, benchmarks, user loops) and the clipping helpers.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "arrays.h"
#include "step_info.h"
#include "nncore/optim.h"

namespace py = pybind11;
using namespace nncore_py;

namespace {

// A writable float32 C-contiguous array, updated in place (never a copy).
float* inplace(const py::array& a, const char* name, py::ssize_t* n) {
  if (!py::isinstance<py::array_t<float>>(a) || a.dtype().kind() != 'f' || a.itemsize() != 4)
    throw py::value_error(std::string(name) +
                          ": expected a float32 numpy array (updated in "
                          "place)");
  if (!(a.flags() & py::array::c_style))
    throw py::value_error(std::string(name) + ": expected a C-contiguous array");
  if (!a.writeable()) throw py::value_error(std::string(name) + ": the array is read-only");
  *n = a.size();
  return static_cast<float*>(const_cast<void*>(a.data()));
}

}  // namespace

void register_optim(py::module_& m) {
  py::class_<nncore::Optimizer, std::shared_ptr<nncore::Optimizer>>(m, "Optimizer")
      .def_property_readonly("name", &nncore::Optimizer::name)
      .def_property("lr", &nncore::Optimizer::lr, &nncore::Optimizer::set_lr)
      .def_property("steps", &nncore::Optimizer::steps, &nncore::Optimizer::set_steps)
      .def("hparams", &nncore::Optimizer::hparams)
      .def("state_names", &nncore::Optimizer::state_names)
      .def("set_hparam", &nncore::Optimizer::set_hparam, py::arg("name"), py::arg("value"))
      .def("get_state",
           [](nncore::Optimizer& o, const std::string& name) {
             auto& v = o.state(name);
             farray a(py::ssize_t(v.size()));
             std::copy(v.begin(), v.end(), a.mutable_data());
             return a;
           })
      .def("set_state",
           [](nncore::Optimizer& o, const std::string& name, const py::array& a) {
             farray v = vector(a, name.c_str());
             auto& s = o.state(name);
             s.assign(v.data(), v.data() + v.size());
           })
      .def(
          "step",
          [](nncore::Optimizer& o, const py::array& params, const py::array& grads) {
            py::ssize_t n = 0, ng = 0;
            float* p = inplace(params, "params", &n);
            farray g = farray::ensure(grads);
            if (!g) throw py::value_error("grads: expected a numeric array");
            ng = g.size();
            if (ng != n)
              throw py::value_error("grads has " + std::to_string(ng) + " values, params has " +
                                    std::to_string(n));
            nncore::StepInfo s;
            {
              py::gil_scoped_release nogil;
              // step() never writes the gradients (clipping is applied on the fly).
              s = o.step(p, const_cast<float*>(g.data()), std::size_t(n));
            }
            return step_info(s);
          },
          py::arg("params"), py::arg("grads"),
          "One update of `params` (float32, updated in place) from `grads`; returns "
          "{grad_norm, finite, skipped}.");
  m.def("make_optimizer", &nncore::make_optimizer, py::arg("name"), py::arg("hparams"));
  m.def(
      "clip_grad_norm",
      [](const py::array& grads, double max_norm) {
        py::ssize_t n = 0;
        float* g = inplace(grads, "grads", &n);
        py::gil_scoped_release nogil;
        return nncore::clip_grad_norm(g, std::size_t(n), max_norm);
      },
      py::arg("grads"), py::arg("max_norm"),
      "Scales grads in place like torch.nn.utils.clip_grad_norm_; returns the pre-clip norm.");
  m.def(
      "clip_grad_value",
      [](const py::array& grads, double clip_value) {
        py::ssize_t n = 0;
        float* g = inplace(grads, "grads", &n);
        py::gil_scoped_release nogil;
        nncore::clip_grad_value(g, std::size_t(n), clip_value);
      },
      py::arg("grads"), py::arg("clip_value"));
  m.def(
      "grad_norm",
      [](const py::array& grads) {
        farray g = farray::ensure(grads);
        if (!g) throw py::value_error("grads: expected a numeric array");
        py::gil_scoped_release nogil;
        return nncore::grad_norm(g.data(), std::size_t(g.size()));
      },
      py::arg("grads"), "Global L2 norm (deterministic, accumulated in float64).");
}
