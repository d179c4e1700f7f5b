// BatchNorm layer over features of a (n, c) batch, as torch.nn.BatchNorm1d (kernels and the
// spec keys are documented in nncore/batchnorm.h). Saved workspace: mean (c) and invstd (c) of
// the statistics forward used; backward picks batch or fixed-statistics maths from the mode
// forward ran in. In a data-parallel block pass (ctx.blocks) the statistics and the backward's
// sums are those of the whole global batch (synchronised BatchNorm, see forward_synced).
#include <cmath>
#include <cstring>
#include <vector>

#include "nncore/activations.h"
#include "nncore/batchnorm.h"
#include "nncore/block_pass.h"
#include "nncore/layer.h"
#include "nncore/schema.h"

namespace nncore {

namespace {

// From this many rows the fused ReLU's backward runs as a separate in-place pass (see backward).
constexpr int kMaskFirstRows = 256;

class BatchNorm final : public Layer {
 public:
  BatchNorm(const LayerSpec& s, int in_dim) {
    in_dim_ = out_dim_ = in_dim;
    // Limits were checked against the schema (make_layer).
    const double momentum = schema::layer_num(s, "momentum"), eps = schema::layer_num(s, "eps");
    const double affine = schema::layer_num(s, "affine"), batch1 = schema::layer_num(s, "batch1");
    momentum_ = float(momentum);
    eps_ = float(eps);
    affine_ = affine != 0;
    batch1_fallback_ = batch1 != 0;
  }
  std::string type() const override { return "batchnorm"; }
  std::vector<TensorInfo> params() const override {
    if (!affine_) return {};
    return {{"weight", {in_dim_}}, {"bias", {in_dim_}}};
  }
  std::vector<TensorInfo> buffers() const override {
    return {{"running_mean", {in_dim_}}, {"running_var", {in_dim_}}};
  }
  void bind(float* p, float* g, float* b) override {
    if (affine_) {
      gamma_ = p;
      beta_ = p + in_dim_;
      dgamma_ = g;
      dbeta_ = g + in_dim_;
    }
    rmean_ = b;
    rvar_ = b + in_dim_;
  }
  void init(Rng&) override {
    for (int j = 0; j < in_dim_; ++j) {
      if (affine_) {
        gamma_[j] = 1.f;
        beta_[j] = 0.f;
      }
      rmean_[j] = 0.f;
      rvar_[j] = 1.f;
    }
  }
  std::size_t saved_fixed() const override { return 2 * std::size_t(in_dim_); }
  bool needs_batch_statistics() const override { return !batch1_fallback_; }
  bool reduces_over_blocks() const override { return true; }

  void forward(const float* x, float* y, int n, float* saved, const StepContext& ctx) override {
    // x (n, c) -> y (n, c); saved = [mean (c), invstd (c)]
    if (ctx.blocks && ctx.training) return forward_synced(x, y, n, saved, ctx);
    float* mean = saved;
    float* invstd = saved + in_dim_;
    // Concurrent evaluation calls leave batch_stats_ (read by backward) to the training calls.
    if (!ctx.shared) batch_stats_ = ctx.training && n > 1;
    if (ctx.training && n == 1)
      check(batch1_fallback_,
            "BatchNorm: a training batch of one row has no variance (set batch1=1 to use the "
            "running statistics for such batches)");
    if (ctx.training && n > 1) {
      bn_forward_train(y, mean, invstd, x, gamma_, beta_, n, in_dim_, eps_, momentum_, rmean_,
                       rvar_, ctx.relu_fused);
    } else {
      std::memcpy(mean, rmean_, sizeof(float) * in_dim_);
      bn_forward_eval(y, invstd, x, gamma_, beta_, rmean_, rvar_, n, in_dim_, eps_, ctx.relu_fused);
    }
  }

  bool writes_all_grads() const override { return true; }
  bool fuses_relu() const override { return true; }
  void backward(const float* x, const float* y, float* dy, float* dx, int n, float* saved,
                const StepContext& ctx) override {
    if (ctx.overwrite_grads && dgamma_) {  // a few hundred floats: zero them, then accumulate
      std::memset(dgamma_, 0, sizeof(float) * in_dim_);
      std::memset(dbeta_, 0, sizeof(float) * in_dim_);
    }
    const float* relu_y = ctx.relu_fused ? y : nullptr;
    if (ctx.blocks && batch_stats_) return backward_synced(x, relu_y, dy, dx, n, saved, ctx);
    if (relu_y && n >= kMaskFirstRows) {
      // From 256 rows: mask dy in place first (one contiguous pass; dy is ours to overwrite).
      // Masking inside the kernel's column-block passes reads a third 2 KB-strided stream there:
      // the fused backward ran slower than two layers
      // (bench/results/design_choices.md#bn-relu-mask-first).
      act_backward(Act::relu, 0.f, nullptr, relu_y, dy, dy, std::size_t(n) * in_dim_, in_dim_);
      relu_y = nullptr;
    }
    bn_backward(dx, dgamma_, dbeta_, dy, x, saved, saved + in_dim_, gamma_, n, in_dim_,
                batch_stats_, relu_y);
  }

