// The folded inference plan's data (see inference.cpp); private to the core.
#pragma once
#include <vector>

#include "nncore/gemm.h"
#include "nncore/network.h"

namespace nncore {

struct Network::InferencePlan {
  struct Step {
    PackedB w;
    fvec bias;
    Act act = Act::linear;
    float alpha = 0.f;
    int in = 0, out = 0;
  };
  std::vector<Step> steps;
  std::uint64_t version = 0;
  bool ok = false;
};

}  // namespace nncore
