// Optimizers: one fused pass over the flat parameter / gradient / state arenas per step.
// Formulas, hyper-parameter names and defaults follow torch.optim.
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "nncore/common.h"

namespace nncore {

struct StepInfo {
  double grad_norm = -1.0;  // global L2 norm of the gradient before clipping (-1: not computed)
  bool finite = true;       // false when a NaN/inf gradient was seen
  bool skipped = false;     // true when the update was skipped because of it
};

class Optimizer {
 public:
  virtual ~Optimizer() = default;
  virtual std::string name() const = 0;
  // What the caller knows and needs of a step (Network's fused training step):
  // - grads_finite: it proved every gradient finite (finite_bound.h), so the non-finite check
  //   need not read the gradients before the update;
  // - norm: false when nobody reads this step's grad_norm (all but an epoch's last step); with
  //   grads_finite it is then not computed (-1). Neither changes what is updated.
  struct Hints {
    bool grads_finite = false;
    bool norm = true;
  };
  // Updates params in place from grads (which clipping may rescale). n is the arena size;
  // state is allocated on the first step (or by load_state).
  virtual StepInfo step(float* params, float* grads, std::size_t n, const Hints& hints) = 0;
  StepInfo step(float* params, float* grads, std::size_t n) { return step(params, grads, n, {}); }
  // A step applied in pieces (Network's fused weight-gradient pass, after it proved every
  // gradient finite): begin_pieces(n) does what step() does before its pass (state, step count,
  // the step's scalars), or returns false and does nothing where the step needs the whole
  // gradient first (clipnorm); update_piece(p, g, off, len) then updates [off, off + len) of the
  // arenas (p is the arena's start) from g, that range's gradients wherever they lie. Every
  // element exactly once: the same bits as step(), no norm, no check.
  virtual bool begin_pieces(std::size_t n) { return false; }
  virtual void update_piece(float* p, const float* g, std::size_t off, std::size_t len) {}
  // True when step() reads every gradient before the update only to find a non-finite one
  // (skip_nonfinite without clipnorm): a caller that proves them finite saves that read.
  virtual bool checks_finite_first() const { return false; }
  double lr() const { return lr_; }
  void set_lr(double lr);
  std::int64_t steps() const { return steps_; }
  // Hyper-parameters as given (names as in torch.optim) and the state for save/load.
  virtual std::map<std::string, double> hparams() const = 0;
  virtual std::vector<std::string> state_names() const = 0;  // e.g. {"exp_avg", "exp_avg_sq"}
  virtual fvec& state(const std::string& name) = 0;
  void set_steps(std::int64_t s) { steps_ = s; }
  // Changes one hyper-parameter between steps (schedules: OneCycleLR cycles beta1 / momentum).
  // Only values that keep the state layout may change (not amsgrad, centered, nesterov, or
  // momentum to/from 0); the new value is validated like at construction.
  virtual void set_hparam(const std::string& name, double value);
  // Optional owning thread per kArenaChunk-float chunk of the arenas (owned_chunks.h); empty or
  // of the wrong length means even ranges. Placement only: results do not depend on it.
  void set_chunk_owners(std::vector<int> owners) { owners_ = std::move(owners); }
  // Optional: called after each chunk of an update with the chunk's range [off, off + len) of
  // the arenas, on the thread that updated it (several threads at once, on disjoint ranges), so
  // the network can repack a weight while it is still in that core's cache (Dense). Not called
  // for a skipped step.
  using ChunkHook = std::function<void(std::size_t off, std::size_t len)>;
  void set_chunk_hook(ChunkHook hook) { hook_ = std::move(hook); }

 protected:
  ChunkHook hook_;
  double lr_ = 1e-3;
  std::int64_t steps_ = 0;
  std::vector<int> owners_;
};

// Global L2 norm of g (sum of squares in double over fixed 16384-element chunks, each with a fixed
// 32-lane order, chunk sums added in index order: the same bits for any thread count and ISA).
double grad_norm(const float* g, std::size_t n);
// torch.nn.utils.clip_grad_norm_: scales g in place by min(1, max_norm / (norm + 1e-6)); returns
// the pre-clip norm. max_norm must be >= 0.
double clip_grad_norm(float* g, std::size_t n, double max_norm);
// torch.nn.utils.clip_grad_value_: clamps g to [-clip_value, clip_value] in place (NaN stays NaN).
void clip_grad_value(float* g, std::size_t n, double clip_value);

// name: sgd | adagrad | rmsprop | adam | adamw | nadam | adadelta. Unknown names and
// hyper-parameters, and out-of-range values, throw std::invalid_argument naming them. Every
// optimizer also takes clipnorm (0 = off), clipvalue (0 = off), skip_nonfinite (default 1) and
// maximize (default 0). Boolean hyper-parameters are 0/1. Non-finite gradients with
// skip_nonfinite=1: the step is skipped entirely (params, state and steps() untouched, like torch's
// GradScaler skipping optimizer.step()) and StepInfo.skipped is set. The gradient arena is never
// modified by step(): clipping is applied on the fly inside the fused update.
std::shared_ptr<Optimizer> make_optimizer(const std::string& name,
                                          const std::map<std::string, double>& hparams);

}  // namespace nncore
