// Network: the layer sequence, its flat arenas (parameters, gradients, buffers), a workspace
// sized once per batch size, and forward / backward / train_step / train_epoch / predict.
// Access: evaluation calls (predict, infer) may run in many threads at once, each on a pooled
// workspace of its own; training calls (train_step, train_epoch, forward, backward,
// optimizer_step) are exclusive, and one that overlaps any other call gets std::runtime_error
// (never a data race or a wait). See network_access.cpp.
#pragma once
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "nncore/activations.h"
#include "nncore/block_pass.h"
#include "nncore/common.h"
#include "nncore/cycle_clock.h"
#include "nncore/layer.h"
#include "nncore/losses.h"
#include "nncore/optim.h"

namespace nncore {

class WriteWatch;  // write_watch.h (private to the core)

struct TensorView {
  std::string name;  // "<layer index>.<tensor>", e.g. "0.weight", "1.running_mean"
  std::vector<int> shape;
  std::size_t offset;  // in floats, into the arena
  int layer;
  std::size_t size() const {
    std::size_t n = 1;
    for (int d : shape) n *= std::size_t(d);
    return n;
  }
};

// Targets for a loss: integer labels or a float matrix, plus optional sample weights.
struct Targets {
  const float* values = nullptr;         // (n, k) float targets
  const std::int32_t* labels = nullptr;  // (n) class labels (cross_entropy)
  const float* weights = nullptr;        // (n) sample weights
};

struct EpochStats {
  double loss_sum = 0;     // sum over batches of (batch data loss × batch rows)
  double penalty_sum = 0;  // same for the regularisation term
  std::int64_t rows = 0;   // rows trained on
  std::int64_t batches = 0;
  std::int64_t skipped_nonfinite = 0;  // steps whose gradient was NaN/inf
  std::int64_t correct = 0;  // rows whose argmax output equals the label (integer labels only)
  double last_grad_norm = -1;
  // Each batch's (loss × rows) and (penalty × rows), in order: a caller that splits an epoch
  // into several calls adds these one by one, so its sums do not depend on where it split.
  std::vector<double> loss_terms, penalty_terms;
};

class Network {
 public:
  // init_params = false leaves the arenas zero (a loader that copies a file's weights in next
  // initialises nothing randomly).
  Network(int input_dim, const std::vector<LayerSpec>& specs, std::uint64_t seed,
          bool init_params = true);
  ~Network();

  int input_dim() const { return input_dim_; }
  int output_dim() const { return output_dim_; }
  std::uint64_t seed() const { return seed_; }
  std::size_t num_layers() const { return layers_.size(); }
  const Layer& layer(std::size_t i) const { return *layers_[i]; }

  // Arenas and their named views.
  std::size_t num_params() const { return params_.size(); }
  float* params() { return params_.data(); }
  float* grads() { return grads_.data(); }
  float* buffers() { return buffers_.data(); }
  std::size_t num_buffers() const { return buffers_.size(); }
  const std::vector<TensorView>& param_views() const { return param_views_; }
  const std::vector<TensorView>& buffer_views() const { return buffer_views_; }
  void zero_grad();
  // Call after parameters were written from outside (user views, load): re-packs weights.
  void params_changed();
  // For a caller that hands out writable views of the parameter arena (Python's parameters())
  // and cannot know when they are written: call before each evaluation call while views may be
  // alive (exposed), and once more when they are all gone. While exposed, evaluation calls make
  // the arena read-only (WriteWatch, when the arena owns whole pages): a write through a view
  // then faults once, the arena becomes writable again and this call applies params_changed();
  // with no write since, the packed weights and the folded plan are reused as they are.
  void sync_param_writes(bool exposed);
  // How many times evaluation calls (re)built the packed weights and the folded plan.
  std::uint64_t eval_prepares() const { return eval_prepares_; }
  // How many times evaluation calls grew a workspace (a new pooled workspace, or buffers for
  // more rows or threads than before): constant once every batch size and thread count was seen.
  std::uint64_t eval_allocations() const { return eval_allocations_; }

  // Loss, optimizer, output transform (softmax/sigmoid applied by predict only).
  void set_loss(Loss loss, const LossOptions& options = {});
  Loss loss() const { return loss_; }
  void set_optimizer(std::shared_ptr<Optimizer> opt) { optimizer_ = std::move(opt); }
  std::shared_ptr<Optimizer> optimizer() const { return optimizer_; }
  void set_output_transform(Act act) { output_transform_ = act; }
  Act output_transform() const { return output_transform_; }

