// PLACEHOLDER: plain SGD only, until the fused optimizer family lands.
#include <cmath>
#include <stdexcept>

#include "nncore/optim.h"

namespace nncore {

void Optimizer::set_lr(double lr) {
  if (!(lr >= 0.0) || !std::isfinite(lr))
    throw std::invalid_argument("lr must be a finite number >= 0, got " + std::to_string(lr));
  lr_ = lr;
}

namespace {
class PlainSgd : public Optimizer {
 public:
  explicit PlainSgd(double lr) { set_lr(lr); }
  std::string name() const override { return "sgd"; }
  StepInfo step(float* p, float* g, std::size_t n) override {
    float lr = float(lr_);
    for (std::size_t i = 0; i < n; ++i) p[i] -= lr * g[i];
    ++steps_;
    return {};
  }
  std::map<std::string, double> hparams() const override { return {{"lr", lr_}}; }
  std::vector<std::string> state_names() const override { return {}; }
  std::vector<float>& state(const std::string& name) override {
    throw std::invalid_argument("sgd has no state '" + name + "'");
  }
};
}  // namespace

std::shared_ptr<Optimizer> make_optimizer(const std::string& name,
                                          const std::map<std::string, double>& hp) {
  if (name != "sgd") throw std::invalid_argument("unknown optimizer '" + name + "'");
  auto it = hp.find("lr");
  return std::make_shared<PlainSgd>(it == hp.end() ? 0.01 : it->second);
}

}  // namespace nncore
