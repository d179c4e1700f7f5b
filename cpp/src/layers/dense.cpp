// Dense layer: y = act(x·Wᵀ + b), W (out, in) as in PyTorch. Bias and elementwise activation
// run in the GEMM epilogue; the weight is kept packed for the GEMM micro-kernel, repacked by the
// optimizer step as it writes it, or lazily after other changes. l1/l2 penalties and the
// max-norm constraint live here too.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <memory>
#include <utility>
#include <vector>

#include "nncore/activations.h"
#include "nncore/finite_bound.h"
#include "nncore/gemm.h"
#include "nncore/init.h"
#include "nncore/layer.h"
#include "nncore/regularization.h"
#include "nncore/schema.h"
#include "nncore/threading.h"

namespace nncore {

namespace {

// From this many batch rows (the weight gradient's K) the product itself checks dW for NaN/inf
// (Dense::backward).
constexpr int kCheckInEpilogueRows = 64;

// db += column sums of dz (n, cols). Each thread owns a block of columns and sums its rows in
// order, so the result does not depend on the thread count.
void add_column_sums(float* db, const float* dz, int n, int cols) {
  const int block = 64;
  const int nblocks = (cols + block - 1) / block;
  const bool par = (long)n * cols > 1 << 16;
#pragma omp parallel for num_threads(num_threads()) if (par) schedule(static)
  for (int b = 0; b < nblocks; ++b) {
    const int j0 = b * block, j1 = std::min(cols, j0 + block);
    float acc[64];
    for (int j = j0; j < j1; ++j) acc[j - j0] = 0.f;
    for (int i = 0; i < n; ++i) {
      const float* row = dz + (std::size_t)i * cols;
      for (int j = j0; j < j1; ++j) acc[j - j0] += row[j];
    }
    for (int j = j0; j < j1; ++j) db[j] += acc[j - j0];
  }
}

class Dense final : public Layer {
 public:
  Dense(const LayerSpec& s, int in_dim) {
    in_dim_ = in_dim;
    // Limits were checked against the schema (make_layer); the cap is the core's int indexing.
    const double units = schema::layer_num(s, "units");
    check(units < (1 << 30), "Dense: units must be below 2**30, got " + std::to_string(units));
    out_dim_ = int(units);
    act_ = parse_act(s.get_str("activation", "linear"));
    alpha_ = float(s.get("alpha", act_default_alpha(act_)));
    Init init = parse_init(s.get_str("init", "auto"));
    init_ = init == Init::auto_ ? resolve_auto_init(act_) : init;
    use_bias_ = schema::layer_num(s, "use_bias") != 0;
    l1_ = float(schema::layer_num(s, "l1"));
    l2_ = float(schema::layer_num(s, "l2"));
    max_norm_ = float(schema::layer_num(s, "max_norm"));
  }
  std::string type() const override { return "dense"; }
  std::vector<TensorInfo> params() const override {
    std::vector<TensorInfo> p{{"weight", {out_dim_, in_dim_}}};
    if (use_bias_) p.push_back({"bias", {out_dim_}});
    return p;
  }
  void bind(float* p, float* g, float*) override {
    w_ = p;
    gw_ = g;
    b_ = use_bias_ ? p + (std::size_t)out_dim_ * in_dim_ : nullptr;
    gb_ = use_bias_ ? g + (std::size_t)out_dim_ * in_dim_ : nullptr;
  }
  void init(Rng& rng) override {
    init_weights(init_, w_, out_dim_, in_dim_, rng);
    if (b_) std::memset(b_, 0, sizeof(float) * out_dim_);
    stale_ = true;
  }
  std::size_t saved_per_row() const override {
    return act_backward_needs_z(act_) ? (std::size_t)out_dim_ : 0;
  }