  // Steps taken (keys dropout masks; saved with the model).
  std::uint64_t step() const { return step_; }
  void set_step(std::uint64_t s) { step_ = s; }

  // The key of a forward's dropout masks: element i of layer l keeps with
  // philox(seed, step, l | draw << 16, i) (nncore/dropout.h; step and draw are taken mod 2^32
  // and 2^16; l counts the layers in pre-order, a residual block before its own layers, so it
  // is the layer's position in a network without blocks). train_step / train_epoch use (the
  // network's seed, steps taken, 0); forward(training) without a key uses draw = the training
  // forwards since the last optimizer step (mod 2^16), so every call draws a new mask and the first
  // after a step is the one train_step would use.
  struct MaskKey {
    std::uint64_t seed = 0, step = 0;
    std::uint32_t draw = 0;
  };
  // x (n, input_dim) -> the network output (n, output_dim), before the output transform.
  // Returns a pointer into the workspace, valid until the next call. every_output: run each
  // layer on its own so that layer_output(i) holds every layer's output (no fused pairs).
  // key: the dropout masks of a training forward (null: as described for MaskKey).
  const float* forward(const float* x, int n, bool training, bool every_output = false,
                       const MaskKey* key = nullptr);
  // One Monte-Carlo dropout sample: evaluation mode (batchnorm running statistics) with dropout
  // drawing the masks of `key`; no output transform. No backward may follow.
  const float* forward_mc(const float* x, int n, const MaskKey& key);

  // Fusing a BatchNorm with the ReLU layer after it (one pass each way instead of two; same
  // bits): on by default, switchable for tests and comparisons.
  void set_fusion(bool on) { fusion_ = on; }
  bool fusion() const { return fusion_; }
  // After forward(training=...): dout (n, output_dim) -> parameter gradients (+=). Returns dX
  // (n, input_dim) in the workspace.
  const float* backward(const float* dout, int n);
  // Loss of `out` (n, output_dim) against targets; dout (may be null) gets dLoss/dout.
  double loss_value(const float* out, const Targets& t, int n, float* dout) const;
  double penalty() const;  // sum of the layers' l1/l2 terms
  // Adds every layer's l1/l2 gradient to the gradient arena, as train_step does after backward:
  // for callers that sum gradients themselves (data-parallel training in nncore.distributed).
  void add_penalty_grads() {
    for (auto& L : layers_) L->add_penalty_grad();
  }

  // scikit-learn's alpha: an L2 penalty on the Dense layers' weights (biases, BatchNorm excluded)
  // scaled by the batch, alpha·ΣW²/(2B) on the loss and alpha·W/B on the gradient, where B is
  // the batch's rows in train_step / train_epoch (its total sample weight in scikit-learn, which
  // callers with sample weights pass to add_batch_l2 themselves). 0 (default) = off. A training
  // setting of the caller, like the optimizer: not saved with the model.
  void set_batch_l2(double alpha);
  double batch_l2() const { return batch_l2_; }
  // Adds alpha·W/B to the weights' gradients and returns alpha·ΣW²/(2B) (0 when off). For
  // callers that sum a batch's gradient themselves (L-BFGS's full batch in chunks).
  double add_batch_l2(double batch_weight);

