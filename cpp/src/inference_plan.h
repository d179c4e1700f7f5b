// The folded inference plan's data (see inference.cpp); private to the core.
#pragma once
#include <vector>

#include "nncore/gemm.h"
#include "nncore/network.h"

namespace nncore {

struct Network::InferencePlan {
  // One operation on n rows. Values live in numbered buffers of n × maxw floats; -1 names the
  // network's input. A residual block's input stays in its buffer until the block's add.
  struct Step {
    enum class Kind {
      gemm,  // dst = act(src·Wᵀ + bias), or dst += src·Wᵀ (accumulate: a block's projection)
      add,   // dst = src + skip (a block's identity skip)
      act,   // dst = act(dst): an activation after a block (no GEMM epilogue to take it)
    } kind = Kind::gemm;
    PackedB w;
    fvec bias;
    Act act = Act::linear;
    float alpha = 0.f;
    int in = 0, out = 0;
    int src = -1, dst = 0, skip = -1;
    bool accumulate = false;
  };
  std::vector<Step> steps;
  int nbufs = 0, maxw = 0;
  std::uint64_t version = 0;
  bool ok = false;
};

// An evaluation call's pooled workspace (network_access.cpp hands them out): the layer path's
// activations, and the folded plan's value buffers, one set per thread of a row-block team.
// Buffers only grow (to the largest batch seen), so repeated calls allocate nothing.
struct Network::EvalWorkspace {
  int rows = 0;
  std::vector<fvec> acts, saved;
  std::vector<std::vector<fvec>> plan_bufs;  // [thread][buffer], sized by size_plan_bufs
  bool reverse = false;  // the direction of this workspace's next batch-1 call (sgemv_packed)
};

}  // namespace nncore
