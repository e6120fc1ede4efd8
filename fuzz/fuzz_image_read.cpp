// read_image on arbitrary bytes (PNG, JPEG and BMP, chosen by signature): only quicksr::Error may
// come out, and nothing may touch memory it does not own.
#include "fuzz_support.hpp"
#include "quicksr/error.hpp"
#include "quicksr/image.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::filesystem::path& path = quicksr::fuzz::write_scratch(data, size, ".img");
  quicksr::ReadOptions options;
  options.max_pixels = 1u << 22;  // large valid images are not bugs; keep each run fast
  try {
    const quicksr::Image image = quicksr::read_image(path, options);
    const std::size_t pixels = static_cast<std::size_t>(image.width) * image.height;
    if (image.rgb.size() != pixels * 3 || (image.has_alpha() && image.alpha.size() != pixels)) {
      __builtin_trap();  // an inconsistent image is a bug even without a memory error
    }
  } catch (const quicksr::Error&) {
  }
  return 0;
}
