// The optimizer family (SGD, Adagrad, RMSprop, Adam, AdamW, NAdam, Adadelta) with torch.optim's
// formulas, hyper-parameter names and defaults, plus clipping and the non-finite gradient check.
// One fused pass per step over fixed 16384-element chunks (OpenMP over chunks, elementwise, so the
// bits do not depend on the thread count); per-ISA kernels live in kernels_*.cpp, registered in the
// ISA context.
#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>
#include <stdexcept>

#include "nncore/common.h"
#include "nncore/cpu.h"
#include "nncore/optim.h"
#include "nncore/owned_chunks.h"
#include "nncore/schema.h"
#include "nncore/threading.h"
#include "isa/context.h"
#include "optim_kernels.h"

namespace nncore {

using namespace optim_detail;

void Optimizer::set_lr(double lr) {
  if (!(lr >= 0.0) || !std::isfinite(lr)) {
    std::ostringstream os;
    os << "lr must be a finite number >= 0, got " << lr;
    throw std::invalid_argument(os.str());
  }
  lr_ = lr;
}

void Optimizer::set_hparam(const std::string& name, double value) {
  if (name == "lr") return set_lr(value);
  fail(this->name() + ": hyper-parameter '" + name + "' cannot be changed");
}

namespace {

constexpr std::size_t kChunk = kArenaChunk;       // 64 KiB of floats: a chunk's grads stay in L2
constexpr std::size_t kParallelMin = 4 * kChunk;  // below this, threads cost more than they give

std::size_t num_chunks(std::size_t n) { return (n + kChunk - 1) / kChunk; }

// Partial sums of squares per chunk (fixed chunks, each in a fixed lane order).
void chunk_sumsq(const Kernels& K, const float* g, std::size_t n, double* partial,
                 const std::vector<int>& owners = {}) {
  for_owned_chunks(arena_chunks(n), owners, n >= kParallelMin, [&](std::int64_t c) {
    std::size_t off = std::size_t(c) * kChunk;
    partial[c] = K.sumsq(g + off, std::min(kChunk, n - off));
  });
}

double combine(const std::vector<double>& partial) {
  double s = 0;
  for (double x : partial) s += x;  // index order: independent of the thread count
  return s;
}

std::string fmt(double v) {
  std::ostringstream os;
  os << v;
  return os.str();
}

class Fused : public Optimizer {
 public:
  // Hyper-parameters, defaults and limits come from the schema's entry for this optimizer.
  Fused(const std::string& name, const std::map<std::string, double>& given)
      : name_(name), kind_(schema::optimizer(name)) {
    for (const auto& kv : given) schema::param(kind_.params, kv.first, name_);  // known names only
    for (const auto& s : kind_.params) {
      auto it = given.find(s.name);
      double v = it == given.end() ? s.def : it->second;
      schema::check(name_, s, v);
      if (s.name == "lr") {
        lr_ = v;  // the lr lives in lr_ only (hparams() reports it)
        continue;
      }
      hp_[s.name] = v;
    }
    clipnorm_ = hp_["clipnorm"];
    clipvalue_ = hp_["clipvalue"];
    skip_ = hp_["skip_nonfinite"] != 0;
    maximize_ = hp_["maximize"] != 0;
  }

  std::string name() const override { return name_; }
  void set_hparam(const std::string& key, double v) override {
    if (key == "lr") return set_lr(v);
    const schema::Param& spec = schema::param(kind_.params, key, name_);
    schema::check(name_, spec, v);
    const double old = hp_[key];
    for (const auto& f : kind_.fixed)
      check(key != f || v == old, name_ + ": " + key + " cannot be changed after construction");
    if (key == "momentum")
      check((old > 0) == (v > 0), name_ +
                                      ": momentum cannot change between 0 and > 0 after "
                                      "construction (the momentum buffer exists or not)");
    if (key == "dampening" && hp_.count("nesterov") && hp_["nesterov"] != 0)
      check(v == 0, name_ + ": nesterov requires dampening = 0");
    hp_[key] = v;
    clipnorm_ = hp_["clipnorm"];
    clipvalue_ = hp_["clipvalue"];
    skip_ = hp_["skip_nonfinite"] != 0;
    maximize_ = hp_["maximize"] != 0;
  }
  std::map<std::string, double> hparams() const override {
    auto h = hp_;
    h["lr"] = lr_;
    return h;
  }
  std::vector<std::string> state_names() const override { return names_; }
  fvec& state(const std::string& name) override {
    auto it = states_.find(name);
    if (it == states_.end()) {
      std::string valid;
      for (const auto& s : names_) valid += (valid.empty() ? "" : ", ") + s;
      fail(name_ + " has no state '" + name + "' (it has: " + (valid.empty() ? "none" : valid) +
           ")");
    }
    return it->second;
  }

