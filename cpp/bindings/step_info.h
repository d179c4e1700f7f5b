// The dict an optimizer step reports to Python ({"grad_norm", "finite", "skipped"}), shared by
// the Network and Optimizer bindings so the two cannot report it differently.
#pragma once
#include <pybind11/pybind11.h>

#include "nncore/optim.h"

namespace nncore_py {

inline pybind11::dict step_info(const nncore::StepInfo& s) {
  pybind11::dict d;
  d["grad_norm"] = s.grad_norm;
  d["finite"] = s.finite;
  d["skipped"] = s.skipped;
  return d;
}

}  // namespace nncore_py
