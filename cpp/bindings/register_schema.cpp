// nncore._core.schema(): the core's description of its layer kinds, activations, losses,
// initialisers and optimizers (nncore/schema.h) as plain dicts and lists, for the Python classes
// to validate from and for documentation.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "nncore/schema.h"

namespace py = pybind11;
namespace schema = nncore::schema;

namespace {

py::dict param(const schema::Param& p) {
  py::dict d;
  d["name"] = p.name;
  d["limit"] = schema::limit_name(p.limit);
  if (p.limit == schema::Limit::choice) {
    d["default"] = p.def_str;
    d["choices"] = p.choices;
  } else if (p.limit == schema::Limit::flag) {
    d["default"] = py::bool_(p.def != 0);
  } else if (p.limit == schema::Limit::positive_int) {
    d["default"] = py::none();  // required
  } else {
    d["default"] = p.def;
  }
  d["optional"] = p.optional;
  d["doc"] = p.doc;
  return d;
}

py::list params(const std::vector<schema::Param>& ps) {
  py::list out;
  for (const auto& p : ps) out.append(param(p));
  return out;
}

py::list tensors(const std::vector<schema::Tensor>& ts) {
  py::list out;
  for (const auto& t : ts) {
    py::dict d;
    d["name"] = t.name;
    d["shape"] = t.shape;
    d["when"] = t.when;
    out.append(d);
  }
  return out;
}

py::dict describe() {
  py::dict d;
  py::list layers;
  for (const auto& k : schema::layers()) {
    py::dict l;
    l["type"] = k.type;
    l["title"] = k.title;
    l["params"] = params(k.params);
    l["tensors"] = tensors(k.tensors);
    l["buffers"] = tensors(k.buffers);
    l["workspace_per_row"] = k.workspace_per_row;
    l["workspace_fixed"] = k.workspace_fixed;
    l["fold"] = schema::fold_name(k.fold);
    layers.append(l);
  }
  d["layers"] = layers;
  py::list acts;
  for (const auto& a : schema::activations()) {
    py::dict x;
    x["name"] = a.name;
    x["default_alpha"] = double(a.default_alpha);
    x["backward_needs_z"] = a.backward_needs_z;
    x["elementwise"] = a.elementwise;
    acts.append(x);
  }
  d["activations"] = acts;
  py::list losses;
  for (const auto& l : schema::losses()) {
    py::dict x;
    x["name"] = l.name;
    x["aliases"] = l.aliases;
    x["targets"] = l.targets;
    losses.append(x);
  }
  d["losses"] = losses;
  d["initializers"] = schema::initializers();
  py::list opts;
  for (const auto& o : schema::optimizers()) {
    py::dict x;
    x["name"] = o.name;
    x["params"] = params(o.params);
    x["states"] = o.states;
    x["fixed"] = o.fixed;
    opts.append(x);
  }
  d["optimizers"] = opts;
  return d;
}

}  // namespace

void register_schema(py::module_& m) {
  m.def("schema", &describe,
        "The core's layer kinds, activations, losses, initializers and optimizers: names, "
        "hyper-parameters (limit, default, optional), tensors, workspace and folding.");
}