  void forward(const float* x, float* y, int n, float* saved, const StepContext& ctx) override {
    // x (n, in), W (out, in), b (out) -> y (n, out)
    Epilogue ep;
    ep.bias = b_;
    const bool fused = act_ != Act::softmax;
    ep.act = fused ? act_ : Act::linear;
    ep.alpha = alpha_;
    ep.preact = act_backward_needs_z(act_) ? saved : nullptr;
    if (ctx.training) last_train_rows_ = n;
    if (ctx.training && reads_w_in_place(n) &&
        sgemm_xwt(n, out_dim_, in_dim_, x, in_dim_, w_, in_dim_, y, out_dim_, &ep)) {
      // A small batch multiplies W where it lies (sgemm_xwt): the step then need not repack it.
    } else if (ctx.training && !stale_) {
      // W was repacked by the optimizer step that wrote it (updated()): the same kernel and K
      // blocking as below, so the same bits, without packing W again on every forward.
      sgemm_packed(Trans::N, n, 1.f, x, in_dim_, packed_, 0.f, y, out_dim_, &ep,
                   n <= out_dim_ ? GemmSplit::columns : GemmSplit::auto_);
    } else if (ctx.training) {
      // W changed outside an optimizer step (the first step, a load, a user's write): packing
      // the whole of it for one forward would cycle its 4 B/weight destination through L3 or
      // memory. Packing one K block at a time into a buffer that stays in L2 does the same work
      // faster (bench/results/design_choices.md#dense-training-pack). Same kernel and K blocking
      // as the packed path, so the same bits. Up to as many rows as output units, threads split the
      // output units, so each reads the rows of W its own core just updated (faster than the
      // automatic grid at small batches; same section). Past that every thread would pack more rows
      // of x than there are weights: the automatic grid, which weighs the duplicated packing,
      // splits the rows (bs 2048 on Zen 3, 2 threads: the forward GEMMs 0.92x the time; same
      // section).
      sgemm(Trans::N, Trans::T, n, out_dim_, in_dim_, 1.f, x, in_dim_, w_, in_dim_, 0.f, y,
            out_dim_, &ep, n <= out_dim_ ? GemmSplit::columns : GemmSplit::auto_);
    } else {
      if (stale_) {
        packed_.pack(Trans::T, in_dim_, out_dim_, w_, in_dim_);
        stale_ = false;
      }
      sgemm_packed(Trans::N, n, 1.f, x, in_dim_, packed_, 0.f, y, out_dim_, &ep);
    }
    if (!fused) act_forward(act_, alpha_, y, y, (std::size_t)n * out_dim_, out_dim_);
  }

  bool writes_all_grads() const override { return true; }
  void backward(const float* x, const float* y, float* dy, float* dx, int n, float* saved,
                const StepContext& ctx) override {
    // dz = dy ⊙ act'(z), in place; dW += dzᵀ·x (or =); db += Σ rows dz; dx = dz·W
    const std::size_t total = (std::size_t)n * out_dim_;
    if (act_ != Act::linear) act_backward(act_, alpha_, saved, y, dy, dy, total, out_dim_);
    const float beta = ctx.overwrite_grads ? 0.f : 1.f;
    // |dW|, |db| <= n·max|dz|·max(max|x|, 1): two scans of the small batch's operands instead of
    // the optimizer's pass over the weights' gradients, where they are the cheaper read. The
    // scans ran at a third of the pass's floats per second (bs 128 on the Xeon: 0.4 of the
    // floats, and the step was no faster; bench/results/issue33.md#finite-by-bound).
    proven_finite_ = ctx.prove_grads_finite && l1_ == 0 && l2_ == 0 &&
                     double(n) * (in_dim_ + out_dim_) <= 0.25 * double(in_dim_) * out_dim_ &&
                     sums_of_products_finite(n, max_abs(dy, total),
                                             max_abs(x, (std::size_t)n * in_dim_));
    // A proven gradient may wait for the update, which then takes it piece by piece from cache
    // instead of from the arena (deferred_grad_pieces): dz is kept (the buffer is the next
    // layer's), x is the previous layer's output, untouched until the next forward.
    deferred_ = proven_finite_ && ctx.defer_weight_grads && ctx.overwrite_grads;
    // Where the bound does not hold (or does not pay), the product checks each finished strip of
    // dW while it is in L1, and the bias gradient is scanned: from K = 64 rows that costs ~1 % of
    // the product, where the optimizer's pass over dW from memory took 2-3 % of the step
    // (bench/results/issue33.md#finite-in-epilogue). At K = 32 the check cost what it saved.
    const bool check = !proven_finite_ && ctx.prove_grads_finite && l1_ == 0 && l2_ == 0 &&
                       n >= kCheckInEpilogueRows;
    std::atomic<bool> nonfinite{false};
    if (gb_ && ctx.overwrite_grads) std::memset(gb_, 0, sizeof(float) * out_dim_);
    if (deferred_) {
      dz_.assign(dy, dy + total);
      x_ = x;
      rows_ = n;
      if (gb_) add_column_sums(gb_, dy, n, out_dim_);
    } else {
      // db from the product's packed dzᵀ (Epilogue::a_row_sums), the same sums in the same order
      // as add_column_sums: at bs 2048 that pass read dz back from memory after the product had
      // streamed x (~0.35 ms per 512-wide layer on Zen 4; bench/results/issue33.md#bias-in-pack).
      Epilogue ep;
      ep.nonfinite = check ? &nonfinite : nullptr;
      ep.a_row_sums = gb_;
      weight_grad(0, out_dim_, dy, x, n, beta, gw_, check || gb_ ? &ep : nullptr);
    }
    if (check)
      proven_finite_ = !nonfinite.load(std::memory_order_relaxed) &&
                       (!gb_ || std::isfinite(max_abs(gb_, (std::size_t)out_dim_)));
    if (dx)
      sgemm(Trans::N, Trans::N, n, in_dim_, out_dim_, 1.f, dy, out_dim_, w_, in_dim_, 0.f, dx,
            in_dim_);
  }

