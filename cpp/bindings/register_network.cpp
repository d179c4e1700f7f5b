// nncore._core.Network: the layer sequence with its arenas, training and inference calls.
// Every call that does real work releases the GIL.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <cmath>
#include <optional>

#include "arrays.h"
#include "loss_options.h"
#include "step_info.h"
#include "nncore/network.h"
#include "nncore/schema.h"

namespace py = pybind11;
using namespace nncore_py;
using nncore::Network;

namespace {

nncore::LayerSpec to_spec(const py::dict& d) {
  nncore::LayerSpec s;
  // The type first, so every message below can name the layer ("Dropout: rate ...").
  std::string kind = d.contains("type") ? std::string(py::str(d["type"])) : std::string("layer");
  for (const auto& k : nncore::schema::layers())
    if (k.type == kind) kind = k.title;
  for (auto item : d) {
    std::string key = py::str(item.first);
    py::handle v = item.second;
    if (key == "type") {
      s.type = py::str(v);
    } else if (v.is_none()) {
      continue;
    } else if (key == "layers" && (py::isinstance<py::list>(v) || py::isinstance<py::tuple>(v))) {
      // a block's layers (Residual), each a spec dict of its own
      std::size_t j = 0;
      for (auto c : v) {
        if (!py::isinstance<py::dict>(c))
          throw py::type_error(kind + ": layers[" + std::to_string(j) +
                               "] must be a layer spec (a dict), got " +
                               std::string(py::str(py::type::of(c).attr("__name__"))));
        s.children.push_back(to_spec(py::reinterpret_borrow<py::dict>(c)));
        ++j;
      }
      if (s.children.empty()) throw py::value_error(kind + ": a block needs at least one layer");
    } else if (py::isinstance<py::str>(v)) {
      s.str[key] = py::str(v);
    } else if (py::isinstance<py::bool_>(v) || py::isinstance<py::int_>(v) ||
               py::isinstance<py::float_>(v)) {
      // hardening: huge ints and non-finite numbers are refused here, naming the key.
      double x = PyFloat_AsDouble(v.ptr());
      if (x == -1.0 && PyErr_Occurred()) {
        PyErr_Clear();
        throw py::value_error(kind + ": " + key + " is out of range");
      }
      if (!std::isfinite(x) || std::fabs(x) > 3.0e38)
        throw py::value_error(kind + ": " + key + " must be a finite number, got " +
                              std::string(py::str(v)));
      s.num[key] = x;
    } else if (py::isinstance<py::list>(v) || py::isinstance<py::tuple>(v)) {
      // Column indices and table sizes (the embedding's lists): integers, checked by the schema.
      std::vector<double>& out = s.list[key];
      for (auto e : v) {
        if (!(py::isinstance<py::int_>(e) || py::isinstance<py::float_>(e)) ||
            py::isinstance<py::bool_>(e))
          throw py::value_error(kind + ": " + key + " must be a list of integers, got " +
                                std::string(py::repr(v)));
        const double x = PyFloat_AsDouble(e.ptr());
        if (x == -1.0 && PyErr_Occurred()) {
          PyErr_Clear();
          throw py::value_error(kind + ": " + key + " is out of range");
        }
        out.push_back(x);
      }
    } else {
      throw py::value_error("layer spec '" + key + "': expected a number, a string or a list");
    }
  }
  if (s.type.empty()) throw py::value_error("layer spec without a 'type'");
  return s;
}

// hardening: sizes checked before the core allocates anything. The layers say their sizes
// (Network::make_layers allocates nothing): every tensor must stay within the core's int
// indexing, and parameters, gradients and (up to) two optimizer states must fit in memory.
void check_specs(long long input_dim, const std::vector<nncore::LayerSpec>& specs) {
  if (input_dim < 1 || input_dim > kMaxIndex)
    throw py::value_error("input_dim must be an integer in [1, 2**31-1], got " +
                          std::to_string(input_dim));
  const auto layers = Network::make_layers(int(input_dim), specs);
  double params = 0;
  for (std::size_t i = 0; i < layers.size(); ++i) {
    for (const auto& t : layers[i]->params()) {
      const double size = double(t.size());
      if (size > double(kMaxIndex))
        throw py::value_error("layer " + std::to_string(i) + " (" +
                              nncore::schema::layer(specs[i].type).title + "): " + t.name + " (" +
                              std::to_string(layers[i]->out_dim()) + " units x " +
                              std::to_string(layers[i]->in_dim()) +
                              " inputs) exceeds the core's limit of 2**31-1 values per tensor");
      params += size;
    }
  }
  check_alloc(params * sizeof(float) * 4,
              "layers: a network with " + std::to_string((long long)params) + " parameters");
}

// hardening: a call on n rows needs n x (widest layer) within int indexing, and its workspace
// (as the network sizes it) must fit.
void check_batch(const Network& net, long long n, const char* name) {
  const long long widest = net.widest();
  if (double(n) * double(widest) > double(kMaxIndex))
    throw py::value_error(std::string(name) + ": " + std::to_string(n) + " rows x widest layer " +
                          std::to_string(widest) +
                          " exceeds the core's limit of 2**31-1 elements per call; use smaller "
                          "batches");
  check_alloc(net.workspace_bytes_for(n),
              std::string(name) + ": a batch of " + std::to_string(n) + " rows");
}

// Holds the arrays a Targets struct points into, for the duration of a call.
struct HeldTargets {
  farray values, weights;
  iarray labels;
  nncore::Targets t;
};

HeldTargets targets(const py::array& y, const py::object& w, long n, long k) {
  HeldTargets h;
  if (y.dtype().kind() == 'i' || y.dtype().kind() == 'u') {
    if (y.ndim() != 1 || y.shape(0) != n)
      throw py::value_error("y: expected integer labels of shape (" + std::to_string(n) + ",)");
    // hardening: range-check at 64 bits before narrowing, so 2**32 + 1 cannot wrap to 1.
    i64array wide = i64array::ensure(y);
    if (!wide) throw py::value_error("y: expected integer labels");
    const std::int64_t* q = wide.data();
    for (long i = 0; i < n; ++i)
      if (q[i] < 0 || q[i] >= k)
        throw py::value_error("y: label " + std::to_string(q[i]) + " at row " + std::to_string(i) +
                              " is outside [0, " + std::to_string(k) + ")");
    h.labels = iarray::ensure(wide);
    h.t.labels = h.labels.data();
  } else {
    py::array yy = y;
    if (y.ndim() == 1 && k == 1) yy = py::array(y).reshape({n, 1L});
    h.values = matrix(yy, "y", k);
    if (h.values.shape(0) != n)
      throw py::value_error("y: expected " + std::to_string(n) + " rows, got " +
                            std::to_string(h.values.shape(0)));
    h.t.values = h.values.data();
  }
  if (!w.is_none()) {
    h.weights = vector(py::array::ensure(w), "sample_weight", n);
    h.t.weights = h.weights.data();
  }
  return h;
}

}  // namespace