  // forward(training) + loss + zero_grad + backward + penalty gradient + optimizer step +
  // constraints. Returns the data loss; *penalty_out gets the regularisation term.
  // Loss and gradient of one batch without an update (full-batch solvers such as L-BFGS, and
  // callers that apply their own update rule): forward in training mode, loss, backward without
  // dX. accumulate=false overwrites the gradient arena and adds the layers' l1/l2 gradients;
  // accumulate=true adds this batch's data gradient to the arena (a large batch in chunks).
  // Returns the mean loss as loss_value defines it.
  double loss_grad(const float* x, const Targets& t, int n, bool accumulate);
  // loss_grad over all N rows of X in chunks of `chunk` rows (the gradient accumulated over the
  // chunks, each chunk's targets and weights at its rows of t), X read in place: the full-batch
  // pass of L-BFGS. Returns the sum of the chunks' mean losses. No backward() may follow.
  double loss_grad_rows(const float* X, const Targets& t, std::int64_t N, int chunk);
  // Copies x (float64, the concatenation of the parameter arena's [offset, offset + size)
  // segments) into the arena, rounding to float32, and marks the weights changed; grads_to
  // copies the same segments of the gradient arena out. The variables of a full-batch solver.
  void params_from(const double* x, const std::vector<std::pair<std::size_t, std::size_t>>& segs);
  void grads_to(double* g, const std::vector<std::pair<std::size_t, std::size_t>>& segs) const;
  double train_step(const float* x, const Targets& t, int n, double* penalty_out = nullptr,
                    StepInfo* info = nullptr);
  // Optimizer step on the current gradients + constraints (for user loops).
  StepInfo optimizer_step();
  // The rest of a training step after a forward(training) of n rows whose loss gradient dout
  // (n, output_dim) was computed outside (a Python loss): zero_grad + backward + penalty
  // gradient + optimizer step + constraints, as train_step does after its own loss.
  StepInfo step_from_grad(const float* dout, int n, double* penalty_out = nullptr);

  // Trains batches [batch_begin, batch_end) of one epoch over N rows of X. order (length N) is
  // the row permutation (null = identity). Every batch steps at the optimizer's current lr (a
  // per-batch schedule sets it between calls: the lr lives in the optimizer only). A final
  // batch of one row is skipped when a layer needs batch statistics (batchnorm).
  EpochStats train_epoch(const float* X, const Targets& t, std::int64_t N, int batch_size,
                         const std::int64_t* order, std::int64_t batch_begin,
                         std::int64_t batch_end);

  // Data-parallel training passes over this process's blocks (network_blocks.cpp). x (n, input_dim)
  // holds the blocks' rows concatenated (n = the sum of pass.rows). Layers run one at a time over
  // every block: each row-local layer once per block, with the block's own dropout key, so a block
  // gets exactly the bits a forward of that block alone would; a layer that reduces over rows
  // (reduces_over_blocks: batchnorm) once over all blocks, reducing through pass.reducer.
  // Returns the output (n, output_dim) in the workspace.
  const float* forward_blocks(const float* x, int n, const BlockPass& pass);
  // After forward_blocks with the same pass: dout (n, output_dim), each block's rows already
  // scaled to its share of the batch loss. Each parameter layer's gradient is computed per block
  // and summed into the node sums of the fixed block tree (block_nodes), then announced with
  // pass.reducer->grads_ready, last layer first. The gradient arena is left unspecified except
  // for the slices announced as reduced.
  void backward_blocks(const float* dout, int n, const BlockPass& pass);
  // The node sums of the last backward_blocks: for parameters [offset, offset + size) the K nodes
  // (the maximal aligned sub-trees covering the local blocks, left to right) lie one after the
  // other at [K·offset, K·(offset + size)), so each layer's nodes are one contiguous buffer.
  const fvec& block_nodes() const { return block_nodes_; }
  int block_node_count() const { return block_node_count_; }

  // Evaluation-mode forward in chunks, with the output transform applied: out (n, output_dim).
  // With fold_batchnorm, evaluation-mode BatchNorm is folded into the preceding Dense and
  // activations/dropout into the GEMM epilogue (an inference plan, rebuilt after any change to
  // the parameters or running statistics); results then differ from the layer-by-layer path by
  // rounding only. Networks the plan cannot express fall back to the layer-by-layer path.
  void predict(const float* x, std::int64_t n, float* out, bool fold_batchnorm = false);
  // True when predict(..., fold_batchnorm=true) uses a folded plan for this network.
  bool can_fold() const;
  // One Dense of the folded plan: its weight (out, in) and bias with an evaluation-mode
  // BatchNorm folded in, and the activation that follows it (int8 quantization starts here).
  struct FoldedDense {
    int in = 0, out = 0;
    std::vector<float> weight, bias;
    Act act = Act::linear;
    float alpha = 0.f;
  };
  // The folded plan as a plain chain of Dense layers; false when it is not one (Residual
  // blocks, or a layer the plan cannot fold), with the first such layer and why in *why.
  bool folded_chain(std::vector<FoldedDense>& out, std::string* why = nullptr) const;
  // Evaluation-mode forward (no output transform) copied to out (n, output_dim). Re-entrant like
  // predict. When no other call is running it also keeps its activations in the training
  // workspace, so backward() may follow it as after forward(x, n, false).
  void infer(const float* x, int n, float* out);

