// Data-parallel training over fixed row blocks (python/nncore/distributed.py): the part of a
// global batch one process trains on, and the hook through which reductions over rows reach the
// blocks of the other processes. Nothing here knows about MPI.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace nncore {

// Sums over the blocks of the whole global batch. Implementations (the Python binding, bound to
// mpi4py) combine the blocks in one fixed binary tree over global block indices, so the result
// does not depend on how the blocks are spread over processes.
class BlockReducer {
 public:
  virtual ~BlockReducer() = default;
  // partial (blocks, width): one row of per-feature partial sums per local block, in block order
  // -> out (width): the sum over every block of the global batch. Every process calls it at the
  // same point of the pass (it is a collective).
  virtual void sum_blocks(const double* partial, int blocks, int width, double* out) = 0;
  // Gradients of parameters [offset, offset + size) are complete on this process: as the tree
  // node sums of its blocks in Network::block_nodes() (reduced = false), or already summed over
  // the global batch, in the gradient arena (reduced = true: a layer that reduced itself).
  // Called layer by layer during backward, last layer first, so communication can start early.
  virtual void grads_ready(std::size_t offset, std::size_t size, bool reduced) = 0;
};

// This process's blocks: consecutive blocks of the global batch, their rows concatenated.
struct BlockPass {
  std::vector<int> rows;            // rows of each local block, in order
  std::vector<std::uint64_t> keys;  // dropout mask key (the step word) of each local block
  std::int64_t first = 0;           // global index of the first local block
  std::int64_t global_rows = 0;     // rows of the whole global batch
  BlockReducer* reducer = nullptr;
};

}  // namespace nncore
