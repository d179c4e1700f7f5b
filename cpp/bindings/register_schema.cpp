// nncore._core.schema(): the core's description of its layer kinds, activations, losses,
// initialisers and optimizers (nncore/schema.h) as plain dicts and lists, for the Python classes
// to validate from and for documentation.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "nncore/schema.h"

namespace py = pybind11;
namespace schema = nncore::schema;

namespace {

// One dict per row of a schema table, filled by fill(row, dict).
template <class Row, class Fill>
py::list dicts(const std::vector<Row>& rows, Fill fill) {
  py::list out;
  for (const auto& r : rows) {
    py::dict d;
    fill(r, d);
    out.append(d);
  }
  return out;
}

void param(const schema::Param& p, py::dict& d) {
  d["name"] = p.name;
  d["limit"] = schema::limit_name(p.limit);
  if (p.limit == schema::Limit::choice) {
    d["default"] = p.def_str;
    d["choices"] = p.choices;
  } else if (p.limit == schema::Limit::flag) {
    d["default"] = py::bool_(p.def != 0);
  } else if (p.limit == schema::Limit::positive_int || p.limit == schema::Limit::int_list) {
    d["default"] = py::none();  // required
  } else {
    d["default"] = p.def;
  }
  d["optional"] = p.optional;
  d["doc"] = p.doc;
}

void tensor(const schema::Tensor& t, py::dict& d) {
  d["name"] = t.name;
  d["shape"] = t.shape;
  d["when"] = t.when;
}

py::dict describe() {
  py::dict d;
  d["layers"] = dicts(schema::layers(), [](const schema::LayerKind& k, py::dict& x) {
    x["type"] = k.type;
    x["title"] = k.title;
    x["params"] = dicts(k.params, param);
    x["tensors"] = dicts(k.tensors, tensor);
    x["buffers"] = dicts(k.buffers, tensor);
    x["workspace_per_row"] = k.workspace_per_row;
    x["workspace_fixed"] = k.workspace_fixed;
    x["fold"] = schema::fold_name(k.fold);
  });
  d["activations"] = dicts(schema::activations(), [](const schema::ActivationKind& a, py::dict& x) {
    x["name"] = a.name;
    x["default_alpha"] = double(a.default_alpha);
    x["backward_needs_z"] = a.backward_needs_z;
    x["elementwise"] = a.elementwise;
  });
  d["losses"] = dicts(schema::losses(), [](const schema::LossKind& l, py::dict& x) {
    x["name"] = l.name;
    x["aliases"] = l.aliases;
    x["targets"] = l.targets;
    x["params"] = dicts(l.params, param);
    x["lists"] = l.lists;
  });
  d["initializers"] = schema::initializers();
  d["optimizers"] = dicts(schema::optimizers(), [](const schema::OptimizerKind& o, py::dict& x) {
    x["name"] = o.name;
    x["params"] = dicts(o.params, param);
    x["states"] = o.states;
    x["fixed"] = o.fixed;
  });
  return d;
}

}  // namespace

void register_schema(py::module_& m) {
  m.def("schema", &describe,
        "The core's layer kinds, activations, losses, initializers and optimizers: names, "
        "hyper-parameters (limit, default, optional), tensors, workspace and folding.");
}
