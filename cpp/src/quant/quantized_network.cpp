// QuantizedNetwork (quantized_network.h): weight quantization, calibration and the int8
// forward over blocks of rows. The GEMMs are quant/igemm.h's (int8) and nncore/gemm.h's (an fp32
// last layer); everything else here is bookkeeping between them.
#include "quant/quantized_network.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "nncore/threading.h"

namespace nncore::quant {

namespace {

std::vector<Network::FoldedDense> chain_of(const Network& net) {
  std::vector<Network::FoldedDense> chain;
  std::string why;
  if (!net.folded_chain(chain, &why))
    throw std::invalid_argument(
        "int8 quantization needs a chain of Dense layers, each optionally followed by "
        "BatchNorm (before any activation), an elementwise activation and Dropout; in this "
        "network " +
        why);
  for (const auto& d : chain)
    if (d.in > kMaxK)
      throw std::invalid_argument("int8 quantization: a Dense layer with " + std::to_string(d.in) +
                                  " inputs exceeds the int8 limit of " + std::to_string(kMaxK));
  return chain;
}

int int8_count(std::size_t layers, const QuantOptions& opt) {
  const int n = int(layers) - (opt.keep_last_fp32 ? 1 : 0);
  if (n < 1)
    throw std::invalid_argument(
        "int8 quantization: the network's only Dense layer is the last one, and "
        "keep_last_fp32=True keeps it in fp32; nothing is left to quantize");
  return n;
}

// act(x·Wᵀ + b) in fp32 for calibration (the folded chain, unpacked weights).
void dense_f32(const Network::FoldedDense& d, const float* x, int n, float* y) {
  Epilogue ep;
  ep.bias = d.bias.data();
  ep.act = d.act;
  ep.alpha = d.alpha;
  sgemm(Trans::N, Trans::T, n, d.out, d.in, 1.f, x, d.in, d.weight.data(), d.in, 0.f, y, d.out,
        &ep);
}

}  // namespace

struct QuantizedNetwork::Workspace {
  int rows = 0;
  std::vector<std::uint8_t> a[2];  // u8 activations, ping-pong (rows × max K4)
  fvec f[2];                       // fp32 activations, ping-pong (rows × max width)
  std::vector<float> scale;        // dynamic: this block's input scale · weight_scale
  void size(int n, int k4, int width) {
    if (n <= rows) return;
    rows = n;
    for (auto& b : a) b.assign(std::size_t(n) * std::size_t(k4), 0);
    for (auto& b : f) b.assign(std::size_t(n) * std::size_t(width), 0.f);
    scale.assign(std::size_t(width), 0.f);
  }
};

QuantizedNetwork::~QuantizedNetwork() = default;

int QuantizedNetwork::int8_layers(const Network& net, const QuantOptions& opt) {
  return int8_count(chain_of(net).size(), opt);
}

std::vector<ActQuant> QuantizedNetwork::calibrate(const Network& net, const QuantOptions& opt,
                                                  const float* x, std::int64_t n) {
  const std::vector<Network::FoldedDense> chain = chain_of(net);
  const int nq = int8_count(chain.size(), opt);
  std::vector<float> lo(std::size_t(nq), 0.f), hi(std::size_t(nq), 0.f);
  std::vector<float> cur, next;
  for (std::int64_t r0 = 0; r0 < n; r0 += kBlockRows) {
    const int rows = int(std::min<std::int64_t>(kBlockRows, n - r0));
    const float* in = x + r0 * chain.front().in;
    for (int l = 0; l < nq; ++l) {
      float l0, h0;
      min_max(in, std::size_t(rows) * std::size_t(chain[std::size_t(l)].in), &l0, &h0);
      lo[std::size_t(l)] = std::min(lo[std::size_t(l)], l0);
      hi[std::size_t(l)] = std::max(hi[std::size_t(l)], h0);
      if (l + 1 == nq) break;
      next.resize(std::size_t(rows) * std::size_t(chain[std::size_t(l)].out));
      dense_f32(chain[std::size_t(l)], in, rows, next.data());
      cur.swap(next);
      in = cur.data();
    }
  }
  std::vector<ActQuant> out(static_cast<std::size_t>(nq));
  for (int l = 0; l < nq; ++l)
    choose_qparams(lo[std::size_t(l)], hi[std::size_t(l)], &out[std::size_t(l)].scale,
                   &out[std::size_t(l)].zero_point);
  return out;
}

QuantizedNetwork::QuantizedNetwork(const Network& net, const QuantOptions& opt,
                                   const std::vector<ActQuant>& act)
    : opt_(opt), transform_(net.output_transform()) {
  std::vector<Network::FoldedDense> chain = chain_of(net);
  const int nq = int8_count(chain.size(), opt);
  if (!opt.dynamic && act.size() != std::size_t(nq))
    throw std::invalid_argument("int8 quantization: " + std::to_string(act.size()) +
                                " activation scales for " + std::to_string(nq) + " int8 layers");
  for (const ActQuant& a : act)
    if (!(a.scale > 0.f) || !std::isfinite(a.scale) || a.zero_point < 0 || a.zero_point > 255)
      throw std::invalid_argument(
          "int8 quantization: an activation scale must be finite and > 0 and its zero point "
          "in [0, 255]");
  for (std::size_t l = 0; l < chain.size(); ++l) {
    Network::FoldedDense& d = chain[l];
    Layer L;
    L.in = d.in;
    L.out = d.out;
    L.int8 = int(l) < nq;
    L.bias = std::move(d.bias);
    L.act = d.act;
    L.alpha = d.alpha;
    max_width_ = std::max({max_width_, d.in, d.out});
    if (!L.int8) {
      L.packed_f32.pack(Trans::T, d.in, d.out, d.weight.data(), d.in);
      L.weight = std::move(d.weight);
      layers_.push_back(std::move(L));
      continue;
    }
    // symmetric per output channel: w ≈ q · s, s = max|w| / 63, q = nearbyint(w / s)
    L.weight_q.resize(d.weight.size());
    L.weight_scale.resize(std::size_t(d.out));
    for (int j = 0; j < d.out; ++j) {
      const float* row = d.weight.data() + std::size_t(j) * d.in;
      float m = 0.f;
      for (int c = 0; c < d.in; ++c) {
        if (!std::isfinite(row[c]))
          throw std::invalid_argument(
              "int8 quantization: the network's (folded) weights hold non-finite values");
        m = std::max(m, std::fabs(row[c]));
      }
      float s = m / float(kWeightMax);
      if (!(s > 0.f) || !std::isfinite(s)) s = 1.f;
      L.weight_scale[std::size_t(j)] = s;
      for (int c = 0; c < d.in; ++c) {
        float q = std::nearbyint(row[c] / s);
        q = std::min(std::max(q, -float(kWeightMax)), float(kWeightMax));
        L.weight_q[std::size_t(j) * d.in + c] = std::int8_t(q);
      }
    }
    L.packed.pack(L.weight_q.data(), d.out, d.in);
    max_k4_ = std::max(max_k4_, L.packed.K4);
    if (!opt.dynamic) {
      L.input = act[l];
      L.scale.resize(std::size_t(d.out));
      for (int j = 0; j < d.out; ++j)
        L.scale[std::size_t(j)] = L.input.scale * L.weight_scale[std::size_t(j)];
    }
    layers_.push_back(std::move(L));
  }
}

void QuantizedNetwork::run_block(const float* x, int n, float* out, Workspace& ws) const {
  ws.size(n, max_k4_, max_width_);
  const Kernels& ks = kernels();
  const float* fin = x;         // the current fp32 value (null when it lives in ws.a[ai] as u8)
  int ai = 0, fi = 0;           // which ping-pong buffer holds the current value
  float range[2] = {0.f, 0.f};  // dynamic: fin's min / max, found by the epilogue that wrote it
  bool have_range = false;
  const std::size_t nl = layers_.size();
  for (std::size_t l = 0; l < nl; ++l) {
    const Layer& L = layers_[l];
    const bool last = l + 1 == nl;
    float* fdst = last ? out : ws.f[fi ^ 1].data();
    if (!L.int8) {
      Epilogue ep;
      ep.bias = L.bias.data();
      ep.act = L.act;
      ep.alpha = L.alpha;
      sgemm_packed(Trans::N, n, 1.f, fin, L.in, L.packed_f32, 0.f, fdst, L.out, &ep);
      fin = fdst;
      fi ^= 1;
      continue;
    }
    const std::size_t k4 = std::size_t(L.packed.K4);
    ActQuant in = L.input;
    const float* scale = L.scale.data();
    if (fin) {  // quantize the fp32 input (the network's, or a dynamic layer's)
      if (opt_.dynamic) {
        float lo = range[0], hi = range[1];
        if (!have_range) {
          lo = hi = 0.f;
          ks.min_max(fin, std::size_t(n) * std::size_t(L.in), &lo, &hi);
        }
        have_range = false;
        choose_qparams(lo, hi, &in.scale, &in.zero_point);
        for (int j = 0; j < L.out; ++j)
          ws.scale[std::size_t(j)] = in.scale * L.weight_scale[std::size_t(j)];
        scale = ws.scale.data();
      }
      std::uint8_t* a = ws.a[ai].data();
      const int nt = std::size_t(n) * std::size_t(L.in) < (1u << 16) ? 1 : num_threads();
      // rows are independent: the split changes nothing
#pragma omp parallel for num_threads(nt) if (nt > 1) schedule(static)
      for (int r0 = 0; r0 < n; r0 += 64)
        ks.quantize(fin + std::size_t(r0) * L.in, std::size_t(L.in), std::min(64, n - r0), L.in,
                    in.scale, in.zero_point, a + std::size_t(r0) * k4, k4);
    }
    Requant rq;
    rq.scale = scale;
    rq.bias = L.bias.data();
    rq.colsum = L.packed.colsum.data();
    rq.a_zp = in.zero_point;
    rq.act = L.act;
    rq.alpha = L.alpha;
    // the next layer's input as u8 straight from the epilogue when its scale is known
    const bool to_u8 = !last && layers_[l + 1].int8 && !opt_.dynamic;
    if (to_u8) {
      const Layer& next = layers_[l + 1];
      rq.out_scale = next.input.scale;
      rq.out_zp = next.input.zero_point;
      igemm(n, ws.a[ai].data(), k4, L.packed, rq, nullptr, 0, ws.a[ai ^ 1].data(),
            std::size_t(next.packed.K4));
      ai ^= 1;
      fin = nullptr;
    } else {
      // dynamic: the next int8 layer's range from this epilogue, as it writes each row
      have_range = opt_.dynamic && !last && layers_[l + 1].int8;
      igemm(n, ws.a[ai].data(), k4, L.packed, rq, fdst, std::size_t(L.out), nullptr, 0,
            have_range ? range : nullptr);
      fin = fdst;
      fi ^= 1;
    }
  }
  if (transform_ != Act::linear) {
    const std::size_t k = std::size_t(output_dim());
    act_forward(transform_, 0.f, out, out, std::size_t(n) * k, k);
  }
}

void QuantizedNetwork::predict(const float* x, std::int64_t n, float* out) const {
  if (n <= 0) return;
  std::unique_ptr<Workspace> ws;
  {
    std::lock_guard<std::mutex> lock(pool_mutex_);
    if (!pool_.empty()) {
      ws = std::move(pool_.back());
      pool_.pop_back();
    }
  }
  if (!ws) ws = std::make_unique<Workspace>();
  const std::size_t in = std::size_t(input_dim()), od = std::size_t(output_dim());
  for (std::int64_t r0 = 0; r0 < n; r0 += kBlockRows) {
    const int rows = int(std::min<std::int64_t>(kBlockRows, n - r0));
    run_block(x + std::size_t(r0) * in, rows, out + std::size_t(r0) * od, *ws);
  }
  std::lock_guard<std::mutex> lock(pool_mutex_);
  pool_.push_back(std::move(ws));
}

}  // namespace nncore::quant
