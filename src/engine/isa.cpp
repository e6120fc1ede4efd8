// Instruction-set levels: names and the CPUID checks behind run-time dispatch.
#include <string>

#include "quicksr/engine.hpp"
#include "quicksr/error.hpp"

namespace quicksr {

std::string_view isa_name(Isa isa) {
  switch (isa) {
    case Isa::kScalar:
      return "scalar";
    case Isa::kAvx2Fma:
      return "avx2";
    case Isa::kAvxVnni:
      return "avxvnni";
    case Isa::kAvx512:
      return "avx512";
    case Isa::kAvx512Vnni:
      return "avx512vnni";
  }
  return "unknown";
}

Isa parse_isa(std::string_view name) {
  for (Isa isa : kAllIsas) {
    if (isa_name(isa) == name) return isa;
  }
  std::string valid;
  for (Isa isa : kAllIsas) valid += (valid.empty() ? "" : ", ") + std::string(isa_name(isa));
  throw Error("unknown instruction set '" + std::string(name) + "' (expected one of " + valid +
              ")");
}

// __builtin_cpu_supports also checks that the OS saves the AVX / AVX-512 register state.
bool cpu_supports(Isa isa) {
#if defined(__x86_64__) || defined(__i386__)
  const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  const bool avx512 = avx2 && __builtin_cpu_supports("avx512f") &&
                      __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") &&
                      __builtin_cpu_supports("avx512dq");
  switch (isa) {
    case Isa::kScalar:
      return true;
    case Isa::kAvx2Fma:
      return avx2;
    case Isa::kAvxVnni:
      return avx2 && __builtin_cpu_supports("avxvnni");
    case Isa::kAvx512:
      return avx512;
    case Isa::kAvx512Vnni:
      return avx512 && __builtin_cpu_supports("avx512vnni");
  }
  return false;
#else
  return isa == Isa::kScalar;
#endif
}

Isa best_isa() {
  for (Isa isa : kAllIsas) {
    if (cpu_supports(isa)) return isa;
  }
  return Isa::kScalar;
}

}  // namespace quicksr
