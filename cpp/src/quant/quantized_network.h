// An int8 inference plan built from a trained Network: its folded chain of Dense layers
// (BatchNorm folded in), weights quantized symmetrically per output channel to 7 bits (see
// igemm.h), activations per tensor with u8 and a zero point, either static (from calibration
// rows) or dynamic (from each block of rows). Activations run in the requantization epilogue;
// the last layer may stay fp32. Leaves out Residual blocks and layers the fp32 plan cannot fold.
#pragma once
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "nncore/gemm.h"
#include "nncore/network.h"
#include "quant/igemm.h"

namespace nncore::quant {

struct QuantOptions {
  bool dynamic = false;        // activation ranges per block of rows instead of calibrated
  bool keep_last_fp32 = true;  // the last Dense runs in fp32 on dequantized inputs
};

// A per-tensor u8 quantization: q = saturate(nearbyint(x / scale) + zero_point).
struct ActQuant {
  float scale = 1.f;
  std::int32_t zero_point = 0;
};

class QuantizedNetwork {
 public:
  // Rows processed at once (dynamic ranges are per block of this many rows).
  static constexpr int kBlockRows = 4096;

  // The folded chain of net; throws std::invalid_argument when net is not a chain of Dense
  // layers (with BatchNorm, activations and Dropout) or a layer is too wide. Static mode needs
  // one ActQuant per int8 layer (its input's), as calibrate() returns; dynamic mode none.
  QuantizedNetwork(const Network& net, const QuantOptions& opt, const std::vector<ActQuant>& act);
  ~QuantizedNetwork();
  // The number of layers that run in int8 for these options (throws as the constructor).
  static int int8_layers(const Network& net, const QuantOptions& opt);
  // Each int8 layer's input range over n calibration rows x, run through the fp32 folded
  // chain, as quantization parameters.
  static std::vector<ActQuant> calibrate(const Network& net, const QuantOptions& opt,
                                         const float* x, std::int64_t n);

  // x (n, input_dim) -> out (n, output_dim), with the network's output transform (softmax or
  // sigmoid) applied. Re-entrant; a repeated batch size allocates nothing.
  void predict(const float* x, std::int64_t n, float* out) const;

  struct Layer {
    int in = 0, out = 0;
    bool int8 = true;
    std::vector<std::int8_t> weight_q;  // (out, in), |w| ≤ 63
    std::vector<float> weight_scale;    // per output channel
    std::vector<float> weight;          // fp32 layers: the folded weight (out, in)
    std::vector<float> bias;
    std::vector<float> scale;  // static: input scale · weight_scale[j]
    Act act = Act::linear;
    float alpha = 0.f;
    ActQuant input;  // static mode
    PackedS8 packed;
    PackedB packed_f32;
  };
  const std::vector<Layer>& layers() const { return layers_; }
  const QuantOptions& options() const { return opt_; }
  int input_dim() const { return layers_.front().in; }
  int output_dim() const { return layers_.back().out; }
  Act output_transform() const { return transform_; }

 private:
  struct Workspace;
  void run_block(const float* x, int n, float* out, Workspace& ws) const;
  std::vector<Layer> layers_;
  QuantOptions opt_;
  Act transform_ = Act::linear;
  int max_k4_ = 0, max_width_ = 0;
  mutable std::mutex pool_mutex_;
  mutable std::vector<std::unique_ptr<Workspace>> pool_;
};

}  // namespace nncore::quant