  bool grads_proven_finite() const override { return proven_finite_; }
  std::pair<float*, float*> deferred_grads() const override {
    if (!deferred_) return {nullptr, nullptr};
    return {w_, w_ + (std::size_t)out_dim_ * in_dim_};
  }
  // Pieces of at most 96 units (whole slivers and micro-tiles on every ISA): a piece's gradient
  // (300 KB at 784 inputs) stays in L2 while the optimizer reads it. One thread (the network
  // defers only then). The same bits as the whole product: each element is one fixed FMA chain
  // over the same K (gemm.h).
  void deferred_grad_pieces(const GradPiece& piece) override {
    if (!deferred_) return;
    deferred_ = false;
    constexpr int kPieceRows = 96;
    scratch_.resize((std::size_t)kPieceRows * in_dim_);
    for (int r0 = 0; r0 < out_dim_; r0 += kPieceRows) {
      const int r = std::min(out_dim_, r0 + kPieceRows) - r0;
      weight_grad(r0, r, dz_.data(), x_, rows_, 0.f, scratch_.data());
      piece(w_ + (std::size_t)r0 * in_dim_, scratch_.data(), (std::size_t)r * in_dim_);
    }
  }
  void write_deferred_grads() override {
    if (!deferred_) return;
    deferred_ = false;
    weight_grad(0, out_dim_, dz_.data(), x_, rows_, 0.f, gw_);
  }
  double penalty() const override {
    return l1_l2_penalty(w_, (std::size_t)out_dim_ * in_dim_, l1_, l2_);
  }
  void add_penalty_grad() override {
    l1_l2_grad(gw_, w_, (std::size_t)out_dim_ * in_dim_, l1_, l2_);
  }
  // The optimizer step repacks W one column sliver (NR output units, all of K) at a time: the
  // thread that finishes a sliver's last chunk packs it while those rows are still in its cache
  // (bench/results/issue33.md#packed-by-the-step). The max-norm constraint rewrites W after
  // the step, so with it the next forward packs as before.
  void before_update() override {
    // When the next forward reads W in place (the batch that was just trained is as small),
    // the step does not repack it; an inference call or a larger batch packs it when it comes.
    fuse_ = max_norm_ == 0 && !(reads_w_in_place(last_train_rows_) && sgemm_xwt_available());
    if (!fuse_) return;
    const int nr = packed_.layout(in_dim_, out_dim_);
    if (nr != nr_ || !done_) {
      nr_ = nr;
      nslivers_ = (out_dim_ + nr - 1) / nr;
      done_.reset(new std::atomic<std::size_t>[std::size_t(nslivers_)]);
    }
    for (int s = 0; s < nslivers_; ++s) done_[s].store(0, std::memory_order_relaxed);
  }
  void updated(const float* lo, const float* hi) override {
    const float *w = w_, *w_end = w_ + (std::size_t)out_dim_ * in_dim_;
    if (!fuse_ || hi <= w || lo >= w_end) return;
    const std::size_t a = std::size_t(std::max(lo, w) - w),
                      b = std::size_t(std::min(hi, w_end) - w);
    const std::size_t sliver = (std::size_t)nr_ * in_dim_;
    for (std::size_t s = a / sliver; s * sliver < b; ++s) {
      const std::size_t s0 = s * sliver,
                        s1 = std::min(s0 + sliver, (std::size_t)out_dim_ * in_dim_);
      const std::size_t got = std::min(b, s1) - std::max(a, s0);
      // acq_rel: the thread that completes a sliver sees the other threads' writes to its rows.
      if (done_[s].fetch_add(got, std::memory_order_acq_rel) + got == s1 - s0)
        packed_.pack_cols(Trans::T, w_, in_dim_, int(s * nr_),
                          std::min(out_dim_, int(s + 1) * nr_));
    }
  }
  void after_update() override {
    if (max_norm_ > 0) max_norm_rows(w_, out_dim_, in_dim_, max_norm_);
    bool packed = fuse_;
    for (int s = 0; packed && s < nslivers_; ++s) {
      const std::size_t rows = std::size_t(std::min(out_dim_, (s + 1) * nr_) - s * nr_);
      packed = done_[s].load(std::memory_order_relaxed) == rows * in_dim_;
    }
    stale_ = !packed;
    fuse_ = false;
  }
  void prepare_inference() override {
    if (!stale_) return;
    packed_.pack(Trans::T, in_dim_, out_dim_, w_, in_dim_);
    stale_ = false;
  }

