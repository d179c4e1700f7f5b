# Per-ISA compilation. A source file whose name ends in _avx512.cpp, _avx2.cpp or _neon.cpp is
# compiled only on the architecture that has it, and with that ISA's flags unless it is one of the
# per-ISA context tables (cpp/src/isa/context_*.cpp: data only, so baseline code); everything else
# is compiled for the baseline (x86-64 SSE2 / aarch64), so the library loads on any CPU of the
# family.
if(CMAKE_SYSTEM_PROCESSOR MATCHES "^(x86_64|AMD64|amd64|i.86)$")
  set(NNCORE_ARCH_X86 ON)
  set(NNCORE_ISA_DEFINITIONS NNCORE_HAVE_AVX2=1 NNCORE_HAVE_AVX512=1)
elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "^(aarch64|arm64|ARM64)$")
  set(NNCORE_ARCH_ARM64 ON)
  set(NNCORE_ISA_DEFINITIONS NNCORE_HAVE_NEON=1)
else()
  set(NNCORE_ISA_DEFINITIONS)
endif()

set(NNCORE_FLAGS_AVX2 -mavx2 -mfma -mf16c)
set(NNCORE_FLAGS_AVX512 -mavx512f -mavx512bw -mavx512dq -mavx512vl -mavx2 -mfma -mf16c)
set(NNCORE_FLAGS_NEON "")
# The int8 GEMM's VNNI micro-kernels (cpp/src/quant/): vpdpbusd in 512-bit (AVX512-VNNI) and
# 256-bit (AVX-VNNI) form; the arm64 dot-product kernel (sdot, Armv8.2 FEAT_DotProd). Each is
# called only after a run-time check of its CPU feature.
set(NNCORE_FLAGS_AVX512VNNI ${NNCORE_FLAGS_AVX512} -mavx512vnni)
set(NNCORE_FLAGS_AVXVNNI ${NNCORE_FLAGS_AVX2} -mavxvnni)
set(NNCORE_FLAGS_DOTPROD -march=armv8.2-a+dotprod)
# AMX-INT8 tiles (tdpbusd): used only after CPUID and the kernel's tile-data permission say so.
set(NNCORE_FLAGS_AMX ${NNCORE_FLAGS_AVX512} -mavx512vnni -mamx-tile -mamx-int8)

# Drop the ISA files this architecture cannot build.
function(nncore_filter_isa_sources var)
  set(out)
  foreach(src ${${var}})
    if(src MATCHES "_(avx2|avx512|avx512vnni|avxvnni|amx)\\.cpp$" AND NOT NNCORE_ARCH_X86)
      continue()
    endif()
    if(src MATCHES "_(neon|dotprod)\\.cpp$" AND NOT NNCORE_ARCH_ARM64)
      continue()
    endif()
    list(APPEND out ${src})
  endforeach()
  set(${var} ${out} PARENT_SCOPE)
endfunction()

function(nncore_apply_isa_flags var)
  foreach(src ${${var}})
    if(src MATCHES "/isa/context_[a-z0-9]+\\.cpp$")
      continue()
    endif()
    if(src MATCHES "_avx512vnni\\.cpp$")
      set_source_files_properties(${src} PROPERTIES COMPILE_OPTIONS "${NNCORE_FLAGS_AVX512VNNI}")
    elseif(src MATCHES "_amx\\.cpp$")
      set_source_files_properties(${src} PROPERTIES COMPILE_OPTIONS "${NNCORE_FLAGS_AMX}")
    elseif(src MATCHES "_avxvnni\\.cpp$")
      set_source_files_properties(${src} PROPERTIES COMPILE_OPTIONS "${NNCORE_FLAGS_AVXVNNI}")
    elseif(src MATCHES "_dotprod\\.cpp$")
      set_source_files_properties(${src} PROPERTIES COMPILE_OPTIONS "${NNCORE_FLAGS_DOTPROD}")
    elseif(src MATCHES "_avx512\\.cpp$")
      set_source_files_properties(${src} PROPERTIES COMPILE_OPTIONS "${NNCORE_FLAGS_AVX512}")
    elseif(src MATCHES "_avx2\\.cpp$")
      set_source_files_properties(${src} PROPERTIES COMPILE_OPTIONS "${NNCORE_FLAGS_AVX2}")
    endif()
  endforeach()
endfunction()