  bool checks_finite_first() const override { return skip_ && !(clipnorm_ > 0); }
  bool begin_pieces(std::size_t n) override {
    if (clipnorm_ > 0) return false;
    check_state_sizes(n);
    Prep q = base_prep();
    bool first = ensure_state(n);
    ++steps_;
    prepare(q, first);
    return true;
  }
  void update_piece(float* p, const float* g, std::size_t off, std::size_t len) override {
    update(*isa::active().optim, p + off, g, off, len);
  }
  using Optimizer::step;
  StepInfo step(float* p, float* g, std::size_t n, const Hints& hints) override {
    StepInfo info;
    const Kernels& K = *isa::active().optim;
    const std::size_t nc = num_chunks(n);
    const std::int64_t nci = std::int64_t(nc);
    partial_.assign(nc, 0.0);
    check_state_sizes(n);  // throw before any work
    // The norm must be known (clipping) or every gradient checked (skip, unless the caller
    // proved them finite) before any update; otherwise it is computed chunk by chunk inside the
    // update pass, where the grads are hot.
    const bool pre = (skip_ && !hints.grads_finite) || clipnorm_ > 0;
    // Without the pre-pass the norm is summed in the update pass, which also finds a non-finite
    // gradient when nothing proved there is none; a proven step whose norm nobody reads skips it.
    const bool in_pass = !pre && (hints.norm || !hints.grads_finite);
    double norm = 0;
    if (pre) {
      chunk_sumsq(K, g, n, partial_.data(), owners_);
      double ss = combine(partial_);
      norm = std::sqrt(ss);
      info.grad_norm = norm;
      info.finite = std::isfinite(ss);
      if (!info.finite && skip_) {
        info.skipped = true;
        return info;
      }
    }
    Prep q = base_prep();
    if (clipnorm_ > 0) {
      double coef = clipnorm_ / (norm + 1e-6);
      if (!(coef >= 1.0)) q.scale *= float(coef);
    }
    bool first = ensure_state(n);
    ++steps_;
    prepare(q, first);
    // Fixed chunk-to-thread assignment (the owners the network set, else even ranges): each
    // thread updates the same parameters, moments and gradients every step, so they stay in its
    // core's caches. Dynamic scheduling, which moved chunks between cores each step, made small-
    // batch epochs several times slower (bench/results/design_choices.md#optim-fixed-owners).
    for_owned_chunks(nci, owners_, n >= kParallelMin, [&](std::int64_t c) {
      std::size_t off = std::size_t(c) * kChunk, len = std::min(kChunk, n - off);
      if (in_pass) partial_[c] = K.sumsq(g + off, len);
      update(K, p + off, g + off, off, len);
      if (hook_) hook_(off, len);
    });
    if (in_pass) {
      double ss = combine(partial_);
      info.grad_norm = std::sqrt(ss);
      info.finite = std::isfinite(ss);
    }
    return info;
  }

