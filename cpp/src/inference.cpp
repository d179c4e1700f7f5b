// The folded inference plan behind Network::predict(..., fold_batchnorm=true): every Dense with
// what follows it in evaluation mode (BatchNorm folded into its weights and bias, an elementwise
// activation moved into the GEMM epilogue, Dropout dropped) becomes one packed GEMM.
// It leaves out anything it cannot fold (a BatchNorm not directly after a linear Dense, a
// mid-network softmax): such networks keep the layer-by-layer path.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "nncore/gemm.h"
#include "nncore/schema.h"
#include "nncore/threading.h"
#include "inference_plan.h"

namespace nncore {

namespace {

const float* find_view(const std::vector<TensorView>& views, const float* arena,
                       const std::string& full) {
  for (const auto& v : views)
    if (v.name == full) return arena + v.offset;
  return nullptr;
}

// y = a + b elementwise (IEEE adds: the same bits on every ISA and thread count).
void add_rows(float* y, const float* a, const float* b, std::size_t total) {
#pragma omp parallel for num_threads(num_threads()) if (total >= (1 << 16)) schedule(static)
  for (std::int64_t i = 0; i < std::int64_t(total); ++i) y[i] = a[i] + b[i];
}

}  // namespace

// Walks the layer specs (blocks recursively) with the folding rules; with a plan to fill, also
// builds its steps. A Dense opens a GEMM step; a BatchNorm right after a linear Dense folds into
// its weights and bias; an elementwise activation goes into the open step's epilogue, or after a
// block's add into a step of its own; Dropout vanishes. A block keeps its input's buffer alive,
// runs its layers, then adds the skip: an add step, or its projection as a GEMM accumulating
// into the body's output (same bits as the layer path's separate add: one rounding either way).
// Anything else (a BatchNorm after an activation or at the start of a block, a softmax before
// the end) is not expressible: the network keeps the layer-by-layer path.
struct Network::PlanWalk {
  PlanWalk(const Network& n, InferencePlan* p) : net(n), plan(p) {}
  const Network& net;
  InferencePlan* plan;                        // null: only check
  std::vector<FoldedDense>* chain = nullptr;  // also collect each GEMM's unpacked weights
  InferencePlan::Step cur;
  std::vector<float> w;  // cur's weight, unpacked (out, in)
  bool open = false, act_set = false, bn_allowed = false, after_add = false;
  int value = -1;           // the buffer holding the current value (-1: the network input)
  std::vector<int> pinned;  // buffers holding enclosing blocks' inputs
  int nbufs = 0, maxw = 0;
  std::string why;  // the first layer the walk could not fold, and why

  bool refuse(const std::string& name, const LayerSpec& s, const char* reason) {
    if (why.empty()) why = "layer " + name + " (" + schema::layer(s.type).title + ") " + reason;
    return false;
  }

  int fresh() {
    for (int b = 0;; ++b)
      if (b != value && std::find(pinned.begin(), pinned.end(), b) == pinned.end()) {
        nbufs = std::max(nbufs, b + 1);
        return b;
      }
  }
  void push(InferencePlan::Step&& st) {
    maxw = std::max({maxw, st.in, st.out});
    if (plan) plan->steps.push_back(std::move(st));
  }
  void finish() {
    if (!open) return;
    if (chain)
      chain->push_back(
          {cur.in, cur.out, w, {cur.bias.begin(), cur.bias.end()}, cur.act, cur.alpha});
    else if (plan)
      cur.w.pack(Trans::T, cur.in, cur.out, w.data(), cur.in);
    push(std::move(cur));
    cur = InferencePlan::Step{};
    open = false;
  }
  const float* param(const std::string& name) const {
    return find_view(net.param_views_, net.params_.data(), name);
  }
  const float* buffer(const std::string& name) const {
    return find_view(net.buffer_views_, net.buffers_.data(), name);
  }

