// GEMM entry points for tests and benchmarks: sgemm / sgemm_naive (any layout, optional fused
// epilogue), PackedB + sgemm_packed (the Dense forward path), the kernel in use, and the
// benchmarks' clock and FMA peak.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <optional>
#include <string>

#include "arrays.h"
#include "gemm/gemm_internal.h"
#include "nncore/activations.h"
#include "nncore/bench_clock.h"
#include "nncore/cpu.h"
#include "nncore/cpu_caches.h"
#include "nncore/fma_peak.h"
#include "nncore/gemm.h"

namespace py = pybind11;
using namespace nncore_py;

namespace {

struct EpArgs {
  farray bias;
  bool has_bias = false;
  nncore::Epilogue ep;
  bool used = false;
  farray pre;
};

// Builds the epilogue (bias length N, activation name, its parameter) and, when asked, the
// pre-activation output array.
EpArgs make_epilogue(py::object bias, const std::string& act, std::optional<float> act_alpha,
                     bool return_preact, long M, long N) {
  EpArgs e;
  nncore::Act a = nncore::parse_act(act);
  if (a == nncore::Act::softmax)
    throw py::value_error("gemm: softmax is not an elementwise epilogue");
  e.ep.act = a;
  e.ep.alpha = act_alpha ? *act_alpha : nncore::act_default_alpha(a);
  if (!bias.is_none()) {
    e.bias = vector(py::cast<py::array>(bias), "bias", N);
    e.ep.bias = e.bias.data();
    e.has_bias = true;
  }
  if (return_preact) {
    e.pre = farray({M, N});
    e.ep.preact = e.pre.mutable_data();
  }
  e.used = e.has_bias || a != nncore::Act::linear || return_preact;
  return e;
}

farray output(py::object Cin, long M, long N, float beta) {
  if (Cin.is_none()) {
    if (beta != 0.f) throw py::value_error("gemm: beta != 0 needs C");
    return farray({M, N});
  }
  farray c = py::cast<farray>(Cin);
  if (c.ndim() != 2 || c.shape(0) != M || c.shape(1) != N)
    throw py::value_error("gemm: C has the wrong shape");
  return c;
}

py::object result(farray c, EpArgs& e, bool return_preact) {
  if (return_preact) return py::make_tuple(c, e.pre);
  return c;
}

nncore::Trans tr(bool t) { return t ? nncore::Trans::T : nncore::Trans::N; }

}  // namespace