 private:
  // Synchronised BatchNorm: the statistics of the global batch, whose blocks are spread over
  // processes. Each sum is taken per local block, then summed over all blocks by the reducer (in
  // one fixed tree over the global blocks); the arithmetic around the sums is bn_forward_train's,
  // so a global batch of one block gives its bits. Two reductions: the mean, then the centred
  // squares around it (the two-pass variance of the one-process kernel).
  void forward_synced(const float* x, float* y, int n, float* saved, const StepContext& ctx) {
    const BlockPass& p = *ctx.blocks;
    const int c = in_dim_;
    check(p.global_rows > 1,
          "BatchNorm: a training batch of one row has no variance (synchronised statistics)");
    float* mean = saved;
    float* invstd = saved + c;
    block_sums(p, x, c, [&](double* s, const float* xb, int rows) { bn_sum_rows(s, xb, rows, c); });
    const double N = double(p.global_rows);
    std::vector<double> md(std::size_t(c), 0.0);
    for (int j = 0; j < c; ++j) md[j] = total_[j] / N;
    block_sums(p, x, c, [&](double* q, const float* xb, int rows) {
      bn_sum_squared_deviations(q, xb, md.data(), rows, c);
    });
    const double m = momentum_;
    for (int j = 0; j < c; ++j) {
      const double var = total_[j] / N;
      mean[j] = float(md[j]);
      invstd[j] = float(1.0 / std::sqrt(var + double(eps_)));
      rmean_[j] = float((1 - m) * rmean_[j] + m * md[j]);
      rvar_[j] = float((1 - m) * rvar_[j] + m * (total_[j] / (N - 1)));
    }
    bn_normalize(y, x, mean, invstd, gamma_, beta_, n, c, ctx.relu_fused);
    batch_stats_ = true;
  }

  // The backward of forward_synced: Σ dy and Σ dy·x̂ over the global batch give dbeta and dgamma
  // (the same on every process: their gradients need no further reduction) and dx.
  void backward_synced(const float* x, const float* relu_y, const float* dy, float* dx, int n,
                       const float* saved, const StepContext& ctx) {
    const BlockPass& p = *ctx.blocks;
    const int c = in_dim_;
    const float* mean = saved;
    const float* invstd = saved + c;
    block_sums(
        p, x, 2 * c,
        [&](double* s, const float* xb, int rows) {
          const std::size_t off = std::size_t(xb - x);
          bn_sum_grads(s, dy + off, relu_y ? relu_y + off : nullptr, xb, mean, invstd, rows, c);
        },
        c);
    if (dgamma_) {
      for (int j = 0; j < c; ++j) {
        dbeta_[j] += float(total_[j]);
        dgamma_[j] += float(total_[c + j]);
      }
    }
    if (dx)
      bn_backward_dx(dx, dy, relu_y, x, mean, invstd, gamma_, total_.data(), double(p.global_rows),
                     n, c);
  }

  // total_ (width) = the global sum of f's per-block partial sums; f(partial, block rows, rows)
  // fills `width` doubles for one block (blocks advance through x by `stride` floats per row).
  template <class F>
  void block_sums(const BlockPass& p, const float* x, int width, F f, int stride = 0) {
    const int nb = int(p.rows.size());
    if (stride == 0) stride = width;
    partial_.assign(std::size_t(nb) * width, 0.0);
    total_.assign(std::size_t(width), 0.0);
    std::size_t row = 0;
    for (int b = 0; b < nb; ++b) {
      f(partial_.data() + std::size_t(b) * width, x + row * stride, p.rows[b]);
      row += std::size_t(p.rows[b]);
    }
    p.reducer->sum_blocks(partial_.data(), nb, width, total_.data());
  }

  std::vector<double> partial_, total_;  // block_sums' scratch and result
  float momentum_ = 0.1f, eps_ = 1e-5f;
  bool affine_ = true, batch1_fallback_ = false, batch_stats_ = false;
  float *gamma_ = nullptr, *beta_ = nullptr, *dgamma_ = nullptr, *dbeta_ = nullptr;
  float *rmean_ = nullptr, *rvar_ = nullptr;
};

}  // namespace

std::unique_ptr<Layer> make_batchnorm_layer(const LayerSpec& s, int in_dim) {
  return std::make_unique<BatchNorm>(s, in_dim);
}

}  // namespace nncore
