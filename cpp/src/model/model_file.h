// The .nnc reader's validation, apart from building: a file's bytes -> the network it describes
// (specs checked by the layer factory, sizes checked against the arrays present), or ModelError.
// Private to the core; Model::load builds from it, and Python's nncore.io asks it before building.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "nncore/activations.h"
#include "nncore/layer.h"

namespace nncore {

struct CheckedModel {
  int input_dim = 0;
  std::uint64_t seed = 0;
  std::vector<LayerSpec> specs;  // a final softmax/sigmoid folded into the loss, as Python does
  std::string loss;              // "" when the model was not compiled
  Act transform = Act::linear;   // the loss's output transform (schema::LossKind::output)
  const std::uint8_t* params = nullptr;  // little-endian float32, unaligned
  std::uint64_t num_params = 0;
  const std::uint8_t* buffers = nullptr;
  std::uint64_t num_buffers = 0;
  // An int8 model (format version 2, nncore.quantize): its settings and, in static mode, each
  // int8 layer's input scale and zero point.
  bool quantized = false, quant_dynamic = false, keep_last_fp32 = true;
  std::vector<float> input_scales;
  std::vector<int> input_zero_points;
};

// Checks everything before anything proportional to a declared size is allocated: magic,
// version, SHA-256, the JSON header (bounded depth and nodes), the array table against the data
// section, the configuration through the layer factory (Network::make_layers, which allocates
// nothing), and the parameter and buffer counts against the arrays the file holds.
CheckedModel check_model_file(const std::uint8_t* data, std::size_t size, const std::string& name);

// s with every byte outside printable ASCII written as \xNN: messages that quote a file's bytes
// stay valid UTF-8 on one line.
std::string printable(const std::string& s);

// A regular file's bytes (no device, FIFO or directory; symlinks are followed to their target),
// at most max_bytes of them; ModelError otherwise.
std::vector<std::uint8_t> read_model_file(const std::string& path, std::uint64_t max_bytes);

}  // namespace nncore
