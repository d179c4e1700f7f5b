// A loss's options from Python ({"label_smoothing": 0.1, "class_weight": [...], ...}), shared by
// Network.set_loss and the raw loss kernel binding so the two read them alike. Unknown keys are
// an error naming the known ones; the values' limits are checked by the loss itself.
#pragma once
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <string>
#include <vector>

#include "nncore/losses.h"

namespace nncore_py {

inline nncore::LossOptions loss_options(float delta, const pybind11::object& options) {
  nncore::LossOptions o;
  o.delta = delta;
  if (options.is_none()) return o;
  for (auto kv : pybind11::cast<pybind11::dict>(options)) {
    const std::string key = pybind11::cast<std::string>(kv.first);
    const auto& v = kv.second;
    if (key == "delta")
      o.delta = pybind11::cast<float>(v);
    else if (key == "label_smoothing")
      o.label_smoothing = pybind11::cast<double>(v);
    else if (key == "gamma")
      o.gamma = pybind11::cast<double>(v);
    else if (key == "alpha")
      o.alpha = pybind11::cast<double>(v);
    else if (key == "class_weight")
      o.class_weight = pybind11::cast<std::vector<float>>(v);
    else if (key == "quantiles")
      o.quantiles = pybind11::cast<std::vector<float>>(v);
    else
      throw pybind11::value_error("unknown loss option '" + key +
                                  "' (valid: delta, label_smoothing, gamma, alpha, class_weight, "
                                  "quantiles)");
  }
  return o;
}

}  // namespace nncore_py
