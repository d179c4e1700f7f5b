// Build and run-time configuration: ISA, threads, compiler.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "gemm/gemm_internal.h"
#include "nncore/cpu.h"
#include "nncore/fork.h"
#include "nncore/threading.h"

namespace py = pybind11;

void register_config(py::module_& m) {
  // Resolve the ISA now, so a bad NNCORE_ISA fails the import with a clear message.
  nncore::active_isa();
  m.def(
      "isa", [] { return std::string(nncore::isa_name(nncore::active_isa())); },
      "The SIMD kernel family in use.");
  m.def(
      "set_isa", [](const std::string& name) { nncore::set_active_isa(nncore::parse_isa(name)); },
      "Force a kernel family (tests, benchmarks).");
  m.def("supported_isas", [] {
    std::vector<std::string> out;
    for (auto isa :
         {nncore::Isa::avx512, nncore::Isa::avx2, nncore::Isa::neon, nncore::Isa::scalar})
      if (nncore::isa_supported(isa)) out.push_back(nncore::isa_name(isa));
    return out;
  });
  m.def(
      "gemm_kernel",
      [] { return std::string(nncore::gemm::kernel_set(nncore::active_isa()).name); },
      "The GEMM micro-kernel of the ISA in use, e.g. 'avx512 8x48'.");
  m.def("best_isa", [] { return std::string(nncore::isa_name(nncore::best_isa())); });
  m.def("num_threads", &nncore::num_threads);
  m.def("set_num_threads", &nncore::set_num_threads);
  m.def("num_cores", &nncore::num_cores);
  m.def("num_threads_setting", &nncore::num_threads_setting);
  m.def("have_openmp", &nncore::have_openmp);
  m.def("fork_single_threaded", &nncore::fork_pool_lost,
        "True on the thread of a fork() child that cannot start OpenMP threads (see fork.cpp).");
  m.attr("compiler") = NNCORE_COMPILER;
  m.attr("build_type") = NNCORE_BUILD_TYPE;
#ifdef __OPTIMIZE__
  m.attr("optimized") = true;
#else
  m.attr("optimized") = false;
#endif
}
