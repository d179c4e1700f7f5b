// Losses with their gradient in one pass. pred is (n, k) row-major: logits for cross_entropy
// and binary_cross_entropy, log(mean) for poisson, outputs otherwise. Reduction is the mean PyTorch
// uses by default: over samples for cross_entropy, over all n·k elements for the others. Sample
// weights (optional, length n) scale each sample's term; the normaliser stays n (Keras). The sum is
// split into fixed chunks combined in a fixed order: same bits for any thread count.
#pragma once
#include <cstdint>
#include <string>

namespace nncore {

enum class Loss : int { mse = 0, mae, huber, cross_entropy, binary_cross_entropy, poisson };

Loss parse_loss(const std::string& name);  // throws std::invalid_argument naming the choices
const char* loss_name(Loss l);

// Targets: cross_entropy takes integer labels (labels != null, values in [0, k)) or a float
// (n, k) matrix of class probabilities / one-hot rows (target != null); the others take float
// targets of shape (n, k). Returns the mean loss; if dpred != null writes dLoss/dpred.
// delta is Huber's threshold (default 1.0).
double loss_forward_backward(Loss loss, const float* pred, const float* target,
                             const std::int32_t* labels, const float* sample_weight, float* dpred,
                             int n, int k, float delta = 1.0f);

}  // namespace nncore
