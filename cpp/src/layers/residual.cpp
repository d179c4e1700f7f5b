// Residual block: y = f(x) + skip(x). f is the block's layers in order (the spec's children,
// built by make_layer, nested blocks included); skip is the identity or, when f changes the
// width (projection "auto") or when asked ("always"), a bias-free linear map x·Pᵀ, ResNet's 1x1
// shortcut (a bias there would duplicate the body's last bias). The projection is an internal
// Dense layer, so it packs for inference, regularises and initialises like one.
//
// The children's tensors are laid out consecutively in this layer's params()/buffers() as
// "body.<j>.<name>", then "proj.weight". The children's outputs, their saved workspace and two
// backward scratch buffers live in this layer's saved workspace (layout in Parts).
#include <algorithm>
#include <cstring>

#include "nncore/cycle_clock.h"
#include "nncore/layer.h"
#include "nncore/schema.h"
#include "nncore/threading.h"

namespace nncore {

namespace {

constexpr std::size_t kParallelMin = 1 << 16;  // elements; below this one thread is faster

// A child's view of the profiler: its parts go under "body.<j>." of this block's.
struct ChildPhases final : PhaseSink {
  ChildPhases(PhaseSink* u, std::size_t j) : up(u), prefix("body." + std::to_string(j) + ".") {}
  void add(const std::string& name, std::uint64_t since) override { up->add(prefix + name, since); }
  PhaseSink* up;
  std::string prefix;
};

// Times one part of a block when the network is profiling (ctx.phases set); free otherwise.
class Timed {
 public:
  explicit Timed(PhaseSink* sink) : sink_(sink), t0_(sink ? cycle_ticks() : 0) {}
  void done(const std::string& name) {
    if (sink_) sink_->add(name, t0_);
  }

 private:
  PhaseSink* sink_;
  std::uint64_t t0_;
};

// y = a + b elementwise (y may be a or b). An IEEE add rounds the same on every ISA and thread.
void add(float* y, const float* a, const float* b, std::size_t total) {
  const std::int64_t chunk = 1 << 14;
  const std::int64_t chunks = std::int64_t((total + chunk - 1) / chunk);
#pragma omp parallel for num_threads(num_threads()) if (total >= kParallelMin) schedule(static)
  for (std::int64_t c = 0; c < chunks; ++c) {
    const std::size_t lo = std::size_t(c * chunk), hi = std::min(total, lo + std::size_t(chunk));
    for (std::size_t i = lo; i < hi; ++i) y[i] = a[i] + b[i];
  }
}

class Residual final : public Layer {
 public:
  Residual(const LayerSpec& s, int in_dim) {
    in_dim_ = in_dim;
    check(!s.children.empty(), "Residual: a block needs at least one layer");
    int d = in_dim;
    int id = 1;  // the children's mask ids follow this layer's own (pre-order)
    for (const LayerSpec& c : s.children) {
      body_.push_back(make_layer(c, d));
      check(!body_.back()->first_only(), "Residual: " + schema::layer(c.type).title +
                                             " reads the model's raw input: it must be the "
                                             "model's first layer, not inside a block");
      ids_.push_back(id);
      id += c.count();
      d = body_.back()->out_dim();
    }
    out_dim_ = d;
    const std::string mode = s.get_str("projection", "auto");
    const auto& choices = schema::param(schema::layer("residual").params, "projection", "Residual");
    if (std::find(choices.choices.begin(), choices.choices.end(), mode) == choices.choices.end())
      fail("Residual: projection must be one of " + schema::names(choices.choices) + ", got '" +
           mode + "'");
    if (mode == "never" && out_dim_ != in_dim_)
      fail("Residual: the block maps width " + std::to_string(in_dim_) + " to " +
           std::to_string(out_dim_) +
           ", so the skip needs a projection, but projection is 'never' (use 'auto')");
    if (mode == "always" || (mode == "auto" && out_dim_ != in_dim_)) {
      LayerSpec p;
      p.type = "dense";
      p.num["units"] = out_dim_;
      p.num["use_bias"] = 0;
      proj_ = make_layer(p, in_dim_);
    }
    for (const auto& L : body_) maxw_ = std::max(maxw_, L->out_dim());
    // A BatchNorm followed by a ReLU runs as one pass each way, as in the network (same bits).
    for (std::size_t j = 0; j < body_.size(); ++j)
      fused_.push_back(j + 1 < body_.size() && body_[j]->fuses_relu() && body_[j + 1]->is_relu());
    maxw_ = std::max(maxw_, in_dim_);
  }