  bool seq(const std::vector<LayerSpec>& specs, const std::string& prefix, int& width) {
    for (std::size_t i = 0; i < specs.size(); ++i) {
      const LayerSpec& s = specs[i];
      const std::string name = prefix + std::to_string(i);
      const schema::Fold fold = schema::layer(s.type).fold;
      if (fold == schema::Fold::identity) continue;
      if (fold == schema::Fold::none) return refuse(name, s, "has no folded form");
      if (fold == schema::Fold::gemm) {
        finish();
        cur.act = parse_act(s.get_str("activation", "linear"));
        if (cur.act == Act::softmax) return refuse(name, s, "ends in a softmax before the output");
        cur.alpha = float(s.get("alpha", act_default_alpha(cur.act)));
        cur.in = width;
        cur.out = width = int(s.get("units", 0));
        cur.src = value;
        cur.dst = value = fresh();
        open = true;
        act_set = cur.act != Act::linear;
        bn_allowed = !act_set;
        after_add = false;
        if (plan) {
          const float* W = param(name + ".weight");
          const float* b = param(name + ".bias");
          w.assign(W, W + std::size_t(cur.in) * cur.out);
          cur.bias.assign(cur.out, 0.f);
          if (b) std::copy(b, b + cur.out, cur.bias.begin());
        }
      } else if (fold == schema::Fold::scale_shift) {
        if (!open || !bn_allowed)
          return refuse(name, s,
                        !open ? "has no Dense right before it to fold into"
                              : "follows an activation or another BatchNorm, not a linear Dense");
        bn_allowed = false;  // a second BN in a row would need another fold; keep it simple
        if (plan && !fold_batchnorm(s, name)) return refuse(name, s, "has no running statistics");
      } else if (fold == schema::Fold::epilogue) {
        const Act a = parse_act(s.get_str("activation", "linear"));
        if (a == Act::linear) continue;
        if (a == Act::softmax) return refuse(name, s, "is a softmax before the output");
        const float alpha = float(s.get("alpha", act_default_alpha(a)));
        if (open && !act_set) {
          cur.act = a;
          cur.alpha = alpha;
        } else if (after_add) {  // after a block: in place on its output
          InferencePlan::Step st;
          st.kind = InferencePlan::Step::Kind::act;
          st.act = a;
          st.alpha = alpha;
          st.in = st.out = width;
          st.src = st.dst = value;
          push(std::move(st));
        } else {
          return refuse(name, s, "follows another activation, or has no Dense before it");
        }
        act_set = true;
        bn_allowed = false;
      } else if (fold == schema::Fold::block) {
        if (!block(s, name, width)) return false;
      }
    }
    return true;
  }

  bool block(const LayerSpec& s, const std::string& name, int& width) {
    finish();
    const int in = value, in_width = width;
    pinned.push_back(in);
    act_set = bn_allowed = after_add = false;  // the block's first layer starts afresh
    if (!seq(s.children, name + ".body.", width)) return false;
    finish();
    pinned.pop_back();
    const float* P = param(name + ".proj.weight");
    const int body = value;
    if (value == in) {  // a body of Dropout only: y = x + x
      if (P) return false;
      value = fresh();
    }
    InferencePlan::Step st;
    st.in = in_width;
    st.out = width;
    st.dst = value;
    if (P) {  // dst (the body's output) += x·Pᵀ
      st.src = in;
      st.accumulate = true;
      if (plan) {
        std::vector<float> wp(P, P + std::size_t(in_width) * width);
        st.w.pack(Trans::T, in_width, width, wp.data(), in_width);
      }
    } else {
      st.kind = InferencePlan::Step::Kind::add;
      st.src = body;
      st.skip = in;
    }
    push(std::move(st));
    after_add = true;
    open = act_set = bn_allowed = false;
    return true;
  }

