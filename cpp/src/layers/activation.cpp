// Activation layer: an elementwise (or row-wise softmax) function with no parameters. Backward
// uses the layer's input as z and its output as y, so it keeps nothing of its own.
#include "nncore/activations.h"
#include "nncore/layer.h"

namespace nncore {

namespace {

class Activation final : public Layer {
 public:
  Activation(const LayerSpec& s, int in_dim) {
    in_dim_ = out_dim_ = in_dim;
    act_ = parse_act(s.get_str("activation", "linear"));
    alpha_ = float(s.get("alpha", act_default_alpha(act_)));
  }
  std::string type() const override { return "activation"; }
  bool is_relu() const override { return act_ == Act::relu; }
  void forward(const float* x, float* y, int n, float*, const StepContext&) override {
    act_forward(act_, alpha_, x, y, (std::size_t)n * in_dim_, in_dim_);
  }
  void backward(const float* x, const float* y, float* dy, float* dx, int n, float*,
                const StepContext&) override {
    if (!dx) return;
    act_backward(act_, alpha_, x, y, dy, dx, (std::size_t)n * in_dim_, in_dim_);
  }

 private:
  Act act_;
  float alpha_;
};

}  // namespace

std::unique_ptr<Layer> make_activation_layer(const LayerSpec& s, int in_dim) {
  return std::make_unique<Activation>(s, in_dim);
}

}  // namespace nncore
