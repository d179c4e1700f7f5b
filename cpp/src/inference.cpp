// The folded inference plan behind Network::predict(..., fold_batchnorm=true): every Dense with
// what follows it in evaluation mode (BatchNorm folded into its weights and bias, an elementwise
// activation moved into the GEMM epilogue, Dropout dropped) becomes one packed GEMM.
// It leaves out anything it cannot fold (a BatchNorm not directly after a linear Dense, a
// mid-network softmax): such networks keep the layer-by-layer path.
#include <cmath>
#include <cstring>

#include "nncore/gemm.h"
#include "nncore/schema.h"
#include "inference_plan.h"

namespace nncore {

namespace {
const float* find_view(const std::vector<TensorView>& views, const float* arena, int layer,
                       const char* name) {
  const std::string full = std::to_string(layer) + "." + name;
  for (const auto& v : views)
    if (v.name == full) return arena + v.offset;
  return nullptr;
}
}  // namespace

bool Network::can_fold() const {
  bool have_dense = false, act_set = false, bn_allowed = false;
  for (const LayerSpec& s : specs_) {
    const schema::Fold fold = schema::layer(s.type).fold;
    if (fold == schema::Fold::identity) continue;
    if (fold == schema::Fold::block) return false;
    if (fold == schema::Fold::gemm) {
      Act a = parse_act(s.get_str("activation", "linear"));
      if (a == Act::softmax) return false;
      have_dense = true;
      act_set = a != Act::linear;
      bn_allowed = !act_set;
    } else if (fold == schema::Fold::scale_shift) {
      if (!have_dense || !bn_allowed) return false;
      bn_allowed = false;  // a second BN in a row would need another fold; keep it simple
    } else if (fold == schema::Fold::epilogue) {
      Act a = parse_act(s.get_str("activation", "linear"));
      if (a == Act::linear) continue;
      if (!have_dense || act_set || a == Act::softmax) return false;
      act_set = true;
      bn_allowed = false;
    }
  }
  return have_dense;
}

bool Network::build_plan() {
  if (plan_ && plan_->version == version_) return plan_->ok;
  if (!plan_) plan_ = std::make_unique<InferencePlan>();
  InferencePlan& p = *plan_;
  p.version = version_;
  p.ok = can_fold();
  if (!p.ok) return false;
  p.steps.clear();
  std::vector<float> w;  // the step under construction, unpacked (out, in)
  InferencePlan::Step cur;
  auto finish = [&]() {
    if (cur.out == 0) return;
    cur.w.pack(Trans::T, cur.in, cur.out, w.data(), cur.in);
    p.steps.push_back(std::move(cur));
    cur = InferencePlan::Step{};
  };
  for (std::size_t i = 0; i < specs_.size(); ++i) {
    const LayerSpec& s = specs_[i];
    const int li = int(i);
    const schema::Fold fold = schema::layer(s.type).fold;
    if (fold == schema::Fold::gemm) {
      finish();
      const Layer& L = *layers_[i];
      cur.in = L.in_dim();
      cur.out = L.out_dim();
      cur.act = parse_act(s.get_str("activation", "linear"));
      cur.alpha = float(s.get("alpha", act_default_alpha(cur.act)));
      const float* W = find_view(param_views_, params_.data(), li, "weight");
      const float* b = find_view(param_views_, params_.data(), li, "bias");
      w.assign(W, W + (std::size_t)cur.in * cur.out);
      cur.bias.assign(cur.out, 0.f);
      if (b) std::copy(b, b + cur.out, cur.bias.begin());
    } else if (fold == schema::Fold::scale_shift) {
      const float* mean = find_view(buffer_views_, buffers_.data(), li, "running_mean");
      const float* var = find_view(buffer_views_, buffers_.data(), li, "running_var");
      const float* gamma = find_view(param_views_, params_.data(), li, "weight");
      const float* beta = find_view(param_views_, params_.data(), li, "bias");
      if (!mean || !var) return p.ok = false;
      const double eps = schema::layer_num(s, "eps");
      for (int j = 0; j < cur.out; ++j) {
        // y = (z - mean)·scale + beta with scale = gamma / sqrt(var + eps), z = W x + b
        const double scale = (gamma ? gamma[j] : 1.0) / std::sqrt(double(var[j]) + eps);
        float* row = w.data() + (std::size_t)j * cur.in;
        for (int c = 0; c < cur.in; ++c) row[c] = float(row[c] * scale);
        cur.bias[j] = float((cur.bias[j] - double(mean[j])) * scale + (beta ? beta[j] : 0.0));
      }
    } else if (fold == schema::Fold::epilogue && s.get_str("activation", "linear") != "linear") {
      cur.act = parse_act(s.get_str("activation", "linear"));
      cur.alpha = float(s.get("alpha", act_default_alpha(cur.act)));
    }
  }
  finish();
  return true;
}

const float* Network::run_plan(const float* x, int n, float* buf_a, float* buf_b) {
  const float* in = x;
  float* bufs[2] = {buf_a, buf_b};
  int which = 0;
  for (auto& st : plan_->steps) {
    Epilogue ep;
    ep.bias = st.bias.data();
    ep.act = st.act;
    ep.alpha = st.alpha;
    float* out = bufs[which];
    sgemm_packed(Trans::N, n, 1.f, in, st.in, st.w, 0.f, out, st.out, &ep);
    in = out;
    which ^= 1;
  }
  return in;
}

}  // namespace nncore
