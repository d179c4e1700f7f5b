// Losses with their gradient in one pass. pred is (n, k) row-major: logits for cross_entropy
// and binary_cross_entropy, log(mean) for poisson, outputs otherwise. Reduction is the mean PyTorch
// uses by default: over samples for cross_entropy, over all n·k elements for the others. Sample
// weights (optional, length n) scale each sample's term; the normaliser stays n (Keras). The sum is
// split into fixed chunks combined in a fixed order: same bits for any thread count.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace nncore {

enum class Loss : int {
  mse = 0,
  mae,
  huber,
  cross_entropy,
  binary_cross_entropy,
  poisson,
  focal,
  binary_focal,
  quantile
};

Loss parse_loss(const std::string& name);  // throws std::invalid_argument naming the choices
const char* loss_name(Loss l);

// A loss's hyper-parameters; schema::losses() says which loss takes which (with the limits of
// the numbers), loss_forward_backward checks them.
struct LossOptions {
  float delta = 1.0f;            // huber: threshold
  double label_smoothing = 0.0;  // cross_entropy: PyTorch's (1-e)·target + e/k, in [0, 1]
  double gamma = 2.0;            // focal, binary_focal: focusing exponent >= 0
  double alpha = 0.25;  // binary_focal: weight of positives (1 - alpha: negatives); < 0: none
  // cross_entropy, focal: one weight per class (PyTorch's weight=); binary_cross_entropy,
  // binary_focal: one per output column. Empty: none.
  std::vector<float> class_weight;
  std::vector<float> quantiles;  // quantile: one for every column, or one per column, in (0, 1)
};

// Throws std::invalid_argument when an option is out of its limits, not the loss's, or a list's
// length does not fit k outputs.
void check_loss_options(Loss loss, const LossOptions& options, int k);

// Targets: cross_entropy takes integer labels (labels != null, values in [0, k)) or a float
// (n, k) matrix of class probabilities / one-hot rows (target != null); focal takes labels; the
// others take float targets of shape (n, k). Returns the mean loss; if dpred != null writes
// dLoss/dpred.
//   cross_entropy, label smoothing e, class weights w (PyTorch's CrossEntropyLoss):
//     labels: l_i = (1-e)·w_y·(-log p_y) + e/k·Σ_c w_c·(-log p_c), mean = Σ s_i·l_i / Σ w_{y_i};
//     probabilities: t' = (1-e)·t + e/k, l_i = -Σ_c w_c·t'_c·log p_c, mean over n.
//   focal (multi-class): l_i = -w_y·(1-p_y)^gamma·log p_y, mean over n.
//   binary_focal (torchvision's sigmoid_focal_loss): ce·(1-p_t)^gamma·alpha_t (·w_j), mean over
//     n·k.
//   quantile (pinball): max(q·(t-p), (q-1)·(t-p)), mean over n·k.
// s_i are the sample weights (null: 1).
double loss_forward_backward(Loss loss, const float* pred, const float* target,
                             const std::int32_t* labels, const float* sample_weight, float* dpred,
                             int n, int k, const LossOptions& opt = {});

}  // namespace nncore
