// nncore::Model (nncore/model.h): loads a file that model_file.cpp has validated, builds the
// network through the same factory as Python's (nothing initialised randomly: the file's weights
// are copied in) and predicts.
#include "nncore/model.h"

#include <cstring>

#include "model_file.h"
#include "nncore/network.h"
#include "quant/quantized_network.h"

namespace nncore {

Model::Model() = default;
Model::Model(Model&&) noexcept = default;
Model& Model::operator=(Model&&) noexcept = default;
Model::~Model() = default;

int Model::input_dim() const { return net_->input_dim(); }
int Model::output_dim() const { return net_->output_dim(); }

Model Model::load(const std::string& path, std::uint64_t max_bytes) {
  const std::vector<std::uint8_t> data = read_model_file(path, max_bytes);
  return from_bytes(data.data(), data.size(), path);
}

Model Model::from_bytes(const void* bytes, std::size_t size, const std::string& name) {
  const CheckedModel c = check_model_file(static_cast<const std::uint8_t*>(bytes), size, name);
  Model m;
  m.loss_ = c.loss;
  try {
    m.net_ = std::make_unique<Network>(c.input_dim, c.specs, c.seed, /*init_params=*/false);
  } catch (const std::invalid_argument& e) {
    throw ModelError(printable(name + ": invalid model description (" + e.what() + ")"));
  }
  Network& net = *m.net_;
  if (net.num_params() != c.num_params || net.num_buffers() != c.num_buffers)
    throw ModelError(printable(name + ": the architecture's sizes disagree"));
  // little-endian hosts; the file's arrays are 64-byte aligned in the data section, not in memory
  if (c.num_params) std::memcpy(net.params(), c.params, c.num_params * sizeof(float));
  if (c.num_buffers) std::memcpy(net.buffers(), c.buffers, c.num_buffers * sizeof(float));
  net.params_changed();
  net.set_output_transform(c.transform);
  if (c.quantized) {
    quant::QuantOptions opt;
    opt.dynamic = c.quant_dynamic;
    opt.keep_last_fp32 = c.keep_last_fp32;
    std::vector<quant::ActQuant> act;
    for (std::size_t i = 0; i < c.input_scales.size(); ++i)
      act.push_back({c.input_scales[i], c.input_zero_points[i]});
    try {
      m.q_ = std::make_unique<quant::QuantizedNetwork>(net, opt, act);
    } catch (const std::invalid_argument& e) {
      throw ModelError(printable(name + ": invalid quantized model (" + e.what() + ")"));
    }
  }
  return m;
}

void Model::predict(const float* x, std::int64_t n, float* out) const {
  if (n < 0) throw std::invalid_argument("predict: n must be >= 0");
  if (n == 0) return;
  if (!x || !out) throw std::invalid_argument("predict: null input or output pointer");
  if (q_)
    q_->predict(x, n, out);
  else
    net_->predict(x, n, out, /*fold_batchnorm=*/true);  // as Python's predict by default
}

std::vector<float> Model::predict(const std::vector<float>& x) const {
  const std::size_t d = std::size_t(input_dim());
  if (x.size() % d != 0)
    throw std::invalid_argument("predict: " + std::to_string(x.size()) +
                                " values are not whole rows of " + std::to_string(d));
  std::vector<float> out(x.size() / d * std::size_t(output_dim()));
  predict(x.data(), std::int64_t(x.size() / d), out.data());
  return out;
}

}  // namespace nncore
