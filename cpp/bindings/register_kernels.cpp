// Raw kernels for tests against references: activations, losses, batch norm, dropout, Philox.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>

#include "arrays.h"
#include "loss_options.h"
#include "nncore/activations.h"
#include "nncore/losses.h"
#include "nncore/batchnorm.h"
#include "nncore/dropout.h"
#include "nncore/rng.h"

namespace py = pybind11;
using namespace nncore_py;

void register_kernels(py::module_& m) {
  m.def(
      "act_forward",
      [](const std::string& name, const py::array& z, float alpha) {
        farray zz = farray::ensure(z);
        nncore::Act a = nncore::parse_act(name);
        if (std::isnan(alpha)) alpha = nncore::act_default_alpha(a);
        farray y(std::vector<py::ssize_t>(zz.shape(), zz.shape() + zz.ndim()));
        size_t cols = zz.ndim() ? zz.shape(zz.ndim() - 1) : 1;
        nncore::act_forward(a, alpha, zz.data(), y.mutable_data(), zz.size(), cols);
        return y;
      },
      py::arg("name"), py::arg("z"), py::arg("alpha") = NAN);
  m.def(
      "act_backward",
      [](const std::string& name, const py::array& z, const py::array& dy, float alpha) {
        farray zz = farray::ensure(z), g = farray::ensure(dy);
        if (zz.size() != g.size()) throw py::value_error("act_backward: z and dy differ in size");
        nncore::Act a = nncore::parse_act(name);
        if (std::isnan(alpha)) alpha = nncore::act_default_alpha(a);
        std::vector<py::ssize_t> shape(zz.shape(), zz.shape() + zz.ndim());
        farray y(shape), dz(shape);
        size_t cols = zz.ndim() ? zz.shape(zz.ndim() - 1) : 1;
        nncore::act_forward(a, alpha, zz.data(), y.mutable_data(), zz.size(), cols);
        nncore::act_backward(a, alpha, zz.data(), y.data(), g.data(), dz.mutable_data(), zz.size(),
                             cols);
        return dz;
      },
      py::arg("name"), py::arg("z"), py::arg("dy"), py::arg("alpha") = NAN);
  m.def(
      "loss",
      [](const std::string& name, const py::array& pred, const py::array& target,
         py::object weights, float delta, const py::object& options) {
        const nncore::LossOptions lo = nncore_py::loss_options(delta, options);
        nncore::Loss l = nncore::parse_loss(name);
        farray p = matrix(pred, "pred");
        int n = int(p.shape(0)), k = int(p.shape(1));
        farray d({n, k});
        farray w;
        if (!weights.is_none()) w = vector(py::cast<py::array>(weights), "sample_weight", n);
        double v;
        if (py::isinstance<py::array_t<std::int32_t>>(target) ||
            py::isinstance<py::array_t<std::int64_t>>(target)) {
          i64array lab64 = i64array::ensure(target);
          if (lab64.ndim() != 1 || lab64.shape(0) != n)
            throw py::value_error("labels: expected shape (n,)");
          for (int i = 0; i < n; ++i)
            if (lab64.data()[i] < INT32_MIN || lab64.data()[i] > INT32_MAX)
              throw py::value_error("labels: label at row " + std::to_string(i) +
                                    " is out of range");
          iarray lab = iarray::ensure(target);
          v = nncore::loss_forward_backward(l, p.data(), nullptr, lab.data(),
                                            weights.is_none() ? nullptr : w.data(),
                                            d.mutable_data(), n, k, lo);
        } else {
          farray t = matrix(target, "target", k);
          if (t.shape(0) != n) throw py::value_error("target: wrong number of rows");
          v = nncore::loss_forward_backward(l, p.data(), t.data(), nullptr,
                                            weights.is_none() ? nullptr : w.data(),
                                            d.mutable_data(), n, k, lo);
        }
        return py::make_tuple(v, d);
      },
      py::arg("name"), py::arg("pred"), py::arg("target"), py::arg("sample_weight") = py::none(),
      py::arg("delta") = 1.0f, py::arg("options") = py::none());

  // Batch norm: x (n, c); gamma/beta None = no affine.
  auto opt = [](const py::object& o, const char* name, long c) {
    return o.is_none() ? farray() : vector(py::cast<py::array>(o), name, c);
  };
  m.def("bn_forward_train", [opt](const py::array& x, py::object gamma, py::object beta, float eps,
                                  float momentum, const py::array& rmean, const py::array& rvar) {
    farray xx = matrix(x, "x");
    int n = int(xx.shape(0)), c = int(xx.shape(1));
    farray g = opt(gamma, "gamma", c), b = opt(beta, "beta", c);
    farray rm = vector(rmean, "running_mean", c), rv = vector(rvar, "running_var", c);
    farray rm2({c}), rv2({c}), y({n, c}), mean({c}), invstd({c});
    std::copy(rm.data(), rm.data() + c, rm2.mutable_data());
    std::copy(rv.data(), rv.data() + c, rv2.mutable_data());
    nncore::bn_forward_train(y.mutable_data(), mean.mutable_data(), invstd.mutable_data(),
                             xx.data(), gamma.is_none() ? nullptr : g.data(),
                             beta.is_none() ? nullptr : b.data(), n, c, eps, momentum,
                             rm2.mutable_data(), rv2.mutable_data());
    return py::make_tuple(y, mean, invstd, rm2, rv2);
  });
  m.def("bn_forward_eval", [opt](const py::array& x, py::object gamma, py::object beta,
                                 const py::array& rmean, const py::array& rvar, float eps) {
    farray xx = matrix(x, "x");
    int n = int(xx.shape(0)), c = int(xx.shape(1));
    farray g = opt(gamma, "gamma", c), b = opt(beta, "beta", c);
    farray rm = vector(rmean, "running_mean", c), rv = vector(rvar, "running_var", c);
    farray y({n, c}), invstd({c});
    nncore::bn_forward_eval(y.mutable_data(), invstd.mutable_data(), xx.data(),
                            gamma.is_none() ? nullptr : g.data(),
                            beta.is_none() ? nullptr : b.data(), rm.data(), rv.data(), n, c, eps);
    return py::make_tuple(y, invstd);
  });
  m.def("bn_backward", [opt](const py::array& dy, const py::array& x, const py::array& mean,
                             const py::array& invstd, py::object gamma, bool training) {
    farray xx = matrix(x, "x");
    int n = int(xx.shape(0)), c = int(xx.shape(1));
    farray g = matrix(dy, "dy", c);
    if (g.shape(0) != n) throw py::value_error("dy: wrong number of rows");
    farray mu = vector(mean, "mean", c), is = vector(invstd, "invstd", c),
           ga = opt(gamma, "gamma", c);
    farray dx({n, c}), dgamma({c}), dbeta({c});
    std::fill(dgamma.mutable_data(), dgamma.mutable_data() + c, 0.f);
    std::fill(dbeta.mutable_data(), dbeta.mutable_data() + c, 0.f);
    nncore::bn_backward(dx.mutable_data(), dgamma.mutable_data(), dbeta.mutable_data(), g.data(),
                        xx.data(), mu.data(), is.data(), gamma.is_none() ? nullptr : ga.data(), n,
                        c, training);
    return py::make_tuple(dx, dgamma, dbeta);
  });
  // Dropout: forward and backward are the same masked scaling of their input.
  auto drop = [](const py::array& x, double rate, std::uint64_t seed, std::uint64_t step,
                 std::uint32_t layer) {
    farray xx = farray::ensure(x);
    if (!xx) throw py::value_error("x: expected a numeric array");
    farray y(std::vector<py::ssize_t>(xx.shape(), xx.shape() + xx.ndim()));
    nncore::dropout_apply(y.mutable_data(), xx.data(), xx.size(), rate, seed, step, layer);
    return y;
  };
  m.def("dropout_forward", drop, py::arg("x"), py::arg("rate"), py::arg("seed"), py::arg("step"),
        py::arg("layer"));
  m.def("dropout_backward", drop, py::arg("dy"), py::arg("rate"), py::arg("seed"), py::arg("step"),
        py::arg("layer"));
  m.def(
      "dropout_mask",
      [](std::size_t n, double rate, std::uint64_t seed, std::uint64_t step, std::uint32_t layer) {
        py::array_t<std::uint8_t> keep(n);
        nncore::dropout_mask(keep.mutable_data(), n, rate, seed, step, layer);
        return keep;
      },
      py::arg("n"), py::arg("rate"), py::arg("seed"), py::arg("step"), py::arg("layer"));
  m.def("philox4x32_10", [](std::array<std::uint32_t, 4> ctr, std::array<std::uint32_t, 2> key) {
    return nncore::philox4x32_10(ctr, key);
  });
  m.def("philox4x32_10_batch", [](std::size_t nblocks, std::uint64_t block, std::uint32_t c2,
                                  std::uint32_t c3, std::array<std::uint32_t, 2> key) {
    py::array_t<std::uint32_t> out(4 * nblocks);
    nncore::philox4x32_10_batch(out.mutable_data(), nblocks, block, c2, c3, key);
    return out;
  });

  // Input validation: flat index of the first NaN/inf (for float64 also of the first value beyond
  // float32's range), -1 when there is none, -2 when a is not a C-contiguous float32/float64
  // array (the caller falls back to numpy). Scans blocks without branching per element.
  m.def(
      "find_nonfinite",
      [](const py::array& a) -> std::int64_t {
        // The dtype test by identity first: array_t's isinstance builds and compares two dtypes
        // (~0.3 µs, a tenth of a batch-1 predict).
        const py::dtype dt = a.dtype();
        const bool f32 = dt.is(py::dtype::of<float>()) || py::isinstance<py::array_t<float>>(a);
        const bool f64 = !f32 && py::isinstance<py::array_t<double>>(a);
        if (!(f32 || f64) || !(a.flags() & py::array::c_style)) return -2;
        const std::int64_t n = std::int64_t(a.size());
        // Blocks of 4096 counted without branches (a vectorised sum), then the bad block
        // element-wise. A bool |= did not vectorise: ~2 cycles per element.
        auto scan = [n](const auto* p, auto bad_value) -> std::int64_t {
          for (std::int64_t b = 0; b < n; b += 4096) {
            const int len = int(std::min<std::int64_t>(n - b, 4096));
            const auto* q = p + b;
            std::uint32_t bad = 0;
            for (int i = 0; i < len; ++i) bad += bad_value(q[i]) ? 1u : 0u;
            const std::int64_t e = b + len;
            if (bad)
              for (std::int64_t i = b; i < e; ++i)
                if (bad_value(p[i])) return i;
          }
          return -1;
        };
        // float: NaN or inf is an all-ones exponent; double: also beyond float32's range.
        auto bad32 = [](std::uint32_t u) { return (u & 0x7f800000u) == 0x7f800000u; };
        auto bad64 = [](double v) { return !(std::abs(v) <= 3.4028234663852886e38); };
        auto run = [&] {
          return f32 ? scan(static_cast<const std::uint32_t*>(a.data()), bad32)
                     : scan(static_cast<const double*>(a.data()), bad64);
        };
        if (n < (1 << 16)) return run();  // releasing the GIL costs more than the scan
        py::gil_scoped_release nogil;
        return run();
      },
      py::arg("a"));
}
