// load_model_from_memory on arbitrary bytes (safetensors container, metadata, graph JSON); what
// loads is then run on a small image, so that every graph the checker accepts must also run, and
// QuickSRNet models (fp32 and INT8) run on the engine too.
#include <cstdint>
#include <type_traits>
#include <variant>

#include "quicksr/engine.hpp"
#include "quicksr/error.hpp"
#include "quicksr/model_io.hpp"
#include "quicksr/reference.hpp"

namespace {

// The engine's output has the reference's size, and for INT8 models its values (the INT8 engine
// is bit-identical to the integer reference). fp32 values are not compared: fuzzed weights may be
// large enough for Winograd's rounding to show.
void check_engine(const quicksr::Model& model, const quicksr::Tensor& input,
                  const quicksr::Tensor& expected) {
  std::visit(
      [&](const auto& net) {
        using Net = std::decay_t<decltype(net)>;
        // General graphs (fp32 and INT8) run on the reference runtimes only.
        if constexpr (!std::is_same_v<Net, quicksr::Graph> &&
                      !std::is_same_v<Net, quicksr::QuantizedGraph>) {
          const quicksr::Engine engine = quicksr::Engine::create(net, {.threads = 1});
          const quicksr::Tensor output = engine.run(input);
          if (output.channels != expected.channels || output.height != expected.height ||
              output.width != expected.width) {
            __builtin_trap();
          }
          if constexpr (std::is_same_v<Net, quicksr::QuantizedQuickSRNet>) {
            if (output.data != expected.data) __builtin_trap();
          }
        }
      },
      model.net);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    const quicksr::Model model = quicksr::load_model_from_memory(data, size, "fuzz.safetensors");
    const quicksr::Tensor input(3, 6, 4, 0.5f);
    const quicksr::Tensor output = quicksr::reference::forward(model, input);
    const quicksr::Scale scale = model.scale();
    // The checker promised this scale: the output may not be larger than it implies (the
    // upscaler sizes the alpha plane from it).
    if (output.channels != 3 || output.height > 6 * scale.numerator / scale.denominator ||
        output.width > 4 * scale.numerator / scale.denominator) {
      __builtin_trap();
    }
    check_engine(model, input, output);
  } catch (const quicksr::Error&) {
  }
  return 0;
}