  std::string type() const override { return "residual"; }

  std::vector<TensorInfo> params() const override {
    return collect([](const Layer& L) { return L.params(); });
  }
  std::vector<TensorInfo> buffers() const override {
    return collect([](const Layer& L) { return L.buffers(); });
  }
  void bind(float* p, float* g, float* b) override {
    for_each_child([&](Layer& L) {
      L.bind(p, g, b);
      for (const auto& t : L.params()) p += t.size(), g += t.size();
      for (const auto& t : L.buffers()) b += t.size();
    });
  }
  void init(Rng& rng) override {
    // One independent stream per child, derived from this layer's, so a child's draws do not
    // depend on how many its siblings take.
    const std::uint64_t base = rng.next_u64();
    std::uint64_t j = 0;
    for_each_child([&](Layer& L) {
      Rng r(derive_seed(base, j++));
      L.init(r);
    });
  }

  std::size_t saved_per_row() const override {
    std::size_t s = 2 * std::size_t(maxw_);
    for (const auto& L : body_) s += std::size_t(L->out_dim()) + L->saved_per_row();
    return s;
  }
  std::size_t saved_fixed() const override {
    std::size_t s = 0;
    for (const auto& L : body_) s += L->saved_fixed();
    return s;
  }

  void forward(const float* x, float* y, int n, float* saved, const StepContext& ctx) override {
    const Parts w = parts(saved, n);
    StepContext c = ctx;
    c.relu_fused = false;
    const float* in = x;
    for (std::size_t j = 0; j < body_.size(); ++j) {
      c.layer_index = ctx.layer_index + ids_[j];
      c.relu_fused = fused_[j];
      float* out = w.act[fused_[j] ? j + 1 : j];  // a fused pair writes the ReLU's output
      ChildPhases sink(ctx.phases, j);
      c.phases = ctx.phases ? &sink : nullptr;
      Timed t(ctx.phases);
      body_[j]->forward(in, out, n, w.saved[j], c);
      t.done(phase(j, "forward"));
      in = out;
      if (fused_[j]) ++j;
    }
    c.relu_fused = false;
    c.phases = nullptr;
    Timed t(ctx.phases);
    const std::size_t total = std::size_t(n) * out_dim_;
    if (proj_) {
      proj_->forward(x, y, n, nullptr, c);  // linear: keeps nothing
      add(y, y, in, total);
    } else {
      add(y, in, x, total);
    }
    t.done("skip.forward");
  }

  void backward(const float* x, const float*, float* dy, float* dx, int n, float* saved,
                const StepContext& ctx) override {
    const Parts w = parts(saved, n);
    StepContext c = ctx;
    c.relu_fused = false;
    // The network asks only its own layers for proven or deferred gradients (it would update a
    // child's deferred weight from a gradient never written): the children write theirs.
    c.prove_grads_finite = false;
    c.defer_weight_grads = false;
    const std::size_t total_in = std::size_t(n) * in_dim_;
    float* g = dy;  // the gradient entering the last child
    Timed skip(ctx.phases);
    if (proj_) {
      // dP (= or +=) and dx = dy·P; a linear Dense leaves dy as it is, so the body reuses it.
      proj_->backward(x, nullptr, dy, dx, n, nullptr, c);
    } else if (dx) {
      // The children may overwrite their dy, and the skip needs it: the body gets a copy.
      std::memcpy(w.scratch[0], dy, sizeof(float) * std::size_t(n) * out_dim_);
      g = w.scratch[0];
    }
    skip.done("skip.backward");
    float* body_dx = nullptr;  // where the first child writes d f / dx
    for (std::size_t j = body_.size(); j-- > 0;) {
      if (j > 0 && fused_[j - 1]) continue;  // a ReLU run inside the layer before it
      float* next = g == w.scratch[0] ? w.scratch[1] : w.scratch[0];
      float* out = next;
      if (j == 0) out = !dx ? nullptr : (proj_ ? next : dx);
      c.layer_index = ctx.layer_index + ids_[j];
      const float* xin = j == 0 ? x : w.act[j - 1];
      ChildPhases sink(ctx.phases, j);
      c.phases = ctx.phases ? &sink : nullptr;
      c.relu_fused = fused_[j];
      Timed t(ctx.phases);
      body_[j]->backward(xin, w.act[fused_[j] ? j + 1 : j], g, out, n, w.saved[j], c);
      t.done(phase(j, "backward"));
      if (j == 0) body_dx = out;
      g = next;
    }
    if (!dx) return;
    // dx = d f / dx + the skip's gradient (dy, or dy·P already in dx)
    Timed t(ctx.phases);
    if (proj_)
      add(dx, dx, body_dx, total_in);
    else
      add(dx, dx, dy, total_in);
    t.done("skip.backward");
  }

