// Who may run a call on a Network, and the re-entrant evaluation path.
//
// A reader/writer scheme that never waits on a training call: training calls (exclusive) need
// the network to themselves and throw std::runtime_error when anything else is running, as
// they always did. Evaluation calls (readers) may run in any number of threads at once; each
// takes a workspace from a pool (grown to the largest concurrency and batch seen, then reused)
// and runs the layers with StepContext::shared, so nothing in the network is written. What
// forward(training=false) would build lazily (packed weights, the folded plan) is built under
// the lock on entry, while no reader is inside the layers.
//
// One evaluation forward at a time may instead be a "keeper": it runs on the training
// workspace, so backward() can follow it as before; readers run beside it.
#include <algorithm>
#include <cstring>
#include <stdexcept>

#include "inference_plan.h"
#include "nncore/network.h"
#include "write_watch.h"

namespace nncore {

namespace {
// Two messages: the caller refused is either an evaluation call that met a training call, or a
// training call that met anything.
[[noreturn]] void busy(bool training_caller) {
  if (!training_caller)
    throw std::runtime_error(
        "this model is already running a call in another thread: a training call (fit, "
        "train_step, forward(training=True), backward, an optimizer step), which predict, "
        "evaluate and forward(training=False) cannot overlap on the same model (they run beside "
        "each other, not beside training); call them between training calls, or on a copy "
        "(copy.deepcopy(model))");
  throw std::runtime_error(
      "this model is already running a call in another thread: training calls (fit, "
      "train_step, forward(training=True), backward, optimizer steps) cannot overlap any other "
      "call on the same model; predict, evaluate and forward(training=False) may run in many "
      "threads at once, but not beside training");
}
}  // namespace

void Network::prepare_inference_locked(bool fold) {
  if (prepared_version_ != version_) {
    for (auto& L : layers_) L->prepare_inference();
    prepared_version_ = version_;
    ++eval_prepares_;
  }
  if (fold) build_plan();
}

Network::EvalWorkspace* Network::enter(Access& mode, bool fold) {
  std::unique_lock<std::mutex> lock(access_mu_);
  if (writer_) busy(mode == Access::exclusive);
  if (mode == Access::exclusive) {
    if (keeper_ || readers_ > 0) busy(true);
    writer_ = true;
    if (params_pending_) {
      apply_params_changed();
      params_pending_ = false;
    }
    return nullptr;
  }
  // Weights written from outside while readers ran are applied once the readers have left:
  // this waits for evaluation calls only (they finish on their own), never for training calls.
  access_cv_.wait(lock, [&] { return !params_pending_ || (readers_ == 0 && !keeper_); });
  if (writer_) busy(false);
  if (params_pending_) {
    apply_params_changed();
    params_pending_ = false;
  }
  // Armed before the weights are read for packing: a write from now on is seen by the next call.
  if (watch_writes_) arm_watch();
  // Layers are prepared only while no reader is inside them: prepared_version_ can be stale
  // here only if no reader has entered since the last exclusive call or params change.
  prepare_inference_locked(fold);
  if (mode == Access::keeper && !keeper_) {
    keeper_ = true;
    return nullptr;
  }
  mode = Access::reader;  // a keeper is already running: this call gets a pooled workspace
  if (free_workspaces_.empty()) {
    free_workspaces_.reserve(std::size_t(readers_) + 1);  // room for every reader to return
    ++readers_;
    ++eval_allocations_;
    return new EvalWorkspace();
  }
  ++readers_;
  EvalWorkspace* ws = free_workspaces_.back();
  free_workspaces_.pop_back();
  return ws;
}

void Network::leave(Access mode, EvalWorkspace* ws) {
  std::lock_guard<std::mutex> lock(access_mu_);
  if (mode == Access::exclusive) {
    writer_ = false;
  } else if (mode == Access::keeper) {
    keeper_ = false;
  } else {
    free_workspaces_.push_back(ws);  // reserved in enter: cannot throw here
    --readers_;
  }
  access_cv_.notify_all();
}

// Holds an evaluation call's access (reader or keeper) for its lifetime, exception-safe.
class Network::EvalCall {
 public:
  EvalCall(Network& net, Access mode, bool fold) : net_(net), mode_(mode) {
    ws_ = net.enter(mode_, fold);
  }
  ~EvalCall() { net_.leave(mode_, ws_); }
  bool keeper() const { return mode_ == Access::keeper; }
  EvalWorkspace& ws() { return *ws_; }

