// Network.forward_blocks / backward_blocks: the data-parallel block passes (nncore/network.h),
// with the reducer a Python object (nncore._dist_fit) that the core calls back, GIL re-acquired,
// in the middle of a pass.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <algorithm>

#include "arrays.h"
#include "nncore/network.h"

namespace py = pybind11;
using namespace nncore_py;
using nncore::Network;

namespace {

// Calls target.sum_blocks(partial, out) and target.grads_ready(nodes, offset, size, reduced).
// The arrays view core memory: partial and out only during the call; nodes (the layer's tree
// node sums, (K, size)) until the next backward_blocks, kept alive with the network.
class PyReducer final : public nncore::BlockReducer {
 public:
  PyReducer(py::object target, Network& net, py::handle owner)
      : target_(std::move(target)), net_(net), owner_(owner) {}
  void sum_blocks(const double* partial, int blocks, int width, double* out) override {
    py::gil_scoped_acquire gil;
    py::array_t<double> p({py::ssize_t(blocks), py::ssize_t(width)}, partial, owner_);
    py::array_t<double> o({py::ssize_t(width)}, out, owner_);
    target_.attr("sum_blocks")(p, o);
  }
  void grads_ready(std::size_t offset, std::size_t size, bool reduced) override {
    py::gil_scoped_acquire gil;
    const auto K = py::ssize_t(net_.block_node_count());
    py::object nodes = py::none();
    if (!reduced) {
      float* base = const_cast<float*>(net_.block_nodes().data());
      // no blocks here: an empty (0, size) array, without offsetting a possibly null pointer
      if (K > 0) base += std::size_t(K) * offset;
      nodes = view(base, {K, py::ssize_t(size)}, owner_);
    }
    target_.attr("grads_ready")(nodes, offset, size, reduced);
  }

 private:
  py::object target_;
  Network& net_;
  py::handle owner_;
};

nncore::BlockPass make_pass(const std::vector<int>& rows, const std::vector<std::uint64_t>& keys,
                            std::int64_t first, std::int64_t global_rows) {
  nncore::BlockPass p;
  p.rows = rows;
  p.keys = keys;
  p.first = first;
  p.global_rows = global_rows;
  return p;
}

}  // namespace

void def_block_passes(py::class_<Network>& cls) {
  cls.def(
         "forward_blocks",
         [](py::object self, const py::array& x, const std::vector<int>& rows,
            const std::vector<std::uint64_t>& keys, std::int64_t first, std::int64_t global_rows,
            py::object reducer) {
           Network& net = py::cast<Network&>(self);
           farray xx = matrix(x, "x", net.input_dim());
           const int n = int(xx.shape(0));
           farray out({n, net.output_dim()});
           nncore::BlockPass pass = make_pass(rows, keys, first, global_rows);
           PyReducer r(std::move(reducer), net, self);
           pass.reducer = &r;
           {
             py::gil_scoped_release nogil;
             const float* y = net.forward_blocks(xx.data(), n, pass);
             std::copy(y, y + std::size_t(n) * net.output_dim(), out.mutable_data());
           }
           return out;
         },
         py::arg("x"), py::arg("rows"), py::arg("keys"), py::arg("first"), py::arg("global_rows"),
         py::arg("reducer"))
      .def(
          "backward_blocks",
          [](py::object self, const py::array& dout, const std::vector<int>& rows,
             const std::vector<std::uint64_t>& keys, std::int64_t first, std::int64_t global_rows,
             py::object reducer) {
            Network& net = py::cast<Network&>(self);
            farray d = matrix(dout, "grad", net.output_dim());
            nncore::BlockPass pass = make_pass(rows, keys, first, global_rows);
            PyReducer r(std::move(reducer), net, self);
            pass.reducer = &r;
            py::gil_scoped_release nogil;
            net.backward_blocks(d.data(), int(d.shape(0)), pass);
          },
          py::arg("dout"), py::arg("rows"), py::arg("keys"), py::arg("first"),
          py::arg("global_rows"), py::arg("reducer"));
}
