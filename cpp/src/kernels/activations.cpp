// PLACEHOLDER scalar activations (to be replaced by the per-ISA SIMD kernels).
#include "nncore/activations.h"

#include <cmath>
#include <stdexcept>
#include <string>

namespace nncore {

Act parse_act(const std::string& name) {
  static const char* names[] = {"linear", "relu", "leaky_relu", "elu", "selu", "gelu",
                                "sigmoid", "tanh", "softplus", "silu", "softmax"};
  if (name == "none" || name.empty()) return Act::linear;
  for (int i = 0; i < 11; ++i)
    if (name == names[i]) return static_cast<Act>(i);
  throw std::invalid_argument("unknown activation '" + name +
                              "': expected one of linear, relu, leaky_relu, elu, selu, gelu, "
                              "sigmoid, tanh, softplus, silu, softmax");
}

const char* act_name(Act a) {
  static const char* names[] = {"linear", "relu", "leaky_relu", "elu", "selu", "gelu",
                                "sigmoid", "tanh", "softplus", "silu", "softmax"};
  return names[static_cast<int>(a)];
}

float act_default_alpha(Act a) {
  if (a == Act::leaky_relu) return 0.01f;
  if (a == Act::elu) return 1.0f;
  return 0.f;
}

bool act_backward_needs_z(Act a) { return a == Act::gelu || a == Act::softplus || a == Act::silu; }

static const double kSeluAlpha = 1.6732632423543772, kSeluScale = 1.0507009873554805;

void act_forward(Act a, float alpha, const float* z, float* y, std::size_t n, std::size_t cols) {
  if (a == Act::softmax) {
    for (std::size_t r = 0; r < n / cols; ++r) {
      const float* zr = z + r * cols;
      float* yr = y + r * cols;
      float m = zr[0];
      for (std::size_t j = 1; j < cols; ++j) m = std::max(m, zr[j]);
      double s = 0;
      for (std::size_t j = 0; j < cols; ++j) s += (yr[j] = std::exp(zr[j] - m));
      for (std::size_t j = 0; j < cols; ++j) yr[j] = float(yr[j] / s);
    }
    return;
  }
  for (std::size_t i = 0; i < n; ++i) {
    double x = z[i], r = x;
    switch (a) {
      case Act::linear: break;
      case Act::relu: r = x > 0 ? x : 0; break;
      case Act::leaky_relu: r = x > 0 ? x : alpha * x; break;
      case Act::elu: r = x > 0 ? x : alpha * (std::exp(x) - 1); break;
      case Act::selu: r = kSeluScale * (x > 0 ? x : kSeluAlpha * (std::exp(x) - 1)); break;
      case Act::gelu: r = 0.5 * x * (1 + std::erf(x / std::sqrt(2.0))); break;
      case Act::sigmoid: r = 1 / (1 + std::exp(-x)); break;
      case Act::tanh: r = std::tanh(x); break;
      case Act::softplus: r = x > 20 ? x : std::log1p(std::exp(x)); break;
      case Act::silu: r = x / (1 + std::exp(-x)); break;
      default: break;
    }
    y[i] = float(r);
  }
}

void act_backward(Act a, float alpha, const float* z, const float* y, const float* dy, float* dz,
                  std::size_t n, std::size_t cols) {
  if (a == Act::softmax) {
    for (std::size_t r = 0; r < n / cols; ++r) {
      const float* yr = y + r * cols;
      const float* gr = dy + r * cols;
      float* dr = dz + r * cols;
      double dot = 0;
      for (std::size_t j = 0; j < cols; ++j) dot += double(gr[j]) * yr[j];
      for (std::size_t j = 0; j < cols; ++j) dr[j] = float(yr[j] * (gr[j] - dot));
    }
    return;
  }
  for (std::size_t i = 0; i < n; ++i) {
    double d = 1, g = dy[i];
    switch (a) {
      case Act::linear: break;
      case Act::relu: d = y[i] > 0; break;
      case Act::leaky_relu: d = y[i] > 0 ? 1 : alpha; break;
      case Act::elu: d = y[i] > 0 ? 1 : y[i] + alpha; break;
      case Act::selu: d = y[i] > 0 ? kSeluScale : y[i] + kSeluScale * kSeluAlpha; break;
      case Act::gelu: {
        double x = z[i];
        d = 0.5 * (1 + std::erf(x / std::sqrt(2.0))) + x * std::exp(-0.5 * x * x) / std::sqrt(2 * M_PI);
        break;
      }
      case Act::sigmoid: d = y[i] * (1.0 - y[i]); break;
      case Act::tanh: d = 1.0 - double(y[i]) * y[i]; break;
      case Act::softplus: d = z[i] > 20 ? 1 : 1 / (1 + std::exp(-double(z[i]))); break;
      case Act::silu: {
        double s = 1 / (1 + std::exp(-double(z[i])));
        d = s * (1 + z[i] * (1 - s));
        break;
      }
      default: break;
    }
    dz[i] = float(g * d);
  }
}

}  // namespace nncore
