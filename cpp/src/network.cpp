// Network: builds the layers, lays out the arenas, runs forward / backward / training steps.
#include "nncore/network.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "inference_plan.h"
#include "nncore/finite_bound.h"
#include "nncore/gemm.h"
#include "nncore/owned_chunks.h"
#include "write_watch.h"
#include "nncore/schema.h"
#include "nncore/threading.h"

namespace nncore {

Network::Busy::Busy(Network& n) : net(n) {
  Access mode = Access::exclusive;
  net.enter(mode, false);
}
Network::Busy::~Busy() { net.leave(Access::exclusive, nullptr); }

Network::Network(int input_dim, const std::vector<LayerSpec>& specs, std::uint64_t seed,
                 bool init_params)
    : input_dim_(input_dim), seed_(seed), specs_(specs), watch_(std::make_unique<WriteWatch>()) {
  check(input_dim > 0, "input_dim must be a positive integer, got " + std::to_string(input_dim));
  check(!specs.empty(), "a network needs at least one layer");
  layers_ = make_layers(input_dim, specs);
  int id = 0;
  for (const LayerSpec& s : specs) {
    mask_ids_.push_back(id);
    id += s.count();
  }
  // The mask counter word holds the id in 16 bits (MaskKey).
  check(id <= (1 << 16),
        "a network has at most 65536 layers (blocks' layers included), got " + std::to_string(id));
  int dim = input_dim;
  std::size_t np = 0, nb = 0;
  for (std::size_t i = 0; i < specs.size(); ++i) {
    const Layer& L = *layers_[i];
    for (const auto& t : L.params()) {
      param_views_.push_back({std::to_string(i) + "." + t.name, t.shape, np, int(i)});
      np += t.size();
    }
    for (const auto& t : L.buffers()) {
      buffer_views_.push_back({std::to_string(i) + "." + t.name, t.shape, nb, int(i)});
      nb += t.size();
    }
    dim = L.out_dim();
  }
  output_dim_ = dim;
  params_.assign(np, 0.f);
  grads_.assign(np, 0.f);
  buffers_.assign(nb, 0.f);
  std::size_t po = 0, bo = 0;
  for (std::size_t i = 0; i < layers_.size(); ++i) {
    Layer& L = *layers_[i];
    L.bind(params_.data() + po, grads_.data() + po, buffers_.data() + bo);
    for (const auto& t : L.params()) po += t.size();
    for (const auto& t : L.buffers()) bo += t.size();
    if (!init_params) continue;
    Rng rng(derive_seed(seed, 1000 + i));
    L.init(rng);
  }
}

std::vector<std::unique_ptr<Layer>> Network::make_layers(int input_dim,
                                                         const std::vector<LayerSpec>& specs) {
  std::vector<std::unique_ptr<Layer>> layers;
  int dim = input_dim;
  for (const auto& spec : specs) {
    layers.push_back(make_layer(spec, dim));
    check(layers.size() == 1 || !layers.back()->first_only(),
          schema::layer(spec.type).title + " must be the first layer: its input is the raw " +
              "columns of X (integer codes), got it at position " +
              std::to_string(layers.size() - 1));
    dim = layers.back()->out_dim();
  }
  return layers;
}

void Network::zero_grad() {
  // memset(nullptr, 0, 0) is undefined: a network without parameters has an empty arena.
  if (grads_.empty()) return;
  const std::size_t n = grads_.size();
  float* g = grads_.data();
  for_owned_chunks(arena_chunks(n), chunk_owners_, n >= 4 * kArenaChunk, [&](std::int64_t c) {
    const std::size_t off = std::size_t(c) * kArenaChunk;
    std::memset(g + off, 0, sizeof(float) * std::min(kArenaChunk, n - off));
  });
}

// Gives each chunk of the arenas to the thread whose weight-gradient GEMM writes it for batches
// of `rows`, so zeroing, the gradient GEMM and the optimizer touch it on one core.
void Network::assign_chunk_owners(int rows) {
  const int nt = num_threads();
  if (nt == owners_threads_ && rows == owners_rows_ && optimizer_.get() == owners_optimizer_ &&
      std::size_t(arena_chunks(params_.size())) == chunk_owners_.size())
    return;
  owners_threads_ = nt;
  owners_rows_ = rows;
  owners_optimizer_ = optimizer_.get();
  const std::size_t n = params_.size();
  chunk_owners_.assign(std::size_t(arena_chunks(n)), 0);
  for (std::size_t c = 0; c < chunk_owners_.size(); ++c) {
    const std::size_t off = c * kArenaChunk, mid = off + std::min(kArenaChunk, n - off) / 2;
    for (const auto& v : param_views_) {
      if (mid < v.offset || mid >= v.offset + v.size()) continue;
      const std::size_t rel = mid - v.offset;
      // A Dense layer's one 2-D parameter is its weight (out, in): its gradient is a GEMM output.
      if (specs_.at(std::size_t(v.layer)).type == "dense" && v.shape.size() == 2)
        chunk_owners_[c] = sgemm_thread_of(v.shape[0], v.shape[1], rows, nt,
                                           int(rel / std::size_t(v.shape[1])),
                                           int(rel % std::size_t(v.shape[1])), GemmSplit::rows);
      else
        chunk_owners_[c] = int(double(nt) * double(rel) / double(v.size()));
      break;
    }
  }
  if (optimizer_) optimizer_->set_chunk_owners(chunk_owners_);
}

void Network::apply_params_changed() {
  for (auto& L : layers_) L->params_changed();
  ++version_;
}

void Network::set_loss(Loss loss, const LossOptions& options) {
  check(options.delta > 0 && std::isfinite(options.delta),
        "huber delta must be a finite number > 0");
  check_loss_options(loss, options, output_dim_);
  loss_ = loss;
  loss_options_ = options;
}

void Network::ensure_workspace(int n) {
  check(n > 0, "a batch needs at least one row");
  if (n <= ws_rows_) return;
  acts_.resize(layers_.size());
  saved_.resize(layers_.size());
  int maxdim = input_dim_;
  for (std::size_t i = 0; i < layers_.size(); ++i) {
    const Layer& L = *layers_[i];
    acts_[i].assign((std::size_t)n * L.out_dim(), 0.f);
    saved_[i].assign((std::size_t)n * L.saved_per_row() + L.saved_fixed(), 0.f);
    maxdim = std::max(maxdim, L.out_dim());
  }
  grad_a_.assign((std::size_t)n * maxdim, 0.f);
  grad_b_.assign((std::size_t)n * maxdim, 0.f);
  batch_x_.assign((std::size_t)n * input_dim_, 0.f);
  batch_yf_.assign((std::size_t)n * output_dim_, 0.f);
  batch_yi_.assign((std::size_t)n, 0);
  batch_w_.assign((std::size_t)n, 0.f);
  dout_.assign((std::size_t)n * output_dim_, 0.f);
  ws_rows_ = n;
}

int Network::widest() const {
  int w = input_dim_;
  // A layer's saved workspace is a buffer too: a residual block keeps its layers' outputs there.
  for (const auto& L : layers_)
    w = std::max({w, L->out_dim(), int(std::min<std::size_t>(L->saved_per_row(), 1u << 30))});
  return w;
}

// What ensure_workspace(rows) allocates, in bytes (labels are 4-byte ints, like the floats).
double Network::workspace_bytes_for(std::int64_t rows) const {
  double per_row = 2.0 * widest() + input_dim_ + 2.0 * output_dim_ + 2, fixed = 0;
  for (const auto& L : layers_) {
    per_row += double(L->out_dim()) + double(L->saved_per_row());
    fixed += double(L->saved_fixed());
  }
  return (double(rows) * per_row + fixed) * sizeof(float);
}

std::size_t Network::workspace_bytes() const {
  std::size_t f = grad_a_.size() + grad_b_.size() + batch_x_.size() + batch_yf_.size() +
                  batch_w_.size() + dout_.size() + batch_yi_.size();
  for (const auto& a : acts_) f += a.size();
  for (const auto& s : saved_) f += s.size();
  return f * sizeof(float);
}

struct Network::LayerPhases final : PhaseSink {
  LayerPhases(Network& n, std::size_t i) : net(n), layer(i) {}
  void add(const std::string& name, std::uint64_t since) override {
    net.add_ticks(std::to_string(layer) + "." + name, since);
  }
  Network& net;
  std::size_t layer;
};

void Network::add_ticks(const std::string& key, std::uint64_t since) {
  const std::uint64_t d = cycle_ticks() - since;
  if (d > (std::uint64_t(1) << 50)) return;  // the counter stepped back (a VM moved the thread)
  double s = double(d);
  for (auto& kv : profile_)
    if (kv.first == key) {
      kv.second += s;
      return;
    }
  profile_.emplace_back(key, s);
}

std::vector<std::pair<std::string, double>> Network::profile() const {
  double scale = profile_window_.seconds_per_tick();
  auto out = profile_;
  for (auto& kv : out) kv.second *= scale;
  return out;
}

// Runs the layers on x (n rows) into the workspace; returns the last layer's output.
// "<i>.<type>[+relu].<pass>": the profile key of layer i's forward or backward.
std::string Network::phase_name(std::size_t i, bool relu_fused, const char* pass) const {
  return std::to_string(i) + "." + layers_[i]->type() + (relu_fused ? "+relu." : ".") + pass;
}

bool Network::fused_at(std::size_t i) const {
  return i + 1 < layers_.size() && layers_[i]->fuses_relu() && layers_[i + 1]->is_relu();
}

// A fused pair (BatchNorm, ReLU) runs as one layer that writes the ReLU's output buffer; the
// ReLU layer is skipped, so layer i + 2 reads acts_[i + 1] as if the ReLU had run. The BN's own
// output (never read by any backward) is not written. A separate ReLU pass costs mostly the
// writing of its cold output buffer, each way (bench/results/design_choices.md#bn-relu-fusion).
const float* Network::run_forward(const float* x, int n, bool training, bool fuse,
                                  const MaskKey* key, bool mc_dropout) {
  if (training) ++version_;  // batchnorm running statistics move
  last_fused_ = fuse && fusion_;
  StepContext ctx{training, key ? key->seed : seed_, key ? key->step : step_, 0};
  ctx.draw = key ? key->draw & 0xFFFFu : 0;
  ctx.mc_dropout = mc_dropout;
  const float* in = x;
  for (std::size_t i = 0; i < layers_.size(); ++i) {
    ctx.layer_index = mask_ids_[i];
    ctx.relu_fused = last_fused_ && fused_at(i);
    float* out = acts_[ctx.relu_fused ? i + 1 : i].data();
    LayerPhases phases(*this, i);
    ctx.phases = profiling_ ? &phases : nullptr;
    std::uint64_t t0 = profiling_ ? cycle_ticks() : 0;
    layers_[i]->forward(in, out, n, saved_[i].data(), ctx);
    if (profiling_) add_ticks(phase_name(i, ctx.relu_fused, "forward"), t0);
    in = out;
    if (ctx.relu_fused) ++i;
  }
  return in;
}

bool Network::needs_batch_statistics() const {
  for (const auto& L : layers_)
    if (L->needs_batch_statistics()) return true;
  return false;
}

void Network::check_not_single_row() const {
  if (needs_batch_statistics())
    fail(
        "batchnorm in training mode needs more than one row per batch (the variance of one "
        "sample is undefined), got a batch of 1");
}

const float* Network::forward(const float* x, int n, bool training, bool every_output,
                              const MaskKey* key) {
  Busy busy(*this);
  ensure_workspace(n);
  if (training && n == 1) check_not_single_row();
  if (x != batch_x_.data())
    std::memcpy(batch_x_.data(), x, sizeof(float) * (std::size_t)n * input_dim_);
  last_rows_ = n;
  last_training_ = training;
  MaskKey next{seed_, step_, draws_};
  if (training && !key) {
    key = &next;
    ++draws_;
  }
  return run_forward(batch_x_.data(), n, training, !every_output, key);
}

const float* Network::forward_mc(const float* x, int n, const MaskKey& key) {
  Busy busy(*this);
  ensure_workspace(n);
  if (x != batch_x_.data())
    std::memcpy(batch_x_.data(), x, sizeof(float) * (std::size_t)n * input_dim_);
  last_rows_ = 0;  // dropout saved its masks but the rest ran in evaluation mode: no backward
  last_training_ = false;
  return run_forward(batch_x_.data(), n, false, true, &key, true);
}

// Backward over the layers from dout (copied into grad_a_). Returns dX, or null if !need_dx.
const float* Network::backward_impl(const float* dout, int n, bool need_dx, bool overwrite_grads,
                                    bool prove_grads_finite, bool defer_weight_grads) {
  float* cur = grad_a_.data();
  float* other = grad_b_.data();
  if (dout != cur) std::memcpy(cur, dout, sizeof(float) * (std::size_t)n * output_dim_);
  StepContext ctx{last_training_, seed_, step_, 0, overwrite_grads};
  ctx.prove_grads_finite = prove_grads_finite;
  ctx.defer_weight_grads = defer_weight_grads;
  for (std::size_t i = layers_.size(); i-- > 0;) {
    // A ReLU fused into layer i - 1 runs inside that layer's backward: dy passes through.
    if (last_fused_ && i > 0 && fused_at(i - 1)) continue;
    ctx.layer_index = mask_ids_[i];
    ctx.relu_fused = last_fused_ && fused_at(i);
    const float* x = i == 0 ? (input_rows_ ? input_rows_ : batch_x_.data()) : acts_[i - 1].data();
    const float* y = acts_[ctx.relu_fused ? i + 1 : i].data();
    float* dx = (i == 0 && !need_dx) ? nullptr : other;
    LayerPhases phases(*this, i);
    ctx.phases = profiling_ ? &phases : nullptr;
    std::uint64_t t0 = profiling_ ? cycle_ticks() : 0;
    layers_[i]->backward(x, y, cur, dx, n, saved_[i].data(), ctx);
    if (profiling_) add_ticks(phase_name(i, ctx.relu_fused, "backward"), t0);
    std::swap(cur, other);
  }
  return need_dx ? cur : nullptr;
}

const float* Network::backward(const float* dout, int n) {
  Busy busy(*this);
  check(last_rows_ > 0, "backward: no forward to differentiate: call forward(x) first");
  check(n == last_rows_, "backward: the gradient has " + std::to_string(n) +
                             " rows but the last forward had " + std::to_string(last_rows_));
  return backward_impl(dout, n, true);
}

double Network::loss_value(const float* out, const Targets& t, int n, float* dout) const {
  return loss_forward_backward(loss_, out, t.values, t.labels, t.weights, dout, n, output_dim_,
                               loss_options_);
}

double Network::penalty() const {
  double p = 0;
  for (const auto& L : layers_) p += L->penalty();
  return p;
}

bool Network::grads_known_finite() const {
  // Arena ranges of the layers that did not prove their gradients finite; scanning them costs
  // what the optimizer's check would, so past half the arena it is left to the optimizer.
  std::vector<std::pair<std::size_t, std::size_t>> rest;
  std::size_t total = 0;
  for (const auto& v : param_views_) {
    if (layers_[std::size_t(v.layer)]->grads_proven_finite()) continue;
    rest.emplace_back(v.offset, v.size());
    total += v.size();
  }
  if (2 * total > grads_.size()) return false;
  for (const auto& [off, size] : rest)
    if (!std::isfinite(max_abs(grads_.data() + off, size))) return false;
  return true;
}

void Network::update_pieces() {
  float* arena = params_.data();
  // Each updated piece goes to the layers while it is in cache, as the whole-arena step's chunk
  // hook does (a Dense repacks its weight for the next forward there).
  auto done = [this](const float* lo, const float* hi) {
    for (auto& L : layers_) L->updated(lo, hi);
  };
  // The arena outside the deferred ranges, in kArenaChunk pieces, from the gradient arena.
  std::vector<std::pair<float*, float*>> deferred;
  for (const auto& L : layers_) {
    auto r = L->deferred_grads();
    if (r.first != r.second) deferred.push_back(r);
  }
  std::sort(deferred.begin(), deferred.end());
  std::vector<std::pair<std::size_t, std::size_t>> rest;  // (offset, length)
  std::size_t at = 0;
  auto add_rest = [&](std::size_t end) {
    for (; at < end; at += std::min(kArenaChunk, end - at))
      rest.emplace_back(at, std::min(kArenaChunk, end - at));
  };
  for (const auto& [lo, hi] : deferred) {
    add_rest(std::size_t(lo - arena));
    at = std::size_t(hi - arena);
  }
  add_rest(params_.size());
  Optimizer& opt = *optimizer_;
  for (const auto& [off, len] : rest) {
    opt.update_piece(arena, grads_.data() + off, off, len);
    done(arena + off, arena + off + len);
  }
  for (auto& L : layers_)
    L->deferred_grad_pieces([&](float* p, const float* g, std::size_t len) {
      opt.update_piece(arena, g, std::size_t(p - arena), len);
      done(p, p + len);
    });
}

StepInfo Network::update(const Optimizer::Hints& hints) {
  check(optimizer_ != nullptr, "no optimizer: compile the model first");
  std::uint64_t t0 = profiling_ ? cycle_ticks() : 0;
  bool deferred = false;
  for (const auto& L : layers_) deferred = deferred || L->deferred_grads().first != nullptr;
  bool pieces = false;
  try {
    pieces = deferred && hints.grads_finite && optimizer_->begin_pieces(params_.size());
  } catch (...) {
    // As a whole-arena step that throws: the gradients stay in the arena for the caller.
    for (auto& L : layers_) L->write_deferred_grads();
    throw;
  }
  // A step that does not take its deferred weight gradients in pieces reads them from the arena.
  if (!pieces)
    for (auto& L : layers_) L->write_deferred_grads();
  for (auto& L : layers_) L->before_update();
  StepInfo info;  // in pieces: proven finite, no norm summed
  if (pieces) {
    update_pieces();
  } else {
    // Each chunk of parameters the optimizer finishes goes to the layers while it is in cache
    // (Dense repacks its weight for the next forward there).
    const float* arena = params_.data();
    struct HookGuard {  // the optimizer may outlive this network (it is shared with Python)
      Optimizer& opt;
      ~HookGuard() { opt.set_chunk_hook(nullptr); }
    } guard{*optimizer_};
    optimizer_->set_chunk_hook([this, arena](std::size_t off, std::size_t len) {
      for (auto& L : layers_) L->updated(arena + off, arena + off + len);
    });
    info = optimizer_->step(params_.data(), grads_.data(), params_.size(), hints);
  }
  for (auto& L : layers_) L->after_update();
  ++version_;
  if (profiling_) add_ticks(pieces ? "dW+optimizer" : "optimizer", t0);
  ++step_;
  draws_ = 0;
  return info;
}

StepInfo Network::optimizer_step() {
  Busy busy(*this);
  return update();
}

// Rows of out (n, k) whose largest value sits at the label's index.
static std::int64_t count_correct(const float* out, const std::int32_t* labels, int n, int k) {
  std::int64_t c = 0;
  for (int i = 0; i < n; ++i) {
    const float* r = out + (std::size_t)i * k;
    int best = 0;
    for (int j = 1; j < k; ++j)
      if (r[j] > r[best]) best = j;
    c += best == labels[i];
  }
  return c;
}

double Network::step_impl(int n, const Targets& t, double* penalty_out, StepInfo* info,
                          std::int64_t* correct, bool want_norm) {
  check(optimizer_ != nullptr, "no optimizer: compile the model first");
  last_rows_ = n;
  last_training_ = true;
  assign_chunk_owners(n);
  const float* out = run_forward(batch_x_.data(), n, true);
  std::uint64_t t0 = profiling_ ? cycle_ticks() : 0;
  double loss = loss_value(out, t, n, dout_.data());
  if (correct && t.labels) *correct += count_correct(out, t.labels, n, output_dim_);
  // Every layer writing all its gradients replaces the zeroing pass (and the weight-gradient
  // GEMMs then skip reading the old gradients; bench/results/design_choices.md#overwrite-grads).
  bool overwrite = true;
  for (const auto& L : layers_) overwrite = overwrite && L->writes_all_grads();
  if (!overwrite) zero_grad();
  if (profiling_) add_ticks("loss+zero_grad", t0);
  // The gradients start from zero here, so bounds on what backward adds bound them: when the
  // optimizer would read them all just to check they are finite, the layers prove it instead
  // (finite_bound.h; the batch L2 term, added after backward, is not bounded).
  const bool prove = optimizer_->checks_finite_first() && batch_l2_ == 0;
  // A step whose norm nobody reads may leave the proven weight gradients to the update
  // (update_pieces), which takes them from cache instead of the arena: on one thread, where
  // that measured faster (bs 32: 0.94x the step; on 2 threads 1.03-1.05x, the whole-arena update
  // there splitting both products and update by the rows each core owns;
  // bench/results/issue33.md#dw-in-pieces).
  const bool defer = prove && !want_norm && num_threads() == 1;
  backward_impl(dout_.data(), n, false, overwrite, prove, defer);
  double pen = 0;
  for (auto& L : layers_) {
    pen += L->penalty();
    L->add_penalty_grad();
  }
  pen += batch_l2_impl(double(n));
  t0 = profiling_ ? cycle_ticks() : 0;
  Optimizer::Hints hints;
  hints.grads_finite = prove && grads_known_finite();
  hints.norm = want_norm;
  if (profiling_) add_ticks("finite_check", t0);
  const StepInfo si = update(hints);
  if (penalty_out) *penalty_out = pen;
  if (info) *info = si;
  return loss;
}

void Network::set_batch_l2(double alpha) {
  check(alpha >= 0 && std::isfinite(alpha), "batch_l2: alpha must be a finite number >= 0");
  batch_l2_ = alpha;
  batch_l2_views_.clear();
  for (const auto& v : param_views_) {
    const std::string& name = v.name;
    if (layers_[v.layer]->type() != "dense" || name.size() < 7 ||
        name.compare(name.size() - 7, 7, ".weight") != 0)
      continue;
    batch_l2_views_.emplace_back(v.offset, v.size());
  }
}

double Network::batch_l2_impl(double batch_weight) {
  if (batch_l2_ == 0) return 0;
  check(batch_weight > 0, "batch_l2: the batch weight must be > 0");
  std::uint64_t t0 = profiling_ ? cycle_ticks() : 0;
  // The same arithmetic as scikit-learn's float64 formula rounded once to float32: the factor is
  // rounded first, the product and the sum each (-ffp-contract=off keeps them unfused), and the
  // squared norm comes from grad_norm's fixed-order sum, so the bits do not depend on threads.
  const float c = float(batch_l2_ / batch_weight);
  double sq = 0;
  for (const auto& [off, size] : batch_l2_views_) {
    const float* w = params_.data() + off;
    float* g = grads_.data() + off;
    const double norm = grad_norm(w, size);
    sq += norm * norm;
    for (std::size_t i = 0; i < size; ++i) g[i] += c * w[i];
  }
  if (profiling_) add_ticks("batch_l2", t0);
  return 0.5 * batch_l2_ * sq / batch_weight;
}

double Network::add_batch_l2(double batch_weight) {
  Busy busy(*this);
  return batch_l2_impl(batch_weight);
}

StepInfo Network::step_from_grad(const float* dout, int n, double* penalty_out) {
  Busy busy(*this);
  check(optimizer_ != nullptr, "no optimizer: compile the model first");
  check(last_training_ && n == last_rows_,
        "step_from_grad: needs a forward(training=True) of the same " + std::to_string(n) +
            " rows first");
  zero_grad();
  backward_impl(dout, n, false, false);
  double pen = 0;
  for (auto& L : layers_) {
    pen += L->penalty();
    L->add_penalty_grad();
  }
  if (penalty_out) *penalty_out = pen;
  return update();
}

double Network::train_step(const float* x, const Targets& t, int n, double* penalty_out,
                           StepInfo* info) {
  Busy busy(*this);
  ensure_workspace(n);
  if (n == 1) check_not_single_row();
  std::memcpy(batch_x_.data(), x, sizeof(float) * (std::size_t)n * input_dim_);
  return step_impl(n, t, penalty_out, info);
}

double Network::loss_grad(const float* x, const Targets& t, int n, bool accumulate) {
  Busy busy(*this);
  ensure_workspace(n);
  if (n == 1) check_not_single_row();
  std::memcpy(batch_x_.data(), x, sizeof(float) * (std::size_t)n * input_dim_);
  last_rows_ = n;
  last_training_ = true;
  assign_chunk_owners(n);
  const float* out = run_forward(batch_x_.data(), n, true);
  const double loss = loss_value(out, t, n, dout_.data());
  bool overwrite = !accumulate;
  for (const auto& L : layers_) overwrite = overwrite && L->writes_all_grads();
  if (!overwrite && !accumulate) zero_grad();
  backward_impl(dout_.data(), n, false, overwrite);
  if (!accumulate)
    for (auto& L : layers_) L->add_penalty_grad();
  return loss;
}

void Network::gather(const float* X, const Targets& t, const std::int64_t* order,
                     std::int64_t begin, int n, Targets& batch) {
  const std::size_t d = input_dim_, k = output_dim_;
  // Shuffled rows come from memory one row at a time, each at its own address: the copy waits on
  // DRAM latency, not bandwidth, so a second thread's misses overlap with the first's (Zen 3,
  // bs 2048, 2 threads: 43 -> 26 ms of a 1.5 s epoch). A copy: the same bits.
  constexpr std::size_t kParallelMin = 1 << 16;  // floats; below this one thread is faster
  const int nt = (std::size_t)n * d >= kParallelMin ? num_threads() : 1;
#pragma omp parallel for schedule(static) num_threads(nt) if (nt > 1)
  for (int r = 0; r < n; ++r) {
    std::int64_t src = order ? order[begin + r] : begin + r;
    std::memcpy(batch_x_.data() + r * d, X + src * d, sizeof(float) * d);
    if (t.values) std::memcpy(batch_yf_.data() + r * k, t.values + src * k, sizeof(float) * k);
    if (t.labels) batch_yi_[r] = t.labels[src];
    if (t.weights) batch_w_[r] = t.weights[src];
  }
  batch.values = t.values ? batch_yf_.data() : nullptr;
  batch.labels = t.labels ? batch_yi_.data() : nullptr;
  batch.weights = t.weights ? batch_w_.data() : nullptr;
}

EpochStats Network::train_epoch(const float* X, const Targets& t, std::int64_t N, int batch_size,
                                const std::int64_t* order, std::int64_t batch_begin,
                                std::int64_t batch_end) {
  Busy busy(*this);
  check(batch_size > 0, "batch_size must be a positive integer");
  check(N > 0, "no training rows");
  check(optimizer_ != nullptr, "no optimizer: compile the model first");
  const std::int64_t nbatches = (N + batch_size - 1) / batch_size;
  batch_end = std::min(batch_end, nbatches);
  const bool needs_stats = needs_batch_statistics();
  ensure_workspace(int(std::min<std::int64_t>(batch_size, N)));
  EpochStats st;
  st.loss_terms.reserve(std::size_t(std::max<std::int64_t>(0, batch_end - batch_begin)));
  st.penalty_terms.reserve(st.loss_terms.capacity());
  // Only the last step's gradient norm is reported (EpochStats::last_grad_norm).
  std::int64_t last = batch_end - 1;
  if (needs_stats && last >= batch_begin && N - last * batch_size == 1) --last;
  for (std::int64_t b = batch_begin; b < batch_end; ++b) {
    const std::int64_t begin = b * batch_size;
    const int rows = int(std::min<std::int64_t>(batch_size, N - begin));
    if (rows == 1 && needs_stats) continue;  // documented: a last batch of one row is dropped
    Targets batch;
    std::uint64_t t0 = profiling_ ? cycle_ticks() : 0;
    gather(X, t, order, begin, rows, batch);
    if (profiling_) add_ticks("gather", t0);
    double pen = 0;
    StepInfo info;
    double loss = step_impl(rows, batch, &pen, &info, &st.correct, b == last);
    st.loss_sum += loss * rows;
    st.penalty_sum += pen * rows;
    st.loss_terms.push_back(loss * rows);
    st.penalty_terms.push_back(pen * rows);
    st.rows += rows;
    st.batches += 1;
    if (!info.finite) st.skipped_nonfinite += 1;
    st.last_grad_norm = info.grad_norm;
  }
  return st;
}

}  // namespace nncore
