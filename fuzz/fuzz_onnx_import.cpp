// import_onnx on arbitrary bytes (protobuf, then the graph reader and the shared checker); an
// imported model must save as a quicksr model file, as `quicksr convert` does.
#include "fuzz_support.hpp"
#include "quicksr/error.hpp"
#include "quicksr/model_io.hpp"
#include "quicksr/onnx.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::filesystem::path& path = quicksr::fuzz::write_scratch(data, size, ".onnx");
  try {
    const quicksr::Model model = quicksr::import_onnx(path);
    static const std::filesystem::path out = quicksr::fuzz::scratch_path(".safetensors");
    quicksr::save_model(model, out);
    quicksr::load_model(out);
    std::filesystem::remove(out);
  } catch (const quicksr::Error&) {
  }
  return 0;
}
