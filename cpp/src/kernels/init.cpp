// Weight initialisers (see init.h). Orthogonal follows torch.nn.init.orthogonal_: QR of a
// normal matrix with the signs of R's diagonal folded into Q.
#include "nncore/init.h"

#include <cmath>
#include <stdexcept>
#include <vector>

#include "nncore/common.h"
#include "nncore/schema.h"

namespace nncore {

Init parse_init(const std::string& name) {
  const auto& names = schema::initializers();
  for (std::size_t i = 0; i < names.size(); ++i)
    if (name == names[i]) return static_cast<Init>(i);
  if (name == "glorot_uniform") return Init::xavier_uniform;
  if (name == "glorot_normal") return Init::xavier_normal;
  if (name == "kaiming_uniform") return Init::he_uniform;
  if (name == "kaiming_normal") return Init::he_normal;
  fail("unknown initializer '" + name + "': expected one of " + schema::names(names));
}

const char* init_name(Init i) { return schema::initializers().at(static_cast<int>(i)).c_str(); }

Init resolve_auto_init(Act a) {
  switch (a) {
    case Act::relu:
    case Act::leaky_relu:
    case Act::elu:
    case Act::gelu:
    case Act::silu:
    case Act::softplus: return Init::he_normal;
    case Act::selu: return Init::lecun_normal;
    default: return Init::xavier_uniform;
  }
}

static void orthogonal(float* w, int rows, int cols, Rng& rng) {
  // Work on the tall orientation (r >= c), orthonormalise its columns, transpose back if needed.
  bool flip = rows < cols;
  int r = flip ? cols : rows, c = flip ? rows : cols;
  std::vector<double> a((size_t)r * c);
  for (auto& v : a) v = rng.normal();
  // Modified Gram-Schmidt on the columns of a (r×c); rdiag keeps R's diagonal signs.
  for (int j = 0; j < c; ++j) {
    for (int p = 0; p < j; ++p) {
      double dot = 0;
      for (int i = 0; i < r; ++i) dot += a[(size_t)i * c + p] * a[(size_t)i * c + j];
      for (int i = 0; i < r; ++i) a[(size_t)i * c + j] -= dot * a[(size_t)i * c + p];
    }
    double norm = 0;
    for (int i = 0; i < r; ++i) norm += a[(size_t)i * c + j] * a[(size_t)i * c + j];
    norm = std::sqrt(norm);
    if (norm == 0) norm = 1;
    for (int i = 0; i < r; ++i) a[(size_t)i * c + j] /= norm;
  }
  for (int i = 0; i < rows; ++i)
    for (int j = 0; j < cols; ++j)
      w[(size_t)i * cols + j] = float(flip ? a[(size_t)j * c + i] : a[(size_t)i * c + j]);
}

void init_weights(Init init, float* w, int fan_out, int fan_in, Rng& rng) {
  size_t n = (size_t)fan_out * fan_in;
  double fi = fan_in, fo = fan_out, bound = 0, std_ = 0;
  bool uniform = false;
  switch (init) {
    case Init::zeros:
      for (size_t i = 0; i < n; ++i) w[i] = 0.f;
      return;
    case Init::orthogonal: orthogonal(w, fan_out, fan_in, rng); return;
    case Init::xavier_uniform:
      uniform = true;
      bound = std::sqrt(6.0 / (fi + fo));
      break;
    case Init::xavier_normal: std_ = std::sqrt(2.0 / (fi + fo)); break;
    case Init::he_uniform:
      uniform = true;
      bound = std::sqrt(6.0 / fi);
      break;
    case Init::he_normal: std_ = std::sqrt(2.0 / fi); break;
    case Init::lecun_normal: std_ = std::sqrt(1.0 / fi); break;
    case Init::auto_: throw std::invalid_argument("init 'auto' must be resolved first");
  }
  for (size_t i = 0; i < n; ++i)
    w[i] = float(uniform ? (2.0 * rng.uniform() - 1.0) * bound : rng.normal() * std_);
}

}  // namespace nncore