void register_gemm(py::module_& m) {
  // C = act(alpha·op(A)·op(B) + beta·C + bias); returns C (a new array when C is None), or
  // (C, preact) with return_preact=True.
  auto gemm = [](bool naive, const py::array& A, const py::array& B, bool ta, bool tb, float alpha,
                 float beta, py::object Cin, py::object bias, const std::string& act,
                 std::optional<float> act_alpha, bool return_preact) -> py::object {
    farray a = matrix(A, "A"), b = matrix(B, "B");
    long M = ta ? a.shape(1) : a.shape(0), K = ta ? a.shape(0) : a.shape(1);
    long KB = tb ? b.shape(1) : b.shape(0), N = tb ? b.shape(0) : b.shape(1);
    if (K != KB)
      throw py::value_error("gemm: inner dimensions differ (" + std::to_string(K) + " vs " +
                            std::to_string(KB) + ")");
    farray c = output(Cin, M, N, beta);
    EpArgs e = make_epilogue(bias, act, act_alpha, return_preact, M, N);
    float* cp = c.mutable_data();
    {
      py::gil_scoped_release nogil;
      if (naive)
        nncore::sgemm_naive(tr(ta), tr(tb), int(M), int(N), int(K), alpha, a.data(),
                            int(a.shape(1)), b.data(), int(b.shape(1)), beta, cp, int(N),
                            e.used ? &e.ep : nullptr);
      else
        nncore::sgemm(tr(ta), tr(tb), int(M), int(N), int(K), alpha, a.data(), int(a.shape(1)),
                      b.data(), int(b.shape(1)), beta, cp, int(N), e.used ? &e.ep : nullptr);
    }
    return result(c, e, return_preact);
  };
  m.def(
      "sgemm",
      [gemm](const py::array& A, const py::array& B, bool ta, bool tb, float alpha, float beta,
             py::object C, py::object bias, const std::string& act, std::optional<float> aa,
             bool rp) { return gemm(false, A, B, ta, tb, alpha, beta, C, bias, act, aa, rp); },
      py::arg("A"), py::arg("B"), py::arg("trans_a") = false, py::arg("trans_b") = false,
      py::arg("alpha") = 1.0f, py::arg("beta") = 0.0f, py::arg("C") = py::none(),
      py::arg("bias") = py::none(), py::arg("activation") = "linear",
      py::arg("act_alpha") = py::none(), py::arg("return_preact") = false);
  m.def(
      "sgemm_naive",
      [gemm](const py::array& A, const py::array& B, bool ta, bool tb, float alpha, float beta,
             py::object C, py::object bias, const std::string& act, std::optional<float> aa,
             bool rp) { return gemm(true, A, B, ta, tb, alpha, beta, C, bias, act, aa, rp); },
      py::arg("A"), py::arg("B"), py::arg("trans_a") = false, py::arg("trans_b") = false,
      py::arg("alpha") = 1.0f, py::arg("beta") = 0.0f, py::arg("C") = py::none(),
      py::arg("bias") = py::none(), py::arg("activation") = "linear",
      py::arg("act_alpha") = py::none(), py::arg("return_preact") = false);

  // B in the micro-kernel's layout, as Dense keeps its weights: PackedB(W, trans_b=True).
  py::class_<nncore::PackedB>(m, "PackedB")
      .def(py::init([](const py::array& B, bool tb) {
             farray b = matrix(B, "B");
             auto* p = new nncore::PackedB();
             long K = tb ? b.shape(1) : b.shape(0), N = tb ? b.shape(0) : b.shape(1);
             py::gil_scoped_release nogil;
             p->pack(tr(tb), int(K), int(N), b.data(), int(b.shape(1)));
             return p;
           }),
           py::arg("B"), py::arg("trans_b") = false)
      .def(
          "pack",
          [](nncore::PackedB& p, const py::array& B, bool tb) {
            farray b = matrix(B, "B");
            long K = tb ? b.shape(1) : b.shape(0), N = tb ? b.shape(0) : b.shape(1);
            py::gil_scoped_release nogil;
            p.pack(tr(tb), int(K), int(N), b.data(), int(b.shape(1)));
          },
          py::arg("B"), py::arg("trans_b") = false)
      .def_property_readonly("K", &nncore::PackedB::K)
      .def_property_readonly("N", &nncore::PackedB::N);
  m.def(
      "sgemm_packed",
      [](const py::array& A, const nncore::PackedB& B, bool ta, float alpha, float beta,
         py::object Cin, py::object bias, const std::string& act, std::optional<float> aa,
         bool rp) -> py::object {
        farray a = matrix(A, "A");
        long M = ta ? a.shape(1) : a.shape(0), K = ta ? a.shape(0) : a.shape(1);
        if (K != B.K())
          throw py::value_error("sgemm_packed: A has " + std::to_string(K) +
                                " columns, the packed B " + std::to_string(B.K()) + " rows");
        long N = B.N();
        farray c = output(Cin, M, N, beta);
        EpArgs e = make_epilogue(bias, act, aa, rp, M, N);
        float* cp = c.mutable_data();
        {
          py::gil_scoped_release nogil;
          nncore::sgemm_packed(tr(ta), int(M), alpha, a.data(), int(a.shape(1)), B, beta, cp,
                               int(N), e.used ? &e.ep : nullptr);
        }
        return result(c, e, rp);
      },
      py::arg("A"), py::arg("B"), py::arg("trans_a") = false, py::arg("alpha") = 1.0f,
      py::arg("beta") = 0.0f, py::arg("C") = py::none(), py::arg("bias") = py::none(),
      py::arg("activation") = "linear", py::arg("act_alpha") = py::none(),
      py::arg("return_preact") = false);
  m.def("bench_clock", &nncore::bench_seconds,
        "Seconds from a fine-grained clock (TSC on x86), for benchmarks.");
  m.def(
      "bench_fma_peak",
      [](py::object isa, int runs) {
        const nncore::Isa i = isa.is_none() ? nncore::active_isa()
                                            : nncore::parse_isa(py::cast<std::string>(isa));
        py::gil_scoped_release release;
        return nncore::fma_peak_samples(i, runs);
      },
      py::arg("isa") = py::none(), py::arg("runs") = 20,
      "GFLOP/s of each of `runs` ~1 ms runs of independent FMA chains on this thread, for the "
      "ISA's widest vectors (avx512, avx2, neon; empty for others): the peak benchmarks report a "
      "share of.");
  m.def(
      "gemm_kernel",
      [](py::object isa) {
        nncore::Isa i = isa.is_none() ? nncore::active_isa()
                                      : nncore::parse_isa(py::cast<std::string>(isa));
        const auto& ks = nncore::gemm::kernel_set(i);
        py::dict d;
        d["name"] = ks.name;
        d["mr"] = ks.mr;
        d["nr"] = ks.nr;
        d["kc"] = nncore::gemm::kKcMax;
        const nncore::gemm::Blocking bk = nncore::gemm::blocking(ks);
        d["mc"] = bk.mc;
        d["nc"] = bk.nc;
        d["group_cols"] = bk.group_cols;
        d["blocking"] = std::string(bk.source);
        const nncore::CacheSizes& c = nncore::cache_sizes();
        py::dict caches;
        caches["l1d"] = c.l1d;
        caches["l2"] = c.l2;
        caches["l3"] = c.l3;
        caches["l3_sharing"] = c.l3_sharing;
        caches["l3_per_cpu"] = c.l3_per_cpu;
        caches["l3_cap"] = c.l3_cap;
        caches["source"] = c.source;
        d["caches"] = caches;
        return d;
      },
      py::arg("isa") = py::none(),
      "The SGEMM micro-kernel and blocking used for an ISA: MC and NC derived from the cache "
      "sizes (or forced), KC fixed for every CPU (it decides the bits).");
  m.def(
      "set_gemm_blocking",
      [](int mc, int nc, int group_cols) {
        if (mc < 0 || nc < 0 || group_cols < 0)
          throw py::value_error("set_gemm_blocking: mc, nc and group_cols must be >= 0");
        nncore::gemm::force_blocking(mc, nc, group_cols);
      },
      py::arg("mc") = 0, py::arg("nc") = 0, py::arg("group_cols") = 0,
      "Force the GEMM's MC/NC cache blocks and the columns of packed B a row block's slivers "
      "pass over at a time (0: derived from the cache sizes again). For tests and tuning; call "
      "it while no GEMM runs.");
}
