// LayerNorm layer over the features of each row, as torch.nn.LayerNorm(in) (kernels in
// nncore/layernorm.h). Spec keys: eps (1e-5, > 0), elementwise_affine (1: a learned per-feature
// weight, starting at 1), bias (1: with elementwise_affine, a learned shift too, starting at 0).
// Saved workspace: each row's mean (a float pair) and rstd. Training and evaluation compute the
// same thing.
#include <cstring>

#include "nncore/layer.h"
#include "nncore/layernorm.h"
#include "nncore/schema.h"

namespace nncore {

namespace {

class LayerNorm final : public Layer {
 public:
  LayerNorm(const LayerSpec& s, int in_dim) {
    in_dim_ = out_dim_ = in_dim;
    // Limits were checked against the schema (make_layer).
    eps_ = float(schema::layer_num(s, "eps"));
    affine_ = schema::layer_num(s, "elementwise_affine") != 0;
    bias_ = affine_ && schema::layer_num(s, "bias") != 0;
  }
  std::string type() const override { return "layernorm"; }
  std::vector<TensorInfo> params() const override {
    std::vector<TensorInfo> t;
    if (affine_) t.push_back({"weight", {in_dim_}});
    if (bias_) t.push_back({"bias", {in_dim_}});
    return t;
  }
  void bind(float* p, float* g, float*) override {
    if (affine_) {
      gamma_ = p;
      dgamma_ = g;
    }
    if (bias_) {
      beta_ = p + in_dim_;
      dbeta_ = g + in_dim_;
    }
  }
  void init(Rng&) override {
    for (int j = 0; j < in_dim_; ++j) {
      if (gamma_) gamma_[j] = 1.f;
      if (beta_) beta_[j] = 0.f;
    }
  }
  std::size_t saved_per_row() const override { return 3; }

  void forward(const float* x, float* y, int n, float* saved, const StepContext&) override {
    // x (n, c) -> y (n, c); saved = [mean (n), mean_lo (n), rstd (n)]
    ln_forward(y, saved, saved + n, saved + 2 * n, x, gamma_, beta_, n, in_dim_, eps_);
  }

  bool writes_all_grads() const override { return true; }
  void backward(const float* x, const float*, float* dy, float* dx, int n, float* saved,
                const StepContext& ctx) override {
    if (ctx.overwrite_grads) {  // a few hundred floats: zero them, then accumulate
      if (dgamma_) std::memset(dgamma_, 0, sizeof(float) * in_dim_);
      if (dbeta_) std::memset(dbeta_, 0, sizeof(float) * in_dim_);
    }
    ln_backward(dx, dgamma_, dbeta_, dy, x, saved, saved + n, saved + 2 * n, gamma_, n, in_dim_);
  }

 private:
  float eps_ = 1e-5f;
  bool affine_ = true, bias_ = true;
  float *gamma_ = nullptr, *beta_ = nullptr, *dgamma_ = nullptr, *dbeta_ = nullptr;
};

}  // namespace

std::unique_ptr<Layer> make_layernorm_layer(const LayerSpec& s, int in_dim) {
  return std::make_unique<LayerNorm>(s, in_dim);
}

}  // namespace nncore