 private:
  Act act_ = Act::linear;
  float alpha_ = 0, l1_ = 0, l2_ = 0, max_norm_ = 0;
  Init init_ = Init::xavier_uniform;
  bool use_bias_ = true, stale_ = true;
  bool fuse_ = false;                // inside an optimizer step that repacks W (before_update)
  bool proven_finite_ = false;       // the last backward bounded / checked dW and db
  bool deferred_ = false;            // dW left to deferred_grad_pieces / write_deferred_grads
  std::vector<float> dz_, scratch_;  // the deferred product's dz (rows_, out); its pieces
  const float* x_ = nullptr;
  int rows_ = 0;
  int last_train_rows_ = 0;  // the rows of the last training forward
  // Training forwards that multiply W in place (sgemm_xwt, Yᵀ = W·Xᵀ) instead of its packed copy:
  // - batches of up to a quarter as many rows as output units (and at most 128): packing their
  //   n rows of X then costs at most a quarter of repacking W after each step
  //   (bench/results/issue33.md#xwt: bs 32 and 128 on the Xeon);
  // - layers whose width fills the packed kernel's tiles badly (sgemm_xwt_pays: scikit-learn's
  //   100 units, bench/results/issue33.md#xwt-wide).
  // Both paths give the same bits: this is a speed choice only.
  bool reads_w_in_place(int n) const {
    return n > 0 && ((n <= 128 && 4 * n <= out_dim_) || sgemm_xwt_pays(n, out_dim_, in_dim_));
  }
  // g (r, in) = dW rows [r0, r0 + r) = dz[:, r0:r0+r]ᵀ·x (+ beta·g). Split by rows: each core's
  // optimizer chunks are the rows of W it computed here (Network::assign_chunk_owners asks
  // sgemm_thread_of with the same split); any rows give the same bits (gemm.h).
  void weight_grad(int r0, int r, const float* dz, const float* x, int n, float beta, float* g,
                   const Epilogue* ep = nullptr) {
    sgemm(Trans::T, Trans::N, r, in_dim_, n, 1.f, dz + r0, out_dim_, x, in_dim_, beta, g, in_dim_,
          ep, GemmSplit::rows);
  }
  int nr_ = 0, nslivers_ = 0;
  std::unique_ptr<std::atomic<std::size_t>[]> done_;  // per sliver: weights updated this step
  float *w_ = nullptr, *gw_ = nullptr, *b_ = nullptr, *gb_ = nullptr;
  PackedB packed_;
};

}  // namespace

std::unique_ptr<Layer> make_dense_layer(const LayerSpec& s, int in_dim) {
  return std::make_unique<Dense>(s, in_dim);
}

}  // namespace nncore