void def_block_passes(py::class_<Network>& cls);  // network_blocks.cpp

void register_network(py::module_& m) {
  py::class_<Network>(m, "Network")
      .def(py::init([](int input_dim, const py::list& specs, std::uint64_t seed, bool init) {
             std::vector<nncore::LayerSpec> s;
             for (auto d : specs) s.push_back(to_spec(py::cast<py::dict>(d)));
             check_specs(input_dim, s);
             // init=False: arenas left zero, for a loader that copies a file's values in
             return std::make_unique<Network>(input_dim, s, seed, init);
           }),
           py::arg("input_dim"), py::arg("layers"), py::arg("seed") = 0, py::arg("init") = true)
      .def_property_readonly("input_dim", &Network::input_dim)
      .def_property_readonly("output_dim", &Network::output_dim)
      .def_property_readonly("num_params", &Network::num_params)
      .def_property_readonly("seed", &Network::seed)
      .def_property("step", &Network::step, &Network::set_step)
      .def_property_readonly("workspace_bytes", &Network::workspace_bytes)
      .def("layer_info",
           [](const Network& net) {
             py::list out;
             for (size_t i = 0; i < net.num_layers(); ++i) {
               const auto& L = net.layer(i);
               out.append(py::make_tuple(L.type(), L.in_dim(), L.out_dim()));
             }
             return out;
           })
      .def("param_views",
           [](const Network& net) {
             py::list out;
             for (const auto& v : net.param_views())
               out.append(py::make_tuple(v.name, v.shape, v.offset, v.layer));
             return out;
           })
      .def("buffer_views",
           [](const Network& net) {
             py::list out;
             for (const auto& v : net.buffer_views())
               out.append(py::make_tuple(v.name, v.shape, v.offset, v.layer));
             return out;
           })
      // Writable views of the arenas; they keep the Network alive.
      .def("params_array",
           [](py::object self) {
             Network& net = py::cast<Network&>(self);
             return view(net.params(), {py::ssize_t(net.num_params())}, self);
           })
      .def("grads_array",
           [](py::object self) {
             Network& net = py::cast<Network&>(self);
             return view(net.grads(), {py::ssize_t(net.num_params())}, self);
           })
      .def("buffers_array",
           [](py::object self) {
             Network& net = py::cast<Network&>(self);
             return view(net.buffers(), {py::ssize_t(net.num_buffers())}, self);
           })
      .def("set_profiling", &Network::set_profiling)
      .def("profile",
           [](const Network& net) {
             py::dict d;
             for (const auto& kv : net.profile()) d[py::str(kv.first)] = kv.second;
             return d;
           })
      .def("reset_profile", &Network::reset_profile)
      .def("zero_grad", &Network::zero_grad)
      .def("params_changed", &Network::params_changed)
      .def("sync_param_writes", &Network::sync_param_writes, py::arg("exposed"),
           py::call_guard<py::gil_scoped_release>())
      .def_property_readonly("eval_prepares", &Network::eval_prepares)
      .def_property_readonly("eval_allocations", &Network::eval_allocations)
      .def(
          "set_loss",
          [](Network& net, const std::string& name, float delta, const py::object& options) {
            net.set_loss(nncore::parse_loss(name), loss_options(delta, options));
          },
          py::arg("name"), py::arg("delta") = 1.0f, py::arg("options") = py::none())
      .def("set_output_transform",
           [](Network& net, const std::string& name) {
             auto a = nncore::parse_act(name);
             if (a != nncore::Act::linear && a != nncore::Act::softmax && a != nncore::Act::sigmoid)
               throw py::value_error("output transform must be linear, softmax or sigmoid");
             net.set_output_transform(a);
           })
      .def("set_optimizer", &Network::set_optimizer)
      .def_property_readonly("optimizer", &Network::optimizer)
      .def(
          "forward",
          [](Network& net, const py::array& x, bool training, std::optional<std::uint64_t> step) {
            farray xx = matrix(x, "x", net.input_dim());
            check_batch(net, xx.shape(0), "x");
            int n = int(xx.shape(0));
            farray out({n, net.output_dim()});
            Network::MaskKey key{net.seed(), step.value_or(0), 0};
            {
              py::gil_scoped_release nogil;
              if (training) {
                const float* y = net.forward(xx.data(), n, training, false, step ? &key : nullptr);
                std::copy(y, y + (size_t)n * net.output_dim(), out.mutable_data());
              } else {
                net.infer(xx.data(), n, out.mutable_data());  // re-entrant
              }
            }
            return out;
          },
          py::arg("x"), py::arg("training") = false, py::arg("step") = py::none())
      // One Monte-Carlo dropout sample (evaluation mode, dropout on; raw outputs).
      .def(
          "forward_mc",
          [](Network& net, const py::array& x, std::uint64_t seed, std::uint64_t step,
             std::uint32_t draw) {
            farray xx = matrix(x, "x", net.input_dim());
            check_batch(net, xx.shape(0), "x");
            int n = int(xx.shape(0));
            farray out({n, net.output_dim()});
            {
              py::gil_scoped_release nogil;
              const float* y = net.forward_mc(xx.data(), n, Network::MaskKey{seed, step, draw});
              std::copy(y, y + (size_t)n * net.output_dim(), out.mutable_data());
            }
            return out;
          },
          py::arg("x"), py::arg("seed"), py::arg("step"), py::arg("draw"))
      // BatchNorm + ReLU fusion (on by default; same bits either way): for tests and benchmarks.
      .def_property("fusion", &Network::fusion, &Network::set_fusion)
      // Forward, then copies of every layer's output (diagnostics: dead units, saturation).
      .def(
          "forward_all",
          [](Network& net, const py::array& x, bool training) {
            farray xx = matrix(x, "x", net.input_dim());
            check_batch(net, xx.shape(0), "x");
            int n = int(xx.shape(0));
            {
              py::gil_scoped_release nogil;
              net.forward(xx.data(), n, training, /*every_output=*/true);
            }
            py::list outs;
            for (size_t i = 0; i < net.num_layers(); ++i) {
              int d = net.layer(i).out_dim();
              farray o({n, d});
              const float* src = net.layer_output(i);
              std::copy(src, src + (size_t)n * d, o.mutable_data());
              outs.append(o);
            }
            return outs;
          },
          py::arg("x"), py::arg("training") = false)
      .def("backward",
           [](Network& net, const py::array& dout) {
             farray d = matrix(dout, "grad", net.output_dim());
             check_batch(net, d.shape(0), "grad");
             int n = int(d.shape(0));
             farray dx({n, net.input_dim()});
             {
               py::gil_scoped_release nogil;
               const float* g = net.backward(d.data(), n);
               std::copy(g, g + (size_t)n * net.input_dim(), dx.mutable_data());
             }
             return dx;
           })
      .def(
          "loss",
          [](Network& net, const py::array& out, const py::array& y, py::object w) {
            farray o = matrix(out, "output", net.output_dim());
            long n = o.shape(0);
            check_alloc(double(n) * net.output_dim() * sizeof(float), "output gradient");
            HeldTargets h = targets(y, w, n, net.output_dim());
            farray d({n, (long)net.output_dim()});
            double v;
            {
              py::gil_scoped_release nogil;
              v = net.loss_value(o.data(), h.t, int(n), d.mutable_data());
            }
            return py::make_tuple(v, d);
          },
          py::arg("output"), py::arg("y"), py::arg("sample_weight") = py::none())
      .def("penalty", &Network::penalty)
      .def_property("batch_l2", &Network::batch_l2, &Network::set_batch_l2)
      .def(
          "add_batch_l2",
          [](Network& net, double batch_weight) {
            py::gil_scoped_release nogil;
            return net.add_batch_l2(batch_weight);
          },
          py::arg("batch_weight"))
      .def("add_penalty_grads", &Network::add_penalty_grads)
      .def("optimizer_step",
           [](Network& net) {
             nncore::StepInfo s;
             {
               py::gil_scoped_release nogil;
               s = net.optimizer_step();
             }
             return step_info(s);
           })
      // Backward of a gradient computed in Python + penalty + optimizer step (a Python loss).
      .def(
          "step_from_grad",
          [](Network& net, const py::array& grad) {
            farray g = matrix(grad, "grad", net.output_dim());
            double pen = 0;
            nncore::StepInfo s;
            {
              py::gil_scoped_release nogil;
              s = net.step_from_grad(g.data(), int(g.shape(0)), &pen);
            }
            py::dict d = step_info(s);
            d["penalty"] = pen;
            return d;
          },
          py::arg("grad"))
      .def(
          "train_step",
          [](Network& net, const py::array& x, const py::array& y, py::object w) {
            farray xx = matrix(x, "x", net.input_dim());
            long n = xx.shape(0);
            check_batch(net, n, "x");
            HeldTargets h = targets(y, w, n, net.output_dim());
            double loss, pen = 0;
            nncore::StepInfo s;
            {
              py::gil_scoped_release nogil;
              loss = net.train_step(xx.data(), h.t, int(n), &pen, &s);
            }
            py::dict d = step_info(s);
            d["loss"] = loss;
            d["penalty"] = pen;
            return d;
          },
          py::arg("x"), py::arg("y"), py::arg("sample_weight") = py::none())
      // Loss and gradient (into grads_array) of one batch without an update; see network.h.
      .def(
          "loss_grad",
          [](Network& net, const py::array& x, const py::array& y, py::object w, bool accumulate) {
            farray xx = matrix(x, "x", net.input_dim());
            long n = xx.shape(0);
            check_batch(net, n, "x");
            HeldTargets h = targets(y, w, n, net.output_dim());
            double loss;
            {
              py::gil_scoped_release nogil;
              loss = net.loss_grad(xx.data(), h.t, int(n), accumulate);
            }
            return loss;
          },
          py::arg("x"), py::arg("y"), py::arg("sample_weight") = py::none(),
          py::arg("accumulate") = false)
      .def(
          "train_epoch",
          [](Network& net, const py::array& X, const py::array& y, py::object w, int batch_size,
             py::object order, std::int64_t begin, std::int64_t end) {
            farray xx = matrix(X, "X", net.input_dim());
            long N = xx.shape(0);
            HeldTargets h = targets(y, w, N, net.output_dim());
            // hardening: a negative batch range would index before X and order.
            if (batch_size < 1) throw py::value_error("batch_size must be a positive integer");
            if (begin < 0 || end < begin)
              throw py::value_error("batch_begin/batch_end: expected 0 <= begin <= end, got " +
                                    std::to_string(begin) + ", " + std::to_string(end));
            check_batch(net, std::min<long>(batch_size, N), "batch_size");
            i64array ord;
            const std::int64_t* ord_ptr = nullptr;
            if (!order.is_none()) {
              if (!py::isinstance<py::array>(order))
                throw py::type_error("order: expected an integer array");
              check_numeric(py::cast<py::array>(order), "order");
              ord = i64array::ensure(order);
              if (!ord || ord.ndim() != 1 || ord.shape(0) != N)
                throw py::value_error("order: expected a permutation of length " +
                                      std::to_string(N));
              const std::int64_t* o = ord.data();
              for (long i = 0; i < N; ++i)
                if (o[i] < 0 || o[i] >= N) throw py::value_error("order: index out of range");
              ord_ptr = o;
            }
            nncore::EpochStats st;
            {
              py::gil_scoped_release nogil;
              st = net.train_epoch(xx.data(), h.t, N, batch_size, ord_ptr, begin, end);
            }
            py::dict d;
            d["loss_sum"] = st.loss_sum;
            d["penalty_sum"] = st.penalty_sum;
            d["rows"] = st.rows;
            d["batches"] = st.batches;
            d["skipped_nonfinite"] = st.skipped_nonfinite;
            d["grad_norm"] = st.last_grad_norm;
            d["correct"] = st.correct;
            d["loss_terms"] = py::array_t<double>(st.loss_terms.size(), st.loss_terms.data());
            d["penalty_terms"] = py::array_t<double>(st.penalty_terms.size(),
                                                     st.penalty_terms.data());
            return d;
          },
          py::arg("X"), py::arg("y"), py::arg("sample_weight"), py::arg("batch_size"),
          py::arg("order"), py::arg("batch_begin"), py::arg("batch_end"))
      .def(
          "predict",
          [](Network& net, const py::array& x, bool fold_batchnorm) {
            farray xx = matrix(x, "x", net.input_dim());
            long n = xx.shape(0);
            check_batch(net, std::min<long>(n, 1024), "x");  // predict runs in chunks of rows
            check_alloc(double(n) * net.output_dim() * sizeof(float), "predict output");
            farray out({n, (long)net.output_dim()});
            {
              py::gil_scoped_release nogil;
              net.predict(xx.data(), n, out.mutable_data(), fold_batchnorm);
            }
            return out;
          },
          py::arg("x"), py::arg("fold_batchnorm") = false)
      .def_property_readonly("can_fold", &Network::can_fold);
  auto cls = py::reinterpret_borrow<py::class_<Network>>(m.attr("Network"));
  def_block_passes(cls);
}