 protected:
  double h(const char* k) const { return hp_.at(k); }
  // The gradient's transform before clipnorm's factor: maximize's sign, clipvalue.
  Prep base_prep() const {
    Prep q;
    q.scale = maximize_ ? -1.0f : 1.0f;
    if (clipvalue_ > 0) q.clip = float(clipvalue_);
    return q;
  }
  // Per-parameter states (size n) and their initial values; scalar states (size 1) too.
  void add_state(const std::string& name, float init, bool scalar = false) {
    names_.push_back(name);
    states_[name];
    init_[name] = {init, scalar};
  }
  float* st(const std::string& name) { return states_.at(name).data(); }
  // Allocates the state at the first step (torch initialises lazily too). Returns true when the
  // per-parameter state was just created (SGD's momentum buffer then starts as the gradient).
  bool ensure_state(std::size_t n) {
    bool created = false;
    for (const auto& name : names_) {
      auto& v = states_[name];
      auto [init, scalar] = init_[name];
      std::size_t want = scalar ? 1 : n;
      if (v.empty()) {
        v.assign(want, init);
        created = created || !scalar;
      } else {
        check(v.size() == want, name_ + ": state '" + name + "' has " + std::to_string(v.size()) +
                                    " values but the parameters need " + std::to_string(want));
      }
    }
    return created;
  }
  void check_state_sizes(std::size_t n) {
    for (const auto& name : names_) {
      const auto& v = states_[name];
      std::size_t want = init_[name].second ? 1 : n;
      check(v.empty() || v.size() == want,
            name_ + ": state '" + name + "' has " + std::to_string(v.size()) +
                " values but the parameters need " + std::to_string(want));
    }
  }
  virtual void prepare(const Prep& q, bool first) = 0;
  virtual void update(const Kernels& K, float* p, const float* g, std::size_t off,
                      std::size_t len) = 0;

  std::string name_;
  const schema::OptimizerKind& kind_;
  std::map<std::string, double> hp_;
  std::vector<std::string> names_;
  std::map<std::string, fvec> states_;
  std::map<std::string, std::pair<float, bool>> init_;
  std::vector<double> partial_;
  double clipnorm_ = 0, clipvalue_ = 0;
  bool skip_ = true, maximize_ = false;
};

class Sgd : public Fused {
 public:
  explicit Sgd(const std::map<std::string, double>& hp) : Fused("sgd", hp) {
    if (h("nesterov") != 0)
      check(h("momentum") > 0 && h("dampening") == 0,
            "sgd: nesterov requires momentum > 0 and dampening = 0 (got momentum=" +
                fmt(h("momentum")) + ", dampening=" + fmt(h("dampening")) + ")");
    if (h("momentum") != 0) add_state("momentum_buffer", 0.0f);
  }

 private:
  void prepare(const Prep& q, bool first) override {
    k_.pre = q;
    k_.neg_lr = float(-lr_);
    k_.wd = float(h("weight_decay"));
    k_.momentum = float(h("momentum"));
    k_.one_minus_damp = float(1.0 - h("dampening"));
    k_.has_wd = h("weight_decay") != 0;
    k_.has_mom = h("momentum") != 0;
    k_.nesterov = h("nesterov") != 0;
    k_.first = first;
  }
  void update(const Kernels& K, float* p, const float* g, std::size_t off,
              std::size_t len) override {
    K.sgd(p, g, k_.has_mom ? st("momentum_buffer") + off : nullptr, len, k_);
  }
  SgdK k_{};
};

class Adagrad : public Fused {
 public:
  explicit Adagrad(const std::map<std::string, double>& hp) : Fused("adagrad", hp) {
    add_state("sum", float(h("initial_accumulator_value")));
  }

 private:
  void prepare(const Prep& q, bool) override {
    double step = double(steps_);
    double clr = lr_ / (1 + (step - 1) * h("lr_decay"));
    k_.pre = q;
    k_.neg_clr = float(-clr);
    k_.wd = float(h("weight_decay"));
    k_.eps = float(h("eps"));
    k_.has_wd = h("weight_decay") != 0;
  }
  void update(const Kernels& K, float* p, const float* g, std::size_t off,
              std::size_t len) override {
    K.adagrad(p, g, st("sum") + off, len, k_);
  }
  AdagradK k_{};
};

class Rmsprop : public Fused {
 public:
  explicit Rmsprop(const std::map<std::string, double>& hp) : Fused("rmsprop", hp) {
    add_state("square_avg", 0.0f);
    if (h("momentum") > 0) add_state("momentum_buffer", 0.0f);
    if (h("centered") != 0) add_state("grad_avg", 0.0f);
  }

