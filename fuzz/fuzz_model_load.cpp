// load_model_from_memory on arbitrary bytes (safetensors container, metadata, graph JSON); what
// loads is then run on a small image, so that every graph the checker accepts must also run.
#include <cstdint>

#include "quicksr/error.hpp"
#include "quicksr/model_io.hpp"
#include "quicksr/reference.hpp"

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
  } catch (const quicksr::Error&) {
  }
  return 0;
}
