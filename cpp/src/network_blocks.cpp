// Network's data-parallel block passes (network.h: forward_blocks, backward_blocks): the layers
// run one at a time over every local block, and each parameter layer's block gradients are summed
// into the node sums of the fixed block tree (python/nncore/_blocktree.py defines the tree; the
// exchange between processes is the reducer's, in python/nncore/_dist_fit.py).
#include <algorithm>
#include <cstring>

#include "nncore/network.h"

namespace nncore {

namespace {

// Row offsets of the blocks within the local batch (and the checks every pass needs).
std::vector<int> block_offsets(const BlockPass& p, int n) {
  check(p.reducer != nullptr, "block pass: no reducer");
  check(p.keys.size() == p.rows.size(), "block pass: one dropout key per block needed");
  std::vector<int> off(p.rows.size() + 1, 0);
  for (std::size_t b = 0; b < p.rows.size(); ++b) {
    check(p.rows[b] > 0, "block pass: every block needs at least one row");
    off[b + 1] = off[b] + p.rows[b];
  }
  check(off.back() == n, "block pass: the blocks have " + std::to_string(off.back()) +
                             " rows but the batch has " + std::to_string(n));
  check(p.first >= 0 && p.global_rows >= n, "block pass: inconsistent global batch");
  return off;
}

// A node of the block tree on the merge stack: height h, index j (covers blocks
// [j·2^h, (j+1)·2^h)). Pushing the blocks left to right and merging two nodes whenever they
// are siblings leaves exactly the maximal aligned nodes covering the blocks (_blocktree.cover),
// each summed as left + right, the tree's order.
struct Node {
  int h;
  std::int64_t j;
};
template <class Merge>
void push_leaf(std::vector<Node>& st, std::int64_t block, Merge merge) {
  st.push_back({0, block});
  while (st.size() >= 2) {
    Node& left = st[st.size() - 2];
    const Node& right = st.back();
    if (left.h != right.h || left.j % 2 != 0) break;
    merge(st.size() - 2);  // left += right
    left = {left.h + 1, left.j / 2};
    st.pop_back();
  }
}

}  // namespace

const float* Network::forward_blocks(const float* x, int n, const BlockPass& pass) {
  Busy busy(*this);  // a training call
  const std::vector<int> off = block_offsets(pass, n);
  ensure_workspace(std::max(n, 1));
  if (n) std::memcpy(batch_x_.data(), x, sizeof(float) * std::size_t(n) * input_dim_);
  ++version_;  // batchnorm running statistics move
  last_rows_ = n;
  last_training_ = true;
  last_fused_ = fusion_;
  const float* in = batch_x_.data();
  for (std::size_t i = 0; i < layers_.size(); ++i) {
    Layer& L = *layers_[i];
    StepContext ctx{true, seed_, 0, int(i)};
    ctx.relu_fused = last_fused_ && fused_at(i);
    float* out = acts_[ctx.relu_fused ? i + 1 : i].data();
    if (L.reduces_over_blocks()) {
      ctx.blocks = &pass;
      L.forward(in, out, n, saved_[i].data(), ctx);
    } else {
      check(L.saved_fixed() == 0, "block pass: layer " + std::to_string(i) + " (" + L.type() +
                                      ") keeps per-batch state and cannot run per block");
      const std::size_t per = L.saved_per_row();
      for (std::size_t b = 0; b < pass.rows.size(); ++b) {
        ctx.step = pass.keys[b];
        L.forward(in + std::size_t(off[b]) * L.in_dim(), out + std::size_t(off[b]) * L.out_dim(),
                  pass.rows[b], saved_[i].data() + std::size_t(off[b]) * per, ctx);
      }
    }
    in = out;
    if (ctx.relu_fused) ++i;
  }
  return in;
}

void Network::backward_blocks(const float* dout, int n, const BlockPass& pass) {
  Busy busy(*this);  // a training call
  const std::vector<int> off = block_offsets(pass, n);
  check(last_training_ && n == last_rows_,
        "backward_blocks: needs a forward_blocks of the same " + std::to_string(n) + " rows first");
  const std::size_t nb = pass.rows.size();
  std::vector<Node> st;
  for (std::size_t b = 0; b < nb; ++b) push_leaf(st, pass.first + std::int64_t(b), [](auto) {});
  const std::size_t K = st.size();
  block_node_count_ = int(K);
  block_nodes_.resize(K * params_.size());
  float* cur = grad_a_.data();
  float* other = grad_b_.data();
  if (n) std::memcpy(cur, dout, sizeof(float) * std::size_t(n) * output_dim_);
  for (std::size_t i = layers_.size(); i-- > 0;) {
    if (last_fused_ && i > 0 && fused_at(i - 1)) continue;  // runs inside layer i - 1
    Layer& L = *layers_[i];
    StepContext ctx{true, seed_, 0, int(i)};
    ctx.relu_fused = last_fused_ && fused_at(i);
    ctx.overwrite_grads = L.writes_all_grads();
    const float* x = i == 0 ? batch_x_.data() : acts_[i - 1].data();
    const float* y = acts_[ctx.relu_fused ? i + 1 : i].data();
    float* dx = i == 0 ? nullptr : other;
    // This layer's parameters are one slice of the arena.
    std::size_t po = params_.size(), pe = 0;
    for (const auto& v : param_views_)
      if (v.layer == int(i)) {
        po = std::min(po, v.offset);
        pe = std::max(pe, v.offset + v.size());
      }
    const std::size_t ps = pe > po ? pe - po : 0;
    float* g = grads_.data() + (ps ? po : 0);
    if (L.reduces_over_blocks()) {
      ctx.blocks = &pass;
      if (!ctx.overwrite_grads && ps) std::memset(g, 0, sizeof(float) * ps);
      L.backward(x, y, cur, dx, n, saved_[i].data(), ctx);
      if (ps) pass.reducer->grads_ready(po, ps, true);
    } else {
      const std::size_t per = L.saved_per_row();
      const int din = L.in_dim(), dyw = L.out_dim();
      st.clear();
      for (std::size_t b = 0; b < nb; ++b) {
        const std::size_t r = std::size_t(off[b]);
        ctx.step = pass.keys[b];
        if (!ctx.overwrite_grads && ps) std::memset(g, 0, sizeof(float) * ps);
        L.backward(x + r * din, y + r * dyw, cur + r * dyw, dx ? dx + r * din : nullptr,
                   pass.rows[b], saved_[i].data() + r * per, ctx);
        if (!ps) continue;
        if (block_stack_.size() <= st.size()) block_stack_.emplace_back();
        fvec& leaf = block_stack_[st.size()];
        if (leaf.size() < ps) leaf.resize(ps);
        std::memcpy(leaf.data(), g, sizeof(float) * ps);
        push_leaf(st, pass.first + std::int64_t(b), [&](std::size_t k) {
          float* left = block_stack_[k].data();
          const float* right = block_stack_[k + 1].data();
          for (std::size_t e = 0; e < ps; ++e) left[e] = left[e] + right[e];
        });
      }
      if (ps) {
        for (std::size_t k = 0; k < K; ++k)
          std::memcpy(block_nodes_.data() + K * po + k * ps, block_stack_[k].data(),
                      sizeof(float) * ps);
        pass.reducer->grads_ready(po, ps, false);
      }
    }
    std::swap(cur, other);
  }
}

}  // namespace nncore