  // Output of layer i from the last forward (rows of the last forward × layer(i).out_dim());
  // a BatchNorm fused with its ReLU leaves its own output unwritten (see forward).
  const float* layer_output(std::size_t i) const { return acts_.at(i).data(); }
  int last_rows() const { return last_rows_; }

  // Optional per-phase timing (seconds, accumulated): "<i>.<type>.forward", "<i>.<type>.backward",
  // "loss", "optimizer", "gather"; a residual block's parts also under "<i>.body.<j>.<type>.<pass>"
  // (nested blocks likewise) and "<i>.skip.<pass>" (the skip's add, projection included). Off by
  // default; when off it costs one branch per layer. Phases are timed in CPU cycles and converted
  // with the wall-clock rate measured over the whole window since profiling was switched on or
  // reset.
  void set_profiling(bool on) {
    if (on && !profiling_) profile_window_ = CycleWindow{};
    profiling_ = on;
  }
  std::vector<std::pair<std::string, double>> profile() const;
  void reset_profile() {
    profile_.clear();
    profile_window_ = CycleWindow{};
  }

  // Workspace bytes currently held (for memory reports).
  std::size_t workspace_bytes() const;
  // Bytes of workspace a call on `rows` rows holds, and the widest row any buffer has: what the
  // bindings check before a call allocates.
  double workspace_bytes_for(std::int64_t rows) const;
  int widest() const;

  // The layers a network of these specs is made of, each built for the width before it (throws
  // like the constructor). Nothing is allocated: the bindings size a network with it first.
  static std::vector<std::unique_ptr<Layer>> make_layers(int input_dim,
                                                         const std::vector<LayerSpec>& specs);

 private:
  // RAII guard of an exclusive (training) call (network_access.cpp's rules).
  struct Busy {
    Network& net;
    explicit Busy(Network& n);
    ~Busy();
  };
  // Access modes (network_access.cpp): exclusive = training calls; keeper = an evaluation
  // forward on the training workspace (at most one, alongside readers); reader = an evaluation
  // call on a pooled workspace.
  enum class Access { exclusive, keeper, reader };
  struct EvalWorkspace;
  class EvalCall;
  EvalWorkspace* enter(Access& mode, bool fold);  // may turn a keeper into a reader
  void leave(Access mode, EvalWorkspace* ws);
  void prepare_inference_locked(bool fold);
  void apply_params_changed();
  void size_eval_workspace(EvalWorkspace& ws, int n);
  const float* run_eval(const float* x, int n, EvalWorkspace& ws);
  void predict_rows(const float* x, std::int64_t n, float* out, bool fold, EvalWorkspace& ws);
  bool needs_batch_statistics() const;  // a layer cannot train on a batch of one row
  void check_not_single_row() const;    // throws when such a layer is present
  const float* backward_impl(const float* dout, int n, bool need_dx, bool overwrite_grads = false,
                             bool prove_grads_finite = false, bool defer_weight_grads = false);
  // update()'s pass when the step goes in pieces: the deferred weight gradients
  // (Layer::deferred_grads) computed piece by piece into cache and each piece updated there, the
  // rest of the arena from the gradient arena.
  void update_pieces();
  // After a backward asked to prove its gradients finite: true when every layer proved its own
  // or a scan of the rest found nothing non-finite (false also when the scan would cost more than
  // the optimizer's own check).
  bool grads_known_finite() const;
  double batch_l2_impl(double batch_weight);
  // want_norm: false when the caller does not read the step's grad_norm (train_epoch's steps
  // but its last).
  double step_impl(int n, const Targets& t, double* penalty_out, StepInfo* info,
                   std::int64_t* correct = nullptr, bool want_norm = true);
  // Optimizer step + constraints + step counter. Deferred weight gradients are updated in pieces
  // when hints.grads_finite and the optimizer takes the step in pieces (begin_pieces), else
  // written to the gradient arena first.
  StepInfo update(const Optimizer::Hints& hints = {});
  void ensure_workspace(int n);
  void assign_chunk_owners(int rows);
  void gather(const float* X, const Targets& t, const std::int64_t* order, std::int64_t begin,
              int n, Targets& batch);

