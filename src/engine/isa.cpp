// Instruction-set levels: names and the CPU checks behind run-time dispatch (cpu_features.cpp).
#include <string>

#include "engine/cpu_features.hpp"
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

bool cpu_supports(Isa isa) {
  const engine::CpuFeatures& f = engine::cpu_features();
  const bool avx2 = f.avx2 && f.fma;
  const bool avx512 = avx2 && f.avx512f && f.avx512bw && f.avx512vl && f.avx512dq;
  switch (isa) {
    case Isa::kScalar:
      return true;
    case Isa::kAvx2Fma:
      return avx2;
    case Isa::kAvxVnni:
      return avx2 && f.avx_vnni;
    case Isa::kAvx512:
      return avx512;
    case Isa::kAvx512Vnni:
      return avx512 && f.avx512_vnni;
  }
  return false;
}

Isa best_isa() {
  for (Isa isa : kAllIsas) {
    if (cpu_supports(isa)) return isa;
  }
  return Isa::kScalar;
}

}  // namespace quicksr
