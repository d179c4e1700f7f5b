// L-BFGS (nncore/lbfgs.h) for Python: lbfgs_fit runs a whole full-batch fit of a Network in one
// call with the GIL released (scikit-learn's MLP solver="lbfgs" on a dense X); lbfgs_minimize
// runs the same solver on a Python function (the sparse-X path, tests).
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "arrays.h"
#include "nncore/lbfgs.h"
#include "nncore/network.h"

namespace py = pybind11;
using namespace nncore_py;

namespace {

using Segments = std::vector<std::pair<std::size_t, std::size_t>>;

nncore::LbfgsOptions options(int memory, long max_iter, long max_fun, double gtol, double ftol,
                             int max_ls) {
  if (memory < 1 || max_iter < 1 || max_fun < 1 || max_ls < 1)
    throw py::value_error("lbfgs: memory, max_iter, max_fun and max_ls must be >= 1");
  if (!(gtol >= 0) || !(ftol >= 0)) throw py::value_error("lbfgs: gtol and ftol must be >= 0");
  nncore::LbfgsOptions o;
  o.memory = memory;
  o.max_iter = max_iter;
  o.max_fun = max_fun;
  o.pgtol = gtol;
  o.ftol = ftol;
  o.max_ls = max_ls;
  return o;
}

py::dict result(const nncore::LbfgsResult& r, py::array_t<double> x) {
  py::dict d;
  d["x"] = std::move(x);
  d["fun"] = r.f;
  d["nit"] = r.nit;
  d["nfev"] = r.nfev;
  d["status"] = r.status;
  d["message"] = r.message;
  return d;
}

// Between evaluations: a pending KeyboardInterrupt (or other signal exception) ends the fit.
void check_signals() {
  py::gil_scoped_acquire gil;
  if (PyErr_CheckSignals() != 0) throw py::error_already_set();
}

}  // namespace

void register_lbfgs(py::module_& m) {
  m.def(
      "lbfgs_fit",
      [](nncore::Network& net, const py::array& X, const py::array& y, py::object w, int chunk,
         const Segments& segments, double loss_factor, double batch_weight, bool add_penalty,
         int memory, long max_iter, long max_fun, double gtol, double ftol, int max_ls) {
        const nncore::LbfgsOptions o = options(memory, max_iter, max_fun, gtol, ftol, max_ls);
        farray xx = matrix(X, "X", net.input_dim());
        const long N = xx.shape(0);
        if (N < 1) throw py::value_error("X: no rows");
        if (chunk < 1) throw py::value_error("chunk must be >= 1");
        const long k = net.output_dim();
        nncore::Targets t;
        iarray labels;
        farray values, weights;
        if (y.dtype().kind() == 'i' || y.dtype().kind() == 'u') {
          labels = iarray::ensure(y);
          if (!labels || labels.ndim() != 1 || labels.shape(0) != N)
            throw py::value_error("y: expected integer labels of shape (" + std::to_string(N) +
                                  ",)");
          for (long i = 0; i < N; ++i)
            if (labels.data()[i] < 0 || labels.data()[i] >= k)
              throw py::value_error("y: label outside [0, " + std::to_string(k) + ")");
          t.labels = labels.data();
        } else {
          values = matrix(y, "y", k);
          if (values.shape(0) != N) throw py::value_error("y: expected one row per row of X");
          t.values = values.data();
        }
        if (!w.is_none()) {
          weights = vector(py::array::ensure(w), "sample_weight", N);
          t.weights = weights.data();
        }
        std::size_t n = 0;
        for (const auto& [off, size] : segments) {
          if (off + size > net.num_params())
            throw py::value_error("segments: a segment lies outside the parameter arena");
          n += size;
        }
        py::array_t<double> x(static_cast<py::ssize_t>(n));
        double* xp = x.mutable_data();
        {
          const float* p = net.params();
          std::size_t j = 0;
          for (const auto& [off, size] : segments)
            for (std::size_t i = 0; i < size; ++i) xp[j++] = double(p[off + i]);
        }
        const float* Xp = xx.data();
        // One evaluation: the variables into the arena, the chunked pass, scikit-learn's loss
        // (the core's summed chunk losses times loss_factor, the layers' l1/l2 terms, alpha's
        // term for the batch weight), the gradient out.
        auto fg = [&](const double* v, double* g) {
          check_signals();
          net.params_from(v, segments);
          double loss = net.loss_grad_rows(Xp, t, N, chunk) * loss_factor;
          if (add_penalty) loss += net.penalty();
          loss += net.add_batch_l2(batch_weight);
          net.grads_to(g, segments);
          return loss;
        };
        nncore::LbfgsResult r;
        {
          py::gil_scoped_release nogil;
          r = nncore::lbfgs_minimize(n, xp, fg, o);
          net.params_from(xp, segments);
        }
        return result(r, std::move(x));
      },
      py::arg("net"), py::arg("X"), py::arg("y"), py::arg("sample_weight"), py::arg("chunk"),
      py::arg("segments"), py::arg("loss_factor"), py::arg("batch_weight"), py::arg("add_penalty"),
      py::arg("memory") = 10, py::arg("max_iter") = 15000, py::arg("max_fun") = 15000,
      py::arg("gtol") = 1e-5, py::arg("ftol") = 2.2204460492503131e-09, py::arg("max_ls") = 20);

  m.def(
      "lbfgs_minimize",
      [](py::function fun, const py::array& x0, int memory, long max_iter, long max_fun,
         double gtol, double ftol, int max_ls) {
        const nncore::LbfgsOptions o = options(memory, max_iter, max_fun, gtol, ftol, max_ls);
        auto start = py::array_t<double, py::array::c_style | py::array::forcecast>::ensure(x0);
        if (!start || start.ndim() != 1) throw py::value_error("x0: expected a 1-D array");
        const std::size_t n = std::size_t(start.shape(0));
        py::array_t<double> x(static_cast<py::ssize_t>(n));
        std::copy(start.data(), start.data() + n, x.mutable_data());
        // fun(x) -> (f, g): called with a float64 copy of the iterate (it may keep it).
        auto fg = [&](const double* v, double* g) {
          py::array_t<double> xv(static_cast<py::ssize_t>(n));
          std::copy(v, v + n, xv.mutable_data());
          py::tuple fgv = fun(xv);
          if (fgv.size() != 2) throw py::value_error("fun must return (f, g)");
          const double f = py::cast<double>(fgv[0]);
          auto gv = py::array_t<double, py::array::c_style | py::array::forcecast>::ensure(fgv[1]);
          if (!gv || gv.ndim() != 1 || std::size_t(gv.shape(0)) != n)
            throw py::value_error("fun: the gradient must have the shape of x");
          std::copy(gv.data(), gv.data() + n, g);
          return f;
        };
        nncore::LbfgsResult r = nncore::lbfgs_minimize(n, x.mutable_data(), fg, o);
        return result(r, std::move(x));
      },
      py::arg("fun"), py::arg("x0"), py::arg("memory") = 10, py::arg("max_iter") = 15000,
      py::arg("max_fun") = 15000, py::arg("gtol") = 1e-5, py::arg("ftol") = 2.2204460492503131e-09,
      py::arg("max_ls") = 20);
}
