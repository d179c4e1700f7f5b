// The Layer interface: what a layer tells the Network (parameter and buffer sizes, workspace
// it keeps between forward and backward) and its forward/backward over raw batch pointers.
// Parameters, gradients and buffers live in the Network's flat arenas; a layer holds views.
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "nncore/common.h"
#include "nncore/rng.h"

namespace nncore {

struct BlockPass;  // nncore/block_pass.h

// A layer's hyper-parameters as they come from Python: a type name, numbers and strings.
struct LayerSpec {
  std::string type;  // a schema layer kind: "dense", "batchnorm", "layernorm", "residual", ...
  std::map<std::string, double> num;
  std::map<std::string, std::string> str;
  std::map<std::string, std::vector<double>> list;  // column indices, cardinalities (embedding)
  std::vector<LayerSpec> children;                  // a block's layers, in order (residual)
  // This layer and every layer nested in it: the dropout-mask ids it takes (see StepContext).
  int count() const {
    int c = 1;
    for (const auto& ch : children) c += ch.count();
    return c;
  }
  double get(const std::string& key, double fallback) const {
    auto it = num.find(key);
    return it == num.end() ? fallback : it->second;
  }
  std::string get_str(const std::string& key, const std::string& fallback) const {
    auto it = str.find(key);
    return it == str.end() ? fallback : it->second;
  }
};

// One named tensor inside an arena. shape is PyTorch's (weights are (out, in)).
struct TensorInfo {
  std::string name;
  std::vector<int> shape;
  std::size_t size() const {
    std::size_t s = 1;
    for (int d : shape) s *= static_cast<std::size_t>(d);
    return s;
  }
};

// Where a layer made of layers (a residual block) reports its parts' times when the network is
// profiling: add(name, since) accumulates cycle_ticks() - since under the network's key for this
// layer + "." + name (nncore/cycle_clock.h).
struct PhaseSink {
  virtual void add(const std::string& name, std::uint64_t since) = 0;

 protected:
  ~PhaseSink() = default;
};

// What a forward/backward call knows about the step it belongs to.
struct StepContext {
  bool training = false;
  std::uint64_t seed = 0;  // the network's seed (keys dropout masks)
  std::uint64_t step = 0;  // optimizer steps taken so far (part of the dropout counter)
  // The layer's id in a pre-order walk over the network's layers, blocks' children included (a
  // block, then its layers): the position in the network when there are no blocks. Part of
  // the dropout counter.
  int layer_index = 0;
  // Parameter gradients are written (=) instead of accumulated (+=): the fused training step
  // then needs no zeroing pass, and the weight-gradient GEMM does not read the old gradient.
  bool overwrite_grads = false;
  // Backward may prove its parameter gradients finite (grads_proven_finite) where that is cheaper
  // than the optimizer reading them: asked by the fused training step, whose optimizer skips a
  // step with a non-finite gradient.
  bool prove_grads_finite = false;
  // Layers that proved their gradients finite may defer their weight gradients
  // (Layer::deferred_grads): asked by the fused training step when the step's norm is not read.
  // A block (Residual) clears both for its children: the network asks only its own layers.
  bool defer_weight_grads = false;
  // The following ReLU layer is fused into this one (only for layers whose fuses_relu() is
  // true): forward writes relu(output) — to the ReLU layer's output buffer — and backward gets
  // that ReLU's output as y and the gradient of it as dy.
  bool relu_fused = false;
  // A re-entrant evaluation call (other threads may run the same layer at once): forward must
  // not write the layer's own members.
  bool shared = false;
  // Dropout's mask counter word is layer_index | draw << 16 (see Network::MaskKey).
  std::uint32_t draw = 0;
  // Dropout draws masks although training is false (Monte-Carlo dropout: everything else, e.g.
  // batchnorm, stays in evaluation mode).
  bool mc_dropout = false;
  PhaseSink* phases = nullptr;  // set while the network is profiling
  // Data-parallel block pass (Network::forward_blocks): set only for the layers that reduce over
  // rows themselves (reduces_over_blocks()), which then see every local block in one call.
  const BlockPass* blocks = nullptr;
};

class Layer {
 public:
  virtual ~Layer() = default;
  virtual std::string type() const = 0;
  int in_dim() const { return in_dim_; }
  int out_dim() const { return out_dim_; }

  // Trainable tensors (in arena order) and non-trained state saved with the model.
  virtual std::vector<TensorInfo> params() const { return {}; }
  virtual std::vector<TensorInfo> buffers() const { return {}; }
  // Views into the arenas: params()/buffers() laid out consecutively from these pointers.
  virtual void bind(float* params, float* grads, float* buffers) {}
  virtual void init(Rng& rng) {}

  // Workspace kept from forward to backward: rows·saved_per_row() + saved_fixed() floats.
  virtual std::size_t saved_per_row() const { return 0; }
  virtual std::size_t saved_fixed() const { return 0; }

