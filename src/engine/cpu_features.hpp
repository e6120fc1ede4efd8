#pragma once
// The x86 features behind the engine's ISA levels, read with CPUID and XGETBV (so any compiler
// that has <cpuid.h> builds it; __builtin_cpu_supports("avxvnni") needs GCC 11 or clang 15).
namespace quicksr::engine {

// Each flag is true only when the CPU has the instructions and the OS saves the register state
// they use (ymm for AVX, zmm and mask registers for AVX-512), as Linux's /proc/cpuinfo reports.
struct CpuFeatures {
  bool avx2 = false;
  bool fma = false;
  bool avx_vnni = false;
  bool avx512f = false;
  bool avx512bw = false;
  bool avx512vl = false;
  bool avx512dq = false;
  bool avx512_vnni = false;
};

// Read once; all false on other architectures.
const CpuFeatures& cpu_features();

}  // namespace quicksr::engine