 private:
  Network& net_;
  Access mode_;
  EvalWorkspace* ws_ = nullptr;
};

void Network::params_changed() {
  std::lock_guard<std::mutex> lock(access_mu_);
  if (writer_) busy(true);
  if (readers_ > 0 || keeper_) {
    params_pending_ = true;  // applied by the next call that finds no reader running
    return;
  }
  apply_params_changed();
}

// The layer-by-layer evaluation forward of run_forward (same layers, same fusion, same bits),
// on a pooled workspace and without touching the network's own state.
void Network::size_eval_workspace(EvalWorkspace& ws, int n) {
  if (n > ws.rows) {
    ++eval_allocations_;
    ws.acts.resize(layers_.size());
    ws.saved.resize(layers_.size());
    for (std::size_t i = 0; i < layers_.size(); ++i) {
      const Layer& L = *layers_[i];
      ws.acts[i].assign((std::size_t)n * L.out_dim(), 0.f);
      ws.saved[i].assign((std::size_t)n * L.saved_per_row() + L.saved_fixed(), 0.f);
    }
    ws.rows = n;
  }
}

const float* Network::run_eval(const float* x, int n, EvalWorkspace& ws) {
  size_eval_workspace(ws, n);
  StepContext ctx{false, seed_, step_, 0};
  ctx.shared = true;
  const float* in = x;
  for (std::size_t i = 0; i < layers_.size(); ++i) {
    ctx.layer_index = mask_ids_[i];
    ctx.relu_fused = fusion_ && fused_at(i);
    float* out = ws.acts[ctx.relu_fused ? i + 1 : i].data();
    layers_[i]->forward(in, out, n, ws.saved[i].data(), ctx);
    in = out;
    if (ctx.relu_fused) ++i;
  }
  return in;
}

void Network::predict_rows(const float* x, std::int64_t n, float* out, bool fold,
                           EvalWorkspace& ws) {
  if (fold && plan_ && plan_->ok) {
    run_plan_rows(x, n, out, ws);
    return;
  }
  const int chunk = int(std::min<std::int64_t>(n, std::max(ws.rows, 1024)));
  const std::size_t d = input_dim_, k = output_dim_;
  for (std::int64_t r0 = 0; r0 < n; r0 += chunk) {
    const int rows = int(std::min<std::int64_t>(chunk, n - r0));
    size_eval_workspace(ws, rows);
    const float* y = run_eval(x + r0 * d, rows, ws);
    float* o = out + r0 * k;
    if (output_transform_ != Act::linear)
      act_forward(output_transform_, 0.f, y, o, (std::size_t)rows * k, k);
    else
      std::memcpy(o, y, sizeof(float) * rows * k);
  }
}

void Network::predict(const float* x, std::int64_t n, float* out, bool fold_batchnorm) {
  if (n <= 0) return;
  EvalCall call(*this, Access::reader, fold_batchnorm);
  predict_rows(x, n, out, fold_batchnorm, call.ws());
}

void Network::infer(const float* x, int n, float* out) {
  check(n > 0, "a batch needs at least one row");
  EvalCall call(*this, Access::keeper, false);
  const float* y;
  if (call.keeper()) {  // no other keeper: run as forward(x, n, false) did, for backward()
    ensure_workspace(n);
    std::memcpy(batch_x_.data(), x, sizeof(float) * (std::size_t)n * input_dim_);
    last_rows_ = n;
    last_training_ = false;
    y = run_forward(batch_x_.data(), n, false);
  } else {
    y = run_eval(x, n, call.ws());
  }
  std::memcpy(out, y, sizeof(float) * (std::size_t)n * output_dim_);
}

bool Network::watch_armed() const { return watch_->armed(); }

void Network::arm_watch() {
  // Only an arena that owns its pages: AlignedAllocator gives buffers of 1 MiB or more whole
  // 2 MiB pages (smaller models keep re-packing on every call while views are held).
  if (!watch_->watching() && params_.capacity() * sizeof(float) >= (std::size_t(1) << 20))
    watch_->watch(params_.data(), params_.size() * sizeof(float));
  watch_->arm();
}

void Network::sync_param_writes(bool exposed) {
  // Not armed: never armed yet, or a write faulted since the last evaluation call.
  if (!watch_armed()) params_changed();
  std::lock_guard<std::mutex> lock(access_mu_);
  watch_writes_ = exposed;
  if (!exposed) watch_->disarm();
}

Network::~Network() {
  for (EvalWorkspace* ws : free_workspaces_) delete ws;
}

}  // namespace nncore