  bool fold_batchnorm(const LayerSpec& s, const std::string& name) {
    const float* mean = buffer(name + ".running_mean");
    const float* var = buffer(name + ".running_var");
    const float* gamma = param(name + ".weight");
    const float* beta = param(name + ".bias");
    if (!mean || !var) return false;
    const double eps = schema::layer_num(s, "eps");
    for (int j = 0; j < cur.out; ++j) {
      // y = (z - mean)·scale + beta with scale = gamma / sqrt(var + eps), z = W x + b
      const double scale = (gamma ? gamma[j] : 1.0) / std::sqrt(double(var[j]) + eps);
      float* row = w.data() + (std::size_t)j * cur.in;
      for (int c = 0; c < cur.in; ++c) row[c] = float(row[c] * scale);
      cur.bias[j] = float((cur.bias[j] - double(mean[j])) * scale + (beta ? beta[j] : 0.0));
    }
    return true;
  }
};

bool Network::can_fold() const {
  PlanWalk walk(*this, nullptr);
  int width = input_dim_;
  if (!walk.seq(specs_, "", width)) return false;
  walk.finish();
  return walk.nbufs > 0;  // at least one GEMM (or add) to run
}

bool Network::folded_chain(std::vector<FoldedDense>& out, std::string* why) const {
  out.clear();
  InferencePlan p;
  PlanWalk walk(*this, &p);
  walk.chain = &out;
  int width = input_dim_;
  bool ok = walk.seq(specs_, "", width);
  walk.finish();
  for (const auto& st : p.steps)  // blocks add steps (a skip's add, a projection, an act)
    ok = ok && st.kind == InferencePlan::Step::Kind::gemm && !st.accumulate;
  if (ok && out.empty())
    walk.why = "no layer is a Dense";
  else if (!ok && walk.why.empty())
    walk.why = "a Residual block adds its input back";
  ok = ok && !out.empty();
  if (!ok) out.clear();
  if (why) *why = ok ? std::string() : walk.why;
  return ok;
}

bool Network::build_plan() {
  if (plan_ && plan_->version == version_) return plan_->ok;
  if (!plan_) plan_ = std::make_unique<InferencePlan>();
  InferencePlan& p = *plan_;
  p.version = version_;
  p.steps.clear();
  p.ok = can_fold();
  if (!p.ok) return false;
  PlanWalk walk(*this, &p);
  int width = input_dim_;
  p.ok = walk.seq(specs_, "", width);
  walk.finish();
  p.nbufs = walk.nbufs;
  p.maxw = walk.maxw;
  return p.ok;
}

void Network::size_plan_bufs(std::vector<fvec>& bufs, int n) {
  const InferencePlan& p = *plan_;
  const std::size_t size = std::size_t(n) * std::size_t(p.maxw);
  if (bufs.size() < std::size_t(p.nbufs)) bufs.resize(std::size_t(p.nbufs));
  for (auto& b : bufs)
    if (b.size() < size) {
      ++eval_allocations_;
      b.assign(size, 0.f);
    }
}

const float* Network::run_plan(const float* x, int n, std::vector<fvec>& bufs, bool reverse) {
  const InferencePlan& p = *plan_;
  auto at = [&](int b) -> float* { return b < 0 ? nullptr : bufs[std::size_t(b)].data(); };
  auto in = [&](int b) -> const float* { return b < 0 ? x : bufs[std::size_t(b)].data(); };
  // One row on one thread: the GEMV streams each layer's weights once (same bits as the GEMM).
  const bool gemv = n == 1 && num_threads() == 1;
  const float* out = x;
  for (const auto& st : p.steps) {
    float* dst = at(st.dst);
    using Kind = InferencePlan::Step::Kind;
    if (st.kind == Kind::gemm && st.accumulate) {
      sgemm_packed(Trans::N, n, 1.f, in(st.src), st.in, st.w, 1.f, dst, st.out, nullptr);
    } else if (st.kind == Kind::gemm) {
      Epilogue ep;
      ep.bias = st.bias.data();
      ep.act = st.act;
      ep.alpha = st.alpha;
      if (gemv)
        sgemv_packed(in(st.src), st.w, dst, &ep, reverse);
      else
        sgemm_packed(Trans::N, n, 1.f, in(st.src), st.in, st.w, 0.f, dst, st.out, &ep);
    } else if (st.kind == Kind::add) {
      add_rows(dst, in(st.src), in(st.skip), std::size_t(n) * st.out);
    } else {
      act_forward(st.act, st.alpha, dst, dst, std::size_t(n) * st.out, st.out);
    }
    out = dst;
  }
  return out;
}

}  // namespace nncore
