// Dropout layer: inverted dropout in training, identity in evaluation. The mask is a function of
// (seed, step, layer, element) (see nncore/dropout.h); forward keeps it as 1 bit per element so
// backward does not rerun Philox (bench/results/design_choices.md#dropout-mask-bits).
#include <cmath>
#include <cstdint>
#include <cstring>

#include "nncore/dropout.h"
#include "nncore/layer.h"
#include "nncore/schema.h"

namespace nncore {

namespace {

class Dropout final : public Layer {
 public:
  Dropout(const LayerSpec& s, int in_dim) {
    in_dim_ = out_dim_ = in_dim;
    rate_ = schema::layer_num(s, "rate");  // in [0, 1): checked against the schema (make_layer)
  }
  std::string type() const override { return "dropout"; }
  std::size_t saved_per_row() const override { return std::size_t(in_dim_ + 31) / 32; }

  // saved holds n·ceil(c/32) floats, >= ceil(n·c/32) mask words; it is only ever accessed as
  // words, through this cast.
  void forward(const float* x, float* y, int n, float* saved, const StepContext& ctx) override {
    // x (n, c) -> y (n, c)
    const std::size_t total = std::size_t(n) * in_dim_;
    if (!(ctx.training || ctx.mc_dropout) || rate_ == 0.0) {
      if (x != y) std::memcpy(y, x, sizeof(float) * total);
      return;
    }
    dropout_apply(y, x, total, rate_, ctx.seed, ctx.step,
                  std::uint32_t(ctx.layer_index) | (ctx.draw << 16),
                  reinterpret_cast<std::uint32_t*>(saved));
  }
  void backward(const float*, const float*, float* dy, float* dx, int n, float* saved,
                const StepContext& ctx) override {
    if (!dx) return;
    const std::size_t total = std::size_t(n) * in_dim_;
    if (!ctx.training || rate_ == 0.0) {
      std::memcpy(dx, dy, sizeof(float) * total);
      return;
    }
    dropout_apply_bits(dx, dy, total, rate_, reinterpret_cast<const std::uint32_t*>(saved));
  }

 private:
  double rate_ = 0.5;
};

}  // namespace

std::unique_ptr<Layer> make_dropout_layer(const LayerSpec& s, int in_dim) {
  return std::make_unique<Dropout>(s, in_dim);
}

}  // namespace nncore
