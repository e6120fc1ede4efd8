// from_aimet_json on arbitrary text, for the two seed nets (x2, and x1.5 with an anchor): only
// quicksr::Error may come out, and encodings it accepts must make an INT8 net that the integer
// reference runs and the INT8 engine reproduces bit for bit.
#include <cstdint>
#include <string_view>

#include "fuzz_encodings_nets.hpp"
#include "quicksr/engine.hpp"
#include "quicksr/error.hpp"
#include "quicksr/quant.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  for (const quicksr::QuickSRNet& net : quicksr::fuzz::encodings_nets()) {
    try {
      const quicksr::QuantizedQuickSRNet q =
          quicksr::quant::from_aimet_json(net, text, "fuzz.encodings.json");
      const quicksr::Tensor input(3, 5, 4, 0.25f);
      const quicksr::Tensor expected = quicksr::quant::forward(q, input);
      const quicksr::Engine engine = quicksr::Engine::create(q, {.threads = 1});
      if (engine.run(input).data != expected.data) __builtin_trap();
    } catch (const quicksr::Error&) {
    }
  }
  return 0;
}
