// Throughput of the elementwise kernels per ISA: activations (forward, backward), softmax and
// cross-entropy on (batch, 10) logits, batch norm (train forward + backward), dropout.
// Prints ns per element (best of several repeats); threads = nncore default unless NNCORE_THREADS.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <vector>

#include "nncore/activations.h"
#include "nncore/batchnorm.h"
#include "nncore/common.h"
#include "nncore/cpu.h"
#include "nncore/dropout.h"
#include "nncore/losses.h"
#include "nncore/rng.h"
#include "nncore/threading.h"

using namespace nncore;

static double best_ns(const std::function<void()>& f, double elems, int reps = 7) {
  f();
  double best = 1e30;
  for (int r = 0; r < reps; ++r) {
    auto t0 = std::chrono::steady_clock::now();
    f();
    auto t1 = std::chrono::steady_clock::now();
    best = std::min(best, std::chrono::duration<double, std::nano>(t1 - t0).count());
  }
  return best / elems;
}

int main() {
  if (const char* t = std::getenv("NNCORE_THREADS")) set_num_threads(std::atoi(t));
  const std::size_t n = 1 << 20;
  Rng rng(1);
  fvec z(n), y(n), dy(n), dz(n);
  for (std::size_t i = 0; i < n; ++i) {
    z[i] = float(rng.normal() * 3);
    dy[i] = float(rng.normal());
  }
  const int bn_n = 256, bn_c = 512;
  fvec bx(bn_n * bn_c), by(bn_n * bn_c), bdx(bn_n * bn_c), mean(bn_c), invstd(bn_c), g(bn_c, 1.f),
      b(bn_c, 0.f), rm(bn_c, 0.f), rv(bn_c, 1.f), dg(bn_c), db(bn_c);
  for (auto& v : bx) v = float(rng.normal());
  const int ce_n = 256, ce_k = 10;
  std::vector<std::int32_t> labels(ce_n);
  for (auto& l : labels) l = int(rng.below(ce_k));
  fvec dpred(ce_n * ce_k);
  std::vector<std::uint32_t> mask_bits((n + 31) / 32);
  std::printf("threads %d, n = %zu (activations, dropout); BN (%d, %d); CE (%d, %d)\n",
              num_threads(), n, bn_n, bn_c, ce_n, ce_k);
  std::printf("%-8s %-11s %10s %10s\n", "isa", "kernel", "fwd ns/el", "bwd ns/el");
  for (Isa isa : {Isa::scalar, Isa::avx2, Isa::avx512}) {
    if (!isa_supported(isa)) continue;
    set_active_isa(isa);
    for (int a = 0; a <= int(Act::silu); ++a) {
      const Act act = Act(a);
      const float al = act_default_alpha(act);
      double f = best_ns([&] { act_forward(act, al, z.data(), y.data(), n); }, n);
      double bk =
          best_ns([&] { act_backward(act, al, z.data(), y.data(), dy.data(), dz.data(), n); }, n);
      std::printf("%-8s %-11s %10.3f %10.3f\n", isa_name(isa), act_name(act), f, bk);
    }
    const std::size_t sm = (n / 10) * 10;
    double f = best_ns([&] { act_forward(Act::softmax, 0, z.data(), y.data(), sm, 10); }, sm);
    double bk = best_ns(
        [&] { act_backward(Act::softmax, 0, z.data(), y.data(), dy.data(), dz.data(), sm, 10); },
        sm);
    std::printf("%-8s %-11s %10.3f %10.3f\n", isa_name(isa), "softmax/10", f, bk);
    f = best_ns(
        [&] {
          loss_forward_backward(Loss::cross_entropy, z.data(), nullptr, labels.data(), nullptr,
                                dpred.data(), ce_n, ce_k);
        },
        ce_n * ce_k, 50);
    std::printf("%-8s %-11s %10.3f %10s\n", isa_name(isa), "CE fwd+bwd", f, "-");
    f = best_ns(
        [&] {
          bn_forward_train(by.data(), mean.data(), invstd.data(), bx.data(), g.data(), b.data(),
                           bn_n, bn_c, 1e-5f, 0.1f, rm.data(), rv.data());
        },
        bn_n * bn_c, 20);
    bk = best_ns(
        [&] {
          bn_backward(bdx.data(), dg.data(), db.data(), by.data(), bx.data(), mean.data(),
                      invstd.data(), g.data(), bn_n, bn_c, true);
        },
        bn_n * bn_c, 20);
    std::printf("%-8s %-11s %10.3f %10.3f\n", isa_name(isa), "batchnorm", f, bk);
    f = best_ns([&] { dropout_apply(y.data(), z.data(), n, 0.5, 1, 2, 3); }, n);
    std::printf("%-8s %-11s %10.3f %10s\n", isa_name(isa), "dropout", f, "=fwd");
    // As the layer trains: forward also stores the mask bits, backward reads them.
    f = best_ns([&] { dropout_apply(y.data(), z.data(), n, 0.2, 1, 2, 3, mask_bits.data()); }, n);
    bk = best_ns([&] { dropout_apply_bits(dz.data(), dy.data(), n, 0.2, mask_bits.data()); }, n);
    std::printf("%-8s %-11s %10.3f %10.3f\n", isa_name(isa), "dropout+bits", f, bk);
  }
  return 0;
}
