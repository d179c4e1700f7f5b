// nncore's C++ inference API: load a model saved by Python (model.save("m.nnc")) and predict,
// without Python. Self-contained: this is the one header installed with the package.
//
//   #include <nncore/model.h>
//   nncore::Model m = nncore::Model::load("m.nnc");          // throws nncore::ModelError
//   std::vector<float> out(n * m.output_dim());
//   m.predict(x, n, out.data());   // x: n rows of m.input_dim() floats, row-major
//
// predict returns what Python's model.predict returns (softmax/sigmoid probabilities for
// cross_entropy/binary_cross_entropy, raw outputs otherwise), bit for bit on the same ISA. It is
// re-entrant: many threads may call predict on one Model at once.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace nncore {

class Network;
namespace quant {
class QuantizedNetwork;
}

// A file that is not a valid nncore model: foreign, truncated, corrupted, a format version this
// library does not read, a description it cannot build, or not a regular file. what() names the
// file and the reason.
class ModelError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The limits every nncore model reader enforces; Python's nncore.io reads these same numbers
// (nncore._core.model_file_limits()). A file that breaks one is a ModelError.
struct ModelFileLimits {
  static constexpr int max_json_depth = 512;  // deep enough for ~250 nested Residual blocks
  static constexpr std::uint64_t max_json_nodes = 1u << 17;  // values in the JSON header
  // a real header is a few KiB; max_json_nodes values fit in well under this
  static constexpr std::uint64_t max_header_bytes = 16ull << 20;
  static constexpr std::uint64_t max_layers = 65536;  // blocks' layers included (the core's limit)
  // A width (input_dim) above this needs at least as many parameter and buffer values in the
  // file, so what a layer allocates for its columns stays proportional to the file's size.
  static constexpr std::uint64_t free_width = 65536;
  static constexpr std::uint64_t default_max_file_bytes = 2ull << 30;  // load(path, max_bytes)
};

class Model {
 public:
  // Reads and validates the whole file (regular file only, at most max_bytes; magic, version,
  // SHA-256, JSON header, array table and bounds; every declared size against the arrays the file
  // holds) before allocating anything the file declares. Memory and time are linear in the
  // file's size; nothing is initialised randomly. Throws ModelError for every malformed file.
  static Model load(const std::string& path,
                    std::uint64_t max_bytes = ModelFileLimits::default_max_file_bytes);
  // The same from bytes in memory; name is used in error messages.
  static Model from_bytes(const void* data, std::size_t size, const std::string& name = "<memory>");

  Model(Model&&) noexcept;
  Model& operator=(Model&&) noexcept;
  ~Model();

  int input_dim() const;
  int output_dim() const;
  // The model's Python-side description: the loss it was compiled with ("" if none).
  const std::string& loss() const { return loss_; }

  // True for an int8 model saved from Python's QuantizedModel (model.quantize(...).save): then
  // predict runs the int8 plan, with the same bits as Python's predict.
  bool quantized() const { return q_ != nullptr; }

  // x: n rows of input_dim() floats; out: n rows of output_dim() floats.
  void predict(const float* x, std::int64_t n, float* out) const;
  std::vector<float> predict(const std::vector<float>& x) const;

 private:
  Model();
  std::unique_ptr<Network> net_;
  std::unique_ptr<quant::QuantizedNetwork> q_;  // int8 models only
  std::string loss_;
};

}  // namespace nncore