  bool writes_all_grads() const override {
    bool all = true;
    for (const auto& L : body_) all = all && L->writes_all_grads();
    return all && (!proj_ || proj_->writes_all_grads());
  }
  double penalty() const override {
    double p = 0;
    for_each_child([&](const Layer& L) { p += L.penalty(); });
    return p;
  }
  void add_penalty_grad() override {
    for_each_child([](Layer& L) { L.add_penalty_grad(); });
  }
  void after_update() override {
    for_each_child([](Layer& L) { L.after_update(); });
  }
  void params_changed() override {
    for_each_child([](Layer& L) { L.params_changed(); });
  }
  void prepare_inference() override {
    for_each_child([](Layer& L) { L.prepare_inference(); });
  }
  bool needs_batch_statistics() const override {
    for (const auto& L : body_)
      if (L->needs_batch_statistics()) return true;
    return false;
  }

 private:
  // "body.<j>.<type>[+relu].<pass>": a child's profile key, under this block's.
  std::string phase(std::size_t j, const char* pass) const {
    return "body." + std::to_string(j) + "." + body_[j]->type() + (fused_[j] ? "+relu." : ".") +
           pass;
  }

  // The saved workspace of n rows: [act_0 | ... | act_last | saved_0 | ... | scratch_a | b].
  struct Parts {
    std::vector<float*> act, saved;
    float* scratch[2];
  };
  Parts parts(float* s, int n) const {
    Parts w;
    const std::size_t rows = std::size_t(n);
    for (const auto& L : body_) {
      w.act.push_back(s);
      s += rows * std::size_t(L->out_dim());
    }
    for (const auto& L : body_) {
      w.saved.push_back(s);
      s += rows * L->saved_per_row() + L->saved_fixed();
    }
    w.scratch[0] = s;
    w.scratch[1] = s + rows * std::size_t(maxw_);
    return w;
  }

  template <class F>
  void for_each_child(F f) {
    for (auto& L : body_) f(*L);
    if (proj_) f(*proj_);
  }
  template <class F>
  void for_each_child(F f) const {
    for (const auto& L : body_) f(static_cast<const Layer&>(*L));
    if (proj_) f(static_cast<const Layer&>(*proj_));
  }
  template <class Get>
  std::vector<TensorInfo> collect(Get get) const {
    std::vector<TensorInfo> out;
    for (std::size_t j = 0; j < body_.size(); ++j)
      for (auto t : get(*body_[j])) {
        t.name = "body." + std::to_string(j) + "." + t.name;
        out.push_back(std::move(t));
      }
    if (proj_)
      for (auto t : get(*proj_)) {
        t.name = "proj." + t.name;
        out.push_back(std::move(t));
      }
    return out;
  }

  std::vector<std::unique_ptr<Layer>> body_;
  std::vector<int> ids_;     // each child's mask id relative to this layer's
  std::vector<bool> fused_;  // child j + 1 (a ReLU) runs inside child j
  std::unique_ptr<Layer> proj_;
  int maxw_ = 0;
};

}  // namespace

std::unique_ptr<Layer> make_residual_layer(const LayerSpec& s, int in_dim) {
  return std::make_unique<Residual>(s, in_dim);
}

}  // namespace nncore