  int input_dim_ = 0, output_dim_ = 0;
  std::uint64_t seed_ = 0, step_ = 0;
  std::vector<std::unique_ptr<Layer>> layers_;
  std::vector<int> mask_ids_;  // layer i's StepContext::layer_index (pre-order over blocks)
  fvec params_, grads_, buffers_;
  std::vector<TensorView> param_views_, buffer_views_;
  Loss loss_ = Loss::mse;
  LossOptions loss_options_;
  Act output_transform_ = Act::linear;
  std::shared_ptr<Optimizer> optimizer_;
  double batch_l2_ = 0;
  std::vector<std::pair<std::size_t, std::size_t>> batch_l2_views_;  // (offset, size) of weights

  // Workspace, sized for ws_rows_ rows.
  int ws_rows_ = 0;
  std::vector<fvec> acts_;   // acts_[i] = output of layer i (n, out_dim)
  std::vector<fvec> saved_;  // per-layer saved state
  fvec grad_a_, grad_b_;     // ping-pong gradient buffers (n, max dim)
  fvec batch_x_, batch_yf_, batch_w_, dout_;
  std::vector<std::int32_t> batch_yi_;
  void add_ticks(const std::string& key, std::uint64_t since);
  struct LayerPhases;  // a PhaseSink that files layer i's parts under "<i>."
  struct InferencePlan;
  struct PlanWalk;    // the folding rules over the specs (inference.cpp)
  bool build_plan();  // (re)builds plan_ for the current version_; false if not expressible
  // Grows bufs to hold the plan's values for n rows (counted in eval_allocations_).
  void size_plan_bufs(std::vector<fvec>& bufs, int n);
  // Runs the plan on n rows; bufs (sized by size_plan_bufs) hold its values. reverse: the
  // direction of the batch-1 GEMV (sgemv_packed).
  const float* run_plan(const float* x, int n, std::vector<fvec>& bufs, bool reverse = false);
  // predict's folded path: the plan over n rows in row blocks, output transform included.
  void run_plan_rows(const float* x, std::int64_t n, float* out, EvalWorkspace& ws);
  std::vector<LayerSpec> specs_;
  std::uint64_t version_ = 1;  // bumped whenever parameters or running statistics may change
  std::unique_ptr<InferencePlan> plan_;
  const float* run_forward(const float* x, int n, bool training, bool fuse = true,
                           const MaskKey* key = nullptr, bool mc_dropout = false);
  bool fused_at(std::size_t i) const;  // layer i + 1 (a ReLU) runs inside layer i
  std::string phase_name(std::size_t i, bool relu_fused, const char* pass) const;
  bool fusion_ = true, last_fused_ = false;
  bool profiling_ = false;
  std::vector<std::pair<std::string, double>> profile_;  // ticks per phase
  CycleWindow profile_window_;
  std::vector<int> chunk_owners_;  // owning thread per kArenaChunk chunk (owned_chunks.h)
  int owners_threads_ = 0, owners_rows_ = 0;
  const Optimizer* owners_optimizer_ = nullptr;
  int last_rows_ = 0;
  bool last_training_ = false;
  const float* input_rows_ = nullptr;  // loss_grad_rows: layer 0's input, read in place
  std::mutex access_mu_;
  std::condition_variable access_cv_;
  int readers_ = 0;
  bool writer_ = false, keeper_ = false;
  bool params_pending_ = false;         // params_changed() came while evaluation calls were running
  std::uint64_t prepared_version_ = 0;  // version_ the layers were last prepared for readers at
  std::vector<EvalWorkspace*> free_workspaces_;  // owned (deleted by ~Network)
  std::uint32_t draws_ = 0;        // training forwards since the last optimizer step (MaskKey)
  fvec block_nodes_;               // backward_blocks' tree node sums (see block_nodes())
  std::vector<fvec> block_stack_;  // its scratch: partial tree nodes of one layer
  int block_node_count_ = 0;
  bool watch_writes_ = false;  // sync_param_writes(true): arm the watch on evaluation
  std::uint64_t eval_prepares_ = 0;
  std::atomic<std::uint64_t> eval_allocations_{0};
  // Made by the constructor and never replaced (any thread may ask it); last member, so it is
  // disarmed before the arenas are freed.
  std::unique_ptr<WriteWatch> watch_;
  bool watch_armed() const;
  void arm_watch();  // under access_mu_
};

}  // namespace nncore
