#include "engine/cpu_features.hpp"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>

#include <cstdint>
#endif

namespace quicksr::engine {

namespace {

#if defined(__x86_64__) || defined(__i386__)
bool bit(unsigned value, int index) { return (value >> index) & 1u; }

// XCR0: the register state the OS saves on a context switch (inline assembly, so that this file
// needs no -mxsave).
std::uint64_t xcr0() {
  std::uint32_t low = 0;
  std::uint32_t high = 0;
  asm volatile("xgetbv" : "=a"(low), "=d"(high) : "c"(0));
  return (static_cast<std::uint64_t>(high) << 32) | low;
}

// Bit numbers from the Intel SDM, vol. 2A, CPUID.
CpuFeatures detect() {
  CpuFeatures f;
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return f;
  const bool osxsave = bit(ecx, 27);
  const bool avx = bit(ecx, 28);
  const bool fma = bit(ecx, 12);
  const std::uint64_t state = osxsave ? xcr0() : 0;
  const bool ymm_saved = (state & 0x6) == 0x6;    // SSE and AVX state
  const bool zmm_saved = (state & 0xe6) == 0xe6;  // + opmask, upper zmm0-15, zmm16-31
  if (!avx || !ymm_saved) return f;
  f.fma = fma;
  if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) return f;
  const unsigned max_subleaf = eax;
  f.avx2 = bit(ebx, 5);
  if (zmm_saved) {
    f.avx512f = bit(ebx, 16);
    f.avx512dq = bit(ebx, 17);
    f.avx512bw = bit(ebx, 30);
    f.avx512vl = bit(ebx, 31);
    f.avx512_vnni = bit(ecx, 11);
  }
  if (max_subleaf >= 1 && __get_cpuid_count(7, 1, &eax, &ebx, &ecx, &edx)) {
    f.avx_vnni = bit(eax, 4);
  }
  return f;
}
#else
CpuFeatures detect() { return {}; }
#endif

}  // namespace

const CpuFeatures& cpu_features() {
  static const CpuFeatures features = detect();
  return features;
}

}  // namespace quicksr::engine