 private:
  void prepare(const Prep& q, bool) override {
    k_.pre = q;
    k_.neg_lr = float(-lr_);
    k_.wd = float(h("weight_decay"));
    k_.alpha = float(h("alpha"));
    k_.one_minus_alpha = float(1.0 - h("alpha"));
    k_.w = float(1.0 - h("alpha"));
    k_.one_minus_w = 1.0f - k_.w;
    k_.eps = float(h("eps"));
    k_.momentum = float(h("momentum"));
    k_.has_wd = h("weight_decay") != 0;
    k_.centered = h("centered") != 0;
    k_.has_mom = h("momentum") > 0;
  }
  void update(const Kernels& K, float* p, const float* g, std::size_t off,
              std::size_t len) override {
    K.rmsprop(p, g, st("square_avg") + off, k_.centered ? st("grad_avg") + off : nullptr,
              k_.has_mom ? st("momentum_buffer") + off : nullptr, len, k_);
  }
  RmspropK k_{};
};

class Adam : public Fused {
 public:
  Adam(const std::map<std::string, double>& hp, bool adamw)
      : Fused(adamw ? "adamw" : "adam", hp),
        decoupled_(adamw || h_or("decoupled_weight_decay") != 0) {
    add_state("exp_avg", 0.0f);
    add_state("exp_avg_sq", 0.0f);
    if (h("amsgrad") != 0) add_state("max_exp_avg_sq", 0.0f);
  }

 private:
  double h_or(const char* k) const {
    auto it = hp_.find(k);
    return it == hp_.end() ? 0.0 : it->second;
  }
  void prepare(const Prep& q, bool) override {
    const double step = double(steps_), b1 = h("beta1"), b2 = h("beta2"), wd = h("weight_decay");
    const double bc1 = 1 - std::pow(b1, step), bc2 = 1 - std::pow(b2, step);
    k_.pre = q;
    const double bc2_sqrt = std::sqrt(bc2);
    k_.neg_step_bc2 = float(-(lr_ / bc1) * bc2_sqrt);
    // raw_eps (scikit-learn's and Keras' Adam): eps is added to sqrt(v) itself, which is
    // torch's form with eps / sqrt(bc2) in place of eps.
    k_.eps_bc2 = float(h_or("raw_eps") != 0 ? h("eps") : h("eps") * bc2_sqrt);
    k_.wd = float(wd);
    k_.decay = float(1 - lr_ * wd);
    k_.w1 = float(1 - b1);
    k_.one_minus_w1 = 1.0f - k_.w1;
    k_.beta2 = float(b2);
    k_.one_minus_beta2 = float(1 - b2);
    k_.has_wd = wd != 0;
    k_.decoupled = decoupled_;
    k_.amsgrad = h("amsgrad") != 0;
  }
  void update(const Kernels& K, float* p, const float* g, std::size_t off,
              std::size_t len) override {
    K.adam(p, g, st("exp_avg") + off, st("exp_avg_sq") + off,
           k_.amsgrad ? st("max_exp_avg_sq") + off : nullptr, len, k_);
  }
  bool decoupled_;
  AdamK k_{};
};

class Nadam : public Fused {
 public:
  explicit Nadam(const std::map<std::string, double>& hp) : Fused("nadam", hp) {
    add_state("exp_avg", 0.0f);
    add_state("exp_avg_sq", 0.0f);
    add_state("mu_product", 1.0f, true);  // torch keeps it as a float32 scalar tensor
  }

 private:
  void prepare(const Prep& q, bool) override {
    const double step = double(steps_), b1 = h("beta1"), b2 = h("beta2"), wd = h("weight_decay");
    const double md = h("momentum_decay");
    const double bc2 = 1 - std::pow(b2, step);
    const double mu = b1 * (1.0 - 0.5 * std::pow(0.96, step * md));
    const double mu_next = b1 * (1.0 - 0.5 * std::pow(0.96, (step + 1) * md));
    float& mp_f = st("mu_product")[0];
    mp_f = mp_f * float(mu);  // float32 tensor *= Python float
    const double mp = mp_f, mp_next = mp * mu_next;
    k_.pre = q;
    k_.wd = float(wd);
    k_.decay = float(1 - lr_ * wd);
    k_.w1 = float(1 - b1);
    k_.one_minus_w1 = 1.0f - k_.w1;
    k_.beta2 = float(b2);
    k_.one_minus_beta2 = float(1 - b2);
    k_.bc2 = float(bc2);
    k_.eps = float(h("eps"));
    k_.c_grad = float(-lr_ * (1.0 - mu) / (1.0 - mp));
    k_.c_avg = float((-lr_ * mu_next) / (1.0 - mp_next));
    k_.has_wd = wd != 0;
    k_.decoupled = h("decoupled_weight_decay") != 0;
  }
  void update(const Kernels& K, float* p, const float* g, std::size_t off,
              std::size_t len) override {
    K.nadam(p, g, st("exp_avg") + off, st("exp_avg_sq") + off, len, k_);
  }
  NadamK k_{};
};

class Adadelta : public Fused {
 public:
  explicit Adadelta(const std::map<std::string, double>& hp) : Fused("adadelta", hp) {
    add_state("square_avg", 0.0f);
    add_state("acc_delta", 0.0f);
  }

