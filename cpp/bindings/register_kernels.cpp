// Raw kernels for tests against references: activations, losses.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include "arrays.h"
#include "nncore/activations.h"
#include "nncore/losses.h"

namespace py = pybind11;
using namespace nncore_py;

void register_kernels(py::module_& m) {
  m.def("act_forward", [](const std::string& name, const py::array& z, float alpha) {
    farray zz = farray::ensure(z);
    nncore::Act a = nncore::parse_act(name);
    if (std::isnan(alpha)) alpha = nncore::act_default_alpha(a);
    farray y(std::vector<py::ssize_t>(zz.shape(), zz.shape() + zz.ndim()));
    size_t cols = zz.ndim() ? zz.shape(zz.ndim() - 1) : 1;
    nncore::act_forward(a, alpha, zz.data(), y.mutable_data(), zz.size(), cols);
    return y;
  }, py::arg("name"), py::arg("z"), py::arg("alpha") = NAN);
  m.def("act_backward", [](const std::string& name, const py::array& z, const py::array& dy, float alpha) {
    farray zz = farray::ensure(z), g = farray::ensure(dy);
    if (zz.size() != g.size()) throw py::value_error("act_backward: z and dy differ in size");
    nncore::Act a = nncore::parse_act(name);
    if (std::isnan(alpha)) alpha = nncore::act_default_alpha(a);
    std::vector<py::ssize_t> shape(zz.shape(), zz.shape() + zz.ndim());
    farray y(shape), dz(shape);
    size_t cols = zz.ndim() ? zz.shape(zz.ndim() - 1) : 1;
    nncore::act_forward(a, alpha, zz.data(), y.mutable_data(), zz.size(), cols);
    nncore::act_backward(a, alpha, zz.data(), y.data(), g.data(), dz.mutable_data(), zz.size(), cols);
    return dz;
  }, py::arg("name"), py::arg("z"), py::arg("dy"), py::arg("alpha") = NAN);
  m.def("loss", [](const std::string& name, const py::array& pred, const py::array& target,
                   py::object weights, float delta) {
    nncore::Loss l = nncore::parse_loss(name);
    farray p = matrix(pred, "pred");
    int n = int(p.shape(0)), k = int(p.shape(1));
    farray d({n, k});
    farray w;
    if (!weights.is_none()) w = vector(py::cast<py::array>(weights), "sample_weight", n);
    double v;
    if (py::isinstance<py::array_t<std::int32_t>>(target) || py::isinstance<py::array_t<std::int64_t>>(target)) {
      iarray lab = iarray::ensure(target);
      if (lab.ndim() != 1 || lab.shape(0) != n) throw py::value_error("labels: expected shape (n,)");
      for (int i = 0; i < n; ++i)
        if (lab.data()[i] < 0 || lab.data()[i] >= k) throw py::value_error("labels out of range");
      v = nncore::loss_forward_backward(l, p.data(), nullptr, lab.data(), w ? w.data() : nullptr,
                                        d.mutable_data(), n, k, delta);
    } else {
      farray t = matrix(target, "target", k);
      if (t.shape(0) != n) throw py::value_error("target: wrong number of rows");
      v = nncore::loss_forward_backward(l, p.data(), t.data(), nullptr, w ? w.data() : nullptr,
                                        d.mutable_data(), n, k, delta);
    }
    return py::make_tuple(v, d);
  }, py::arg("name"), py::arg("pred"), py::arg("target"), py::arg("sample_weight") = py::none(),
     py::arg("delta") = 1.0f);
}
