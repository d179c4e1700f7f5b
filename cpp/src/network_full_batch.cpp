// The full-batch passes of L-BFGS on a Network: loss and gradient over a whole data set in fixed
// chunks of rows (each chunk as one loss_grad, X read in place instead of copied into the
// workspace), and the solver's float64 variables moved to and from arena segments.
#include <algorithm>
#include <string>

#include "nncore/network.h"

namespace nncore {

double Network::loss_grad_rows(const float* X, const Targets& t, std::int64_t N, int chunk) {
  Busy busy(*this);
  check(N > 0, "loss_grad_rows: no rows");
  check(chunk > 0, "loss_grad_rows: chunk must be a positive number of rows");
  ensure_workspace(int(std::min<std::int64_t>(chunk, N)));
  // Layer 0 reads the caller's rows; the pointer must not outlive this call, and no backward()
  // may follow it (last_rows_ = 0 refuses one).
  struct InputRows {
    Network& net;
    ~InputRows() {
      net.input_rows_ = nullptr;
      net.last_rows_ = 0;
      net.last_training_ = false;
    }
  } reset{*this};
  const std::size_t d = std::size_t(input_dim_), k = std::size_t(output_dim_);
  double total = 0;
  for (std::int64_t begin = 0; begin < N; begin += chunk) {
    const int n = int(std::min<std::int64_t>(chunk, N - begin));
    if (n == 1) check_not_single_row();
    Targets part;
    part.values = t.values ? t.values + std::size_t(begin) * k : nullptr;
    part.labels = t.labels ? t.labels + begin : nullptr;
    part.weights = t.weights ? t.weights + begin : nullptr;
    // loss_grad's body on rows begin .. begin + n, in place.
    input_rows_ = X + std::size_t(begin) * d;
    last_rows_ = n;
    last_training_ = true;
    assign_chunk_owners(n);
    const float* out = run_forward(input_rows_, n, true);
    total += loss_value(out, part, n, dout_.data());
    const bool first = begin == 0;
    bool overwrite = first;
    for (const auto& L : layers_) overwrite = overwrite && L->writes_all_grads();
    if (first && !overwrite) zero_grad();
    backward_impl(dout_.data(), n, false, overwrite);
    if (first)
      for (auto& L : layers_) L->add_penalty_grad();
  }
  return total;
}

void Network::params_from(const double* x,
                          const std::vector<std::pair<std::size_t, std::size_t>>& segs) {
  {
    Busy busy(*this);
    for (const auto& [off, size] : segs) {
      check(off + size <= params_.size(), "params_from: a segment lies outside the arena");
      float* p = params_.data() + off;
      for (std::size_t i = 0; i < size; ++i) p[i] = float(x[i]);
      x += size;
    }
  }
  params_changed();
}

void Network::grads_to(double* g,
                       const std::vector<std::pair<std::size_t, std::size_t>>& segs) const {
  for (const auto& [off, size] : segs) {
    check(off + size <= grads_.size(), "grads_to: a segment lies outside the arena");
    const float* q = grads_.data() + off;
    for (std::size_t i = 0; i < size; ++i) g[i] = double(q[i]);
    g += size;
  }
}

}  // namespace nncore