 private:
  void prepare(const Prep& q, bool) override {
    k_.pre = q;
    k_.neg_lr = float(-lr_);
    k_.wd = float(h("weight_decay"));
    k_.rho = float(h("rho"));
    k_.one_minus_rho = float(1.0 - h("rho"));  // torch passes value=1-rho, a Python float
    k_.eps = float(h("eps"));
    k_.has_wd = h("weight_decay") != 0;
  }
  void update(const Kernels& K, float* p, const float* g, std::size_t off,
              std::size_t len) override {
    K.adadelta(p, g, st("square_avg") + off, st("acc_delta") + off, len, k_);
  }
  AdadeltaK k_{};
};

}  // namespace

double grad_norm(const float* g, std::size_t n) {
  std::vector<double> partial(num_chunks(n));
  chunk_sumsq(*isa::active().optim, g, n, partial.data());
  return std::sqrt(combine(partial));
}

double clip_grad_norm(float* g, std::size_t n, double max_norm) {
  check(max_norm >= 0 && !std::isnan(max_norm),
        "max_norm must be a number >= 0, got " + fmt(max_norm));
  const Kernels& K = *isa::active().optim;
  double norm = grad_norm(g, n);
  double coef = max_norm / (norm + 1e-6);
  if (!(coef >= 1.0)) {  // NaN norm: like torch, the gradients become NaN
    const float s = float(coef);
    const std::int64_t nc = std::int64_t(num_chunks(n));
#pragma omp parallel for schedule(static) num_threads(num_threads()) if (n >= kParallelMin)
    for (std::int64_t c = 0; c < nc; ++c) {
      std::size_t off = std::size_t(c) * kChunk;
      K.scale(g + off, std::min(kChunk, n - off), s);
    }
  }
  return norm;
}

void clip_grad_value(float* g, std::size_t n, double clip_value) {
  check(clip_value >= 0 && !std::isnan(clip_value),
        "clip_value must be a number >= 0, got " + fmt(clip_value));
  const Kernels& K = *isa::active().optim;
  const float cv = float(clip_value);
  const std::int64_t nc = std::int64_t(num_chunks(n));
#pragma omp parallel for schedule(static) num_threads(num_threads()) if (n >= kParallelMin)
  for (std::int64_t c = 0; c < nc; ++c) {
    std::size_t off = std::size_t(c) * kChunk;
    K.clamp(g + off, std::min(kChunk, n - off), cv);
  }
}

std::shared_ptr<Optimizer> make_optimizer(const std::string& name,
                                          const std::map<std::string, double>& hp) {
  std::string k = name;
  std::transform(k.begin(), k.end(), k.begin(), [](unsigned char ch) { return std::tolower(ch); });
  if (k == "sgd") return std::make_shared<Sgd>(hp);
  if (k == "adagrad") return std::make_shared<Adagrad>(hp);
  if (k == "rmsprop") return std::make_shared<Rmsprop>(hp);
  if (k == "adam") return std::make_shared<Adam>(hp, false);
  if (k == "adamw") return std::make_shared<Adam>(hp, true);
  if (k == "nadam") return std::make_shared<Nadam>(hp);
  if (k == "adadelta") return std::make_shared<Adadelta>(hp);
  schema::optimizer(k);  // throws naming the schema's optimizers
  fail("optimizer '" + k + "' is in the schema but has no implementation");
}

}  // namespace nncore
