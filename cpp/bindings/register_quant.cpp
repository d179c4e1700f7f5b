// nncore._core.QuantizedNetwork: the int8 inference plan (quant/quantized_network.h) built from
// a Network, its calibration, its layers (for export and save), and the int8 kernel-set switch
// tests and benchmarks use to run each micro-kernel this CPU has.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "arrays.h"
#include "quant/quantized_network.h"

namespace py = pybind11;
using namespace nncore_py;
using nncore::Network;
using nncore::quant::ActQuant;
using nncore::quant::QuantizedNetwork;
using nncore::quant::QuantOptions;

namespace {

QuantOptions options(bool dynamic, bool keep_last_fp32) {
  QuantOptions o;
  o.dynamic = dynamic;
  o.keep_last_fp32 = keep_last_fp32;
  return o;
}

template <class T>
py::array_t<T> copy_array(const std::vector<T>& v, std::vector<py::ssize_t> shape) {
  py::array_t<T> a(shape);
  std::copy(v.begin(), v.end(), a.mutable_data());
  return a;
}

}  // namespace

void register_quant(py::module_& m) {
  m.def(
      "int8_kernels",
      [] {
        std::vector<std::string> names;
        for (const auto* k : nncore::quant::available_kernels()) names.push_back(k->name);
        return names;
      },
      "Names of the int8 GEMM kernel sets this CPU runs, best first.");
  m.def(
      "int8_kernel", [] { return std::string(nncore::quant::kernels().name); },
      "The int8 kernel set in use (the active ISA's, or the one set_int8_kernel forced).");
  m.def("set_int8_kernel", &nncore::quant::force_kernels, py::arg("name"),
        "Force an int8 kernel set by name ('' returns to the active ISA's choice).");
  py::class_<QuantizedNetwork>(m, "QuantizedNetwork")
      .def(py::init([](const Network& net, bool dynamic, bool keep_last_fp32,
                       const std::vector<float>& scales, const std::vector<int>& zero_points) {
             if (scales.size() != zero_points.size())
               throw py::value_error("scales and zero_points differ in length");
             std::vector<ActQuant> act(scales.size());
             for (std::size_t i = 0; i < act.size(); ++i) act[i] = {scales[i], zero_points[i]};
             py::gil_scoped_release nogil;
             return std::make_unique<QuantizedNetwork>(net, options(dynamic, keep_last_fp32), act);
           }),
           py::arg("net"), py::arg("dynamic"), py::arg("keep_last_fp32"), py::arg("scales"),
           py::arg("zero_points"))
      .def_static(
          "calibrate",
          [](const Network& net, const py::array& x, bool dynamic, bool keep_last_fp32) {
            farray xx = matrix(x, "X_calibration", net.input_dim());
            std::vector<ActQuant> act;
            {
              py::gil_scoped_release nogil;
              act = QuantizedNetwork::calibrate(net, options(dynamic, keep_last_fp32), xx.data(),
                                                xx.shape(0));
            }
            std::vector<float> s;
            std::vector<int> z;
            for (const auto& a : act) {
              s.push_back(a.scale);
              z.push_back(a.zero_point);
            }
            return py::make_tuple(s, z);
          },
          py::arg("net"), py::arg("x"), py::arg("dynamic"), py::arg("keep_last_fp32"))
      .def_static(
          "int8_layers",
          [](const Network& net, bool dynamic, bool keep_last_fp32) {
            return QuantizedNetwork::int8_layers(net, options(dynamic, keep_last_fp32));
          },
          py::arg("net"), py::arg("dynamic"), py::arg("keep_last_fp32"))
      .def_property_readonly("input_dim", &QuantizedNetwork::input_dim)
      .def_property_readonly("output_dim", &QuantizedNetwork::output_dim)
      .def("predict",
           [](const QuantizedNetwork& q, const py::array& x) {
             farray xx = matrix(x, "X", q.input_dim());
             const long n = xx.shape(0);
             farray out({n, (long)q.output_dim()});
             {
               py::gil_scoped_release nogil;
               q.predict(xx.data(), n, out.mutable_data());
             }
             return out;
           })
      .def("layers", [](const QuantizedNetwork& q) {
        py::list out;
        for (const auto& L : q.layers()) {
          py::dict d;
          d["in"] = L.in;
          d["out"] = L.out;
          d["int8"] = L.int8;
          d["activation"] = std::string(nncore::act_name(L.act));
          d["alpha"] = L.alpha;
          d["bias"] = copy_array(L.bias, {L.out});
          if (L.int8) {
            d["weight_q"] = copy_array(L.weight_q, {L.out, L.in});
            d["weight_scale"] = copy_array(L.weight_scale, {L.out});
            d["input_scale"] = L.input.scale;
            d["input_zero_point"] = L.input.zero_point;
          } else {
            d["weight"] = copy_array(L.weight, {L.out, L.in});
          }
          out.append(d);
        }
        return out;
      });
}