  // x (n, in) -> y (n, out). saved is this layer's workspace (see above).
  virtual void forward(const float* x, float* y, int n, float* saved, const StepContext& ctx) = 0;
  // Given dy (n, out) — which the layer may overwrite — accumulates parameter gradients (+=),
  // or writes every one of them when ctx.overwrite_grads (only asked of layers whose
  // writes_all_grads() is true), and writes dx (n, in) unless dx is null (first layer).
  // x, y are forward's input and output.
  virtual void backward(const float* x, const float* y, float* dy, float* dx, int n, float* saved,
                        const StepContext& ctx) = 0;

  // True when backward honours ctx.overwrite_grads (trivially true without parameters).
  virtual bool writes_all_grads() const { return params().empty(); }
  // True when the last backward, asked with ctx.prove_grads_finite, proved finite everything it
  // wrote or added to its parameter gradients, without reading them (Dense: finite_bound.h);
  // false when it could not or did not try, or when its penalty gradient is added afterwards.
  // The network asks only where the gradients started from zero, and scans the other layers.
  virtual bool grads_proven_finite() const { return false; }
  // With ctx.defer_weight_grads, a layer that proved its gradients finite may leave a weight
  // gradient unwritten and compute it later piece by piece, each piece handed to the optimizer
  // while it is in cache (Network's fused update; Dense). deferred_grads: the range of the
  // parameter arena left unwritten (empty when none). deferred_grad_pieces: computes them into
  // scratch and calls piece(p, g, len) for each piece of parameters [p, p + len) and its
  // gradients g (on the calling thread: the network defers on one thread). write_deferred_grads:
  // writes them into the gradient arena instead (a step that falls back to the whole-arena update).
  using GradPiece = std::function<void(float* p, const float* g, std::size_t len)>;
  virtual std::pair<float*, float*> deferred_grads() const { return {nullptr, nullptr}; }
  virtual void deferred_grad_pieces(const GradPiece& piece) {}
  virtual void write_deferred_grads() {}
  // True when forward/backward honour ctx.relu_fused; true for an Activation layer that is a
  // plain ReLU (the network may then skip it, see Network::run_forward).
  virtual bool fuses_relu() const { return false; }
  virtual bool is_relu() const { return false; }

  // Regularisation term this layer adds to the loss (l1/l2), and its gradient (added to grads).
  virtual double penalty() const { return 0.0; }
  virtual void add_penalty_grad() {}
  // Around every optimizer step: before_update(), then updated(lo, hi) for each chunk [lo, hi)
  // of the parameter arena as the optimizer finishes it (from several threads at once, on
  // disjoint chunks; a layer looks for the overlap with its own parameters), then
  // after_update(): constraints (max-norm); packed weights not repacked in updated() go stale.
  virtual void before_update() {}
  virtual void updated(const float* lo, const float* hi) {}
  virtual void after_update() {}
  // Called after parameters were changed from outside (load, user writes).
  virtual void params_changed() { after_update(); }
  // Called with no other call running before evaluation calls that may run concurrently: builds
  // whatever forward(training=false) would otherwise build lazily (packed weights).
  virtual void prepare_inference() {}
  // True when a forward in training mode cannot run on a batch of one row (batchnorm).
  virtual bool needs_batch_statistics() const { return false; }
  // True for a layer whose input is the network's raw input (integer codes): Network refuses
  // it anywhere but first.
  virtual bool first_only() const { return false; }
  // True when forward/backward reduce over the rows of the whole global batch in a block pass
  // (ctx.blocks): such a layer runs once over all local blocks and sums its per-block partials
  // with ctx.blocks->reducer. Every other layer runs once per block, as if the block were alone.
  virtual bool reduces_over_blocks() const { return false; }

 protected:
  int in_dim_ = 0, out_dim_ = 0;
};

// Builds a layer from its spec given the input width; throws std::invalid_argument on bad
// hyper-parameters (the message names the layer type and the parameter).
std::unique_ptr<Layer> make_layer(const LayerSpec& spec, int in_dim);
// Per-type factories, one per layer file.
std::unique_ptr<Layer> make_dense_layer(const LayerSpec& spec, int in_dim);
std::unique_ptr<Layer> make_activation_layer(const LayerSpec& spec, int in_dim);
std::unique_ptr<Layer> make_batchnorm_layer(const LayerSpec& spec, int in_dim);
std::unique_ptr<Layer> make_layernorm_layer(const LayerSpec& spec, int in_dim);
std::unique_ptr<Layer> make_dropout_layer(const LayerSpec& spec, int in_dim);
std::unique_ptr<Layer> make_residual_layer(const LayerSpec& spec, int in_dim);
std::unique_ptr<Layer> make_embedding_layer(const LayerSpec& spec, int in_dim);

}  // namespace nncore
