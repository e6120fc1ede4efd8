// The command-line parser on arbitrary argument vectors (NUL-separated in the input) against a
// spec with flags, valued and numeric options like the real commands'.
#include <cstdint>
#include <string>
#include <vector>

#include "cli/args.hpp"
#include "quicksr/error.hpp"

namespace {

const quicksr::cli::CommandSpec kSpec{
    .name = "fuzz",
    .usage = "IN OUT [options]",
    .summary = "A command like upscale.",
    .options = {{"--model", "FILE", "model file"},
                {"--scale", "S", "scale"},
                {"--threads", "N", "threads"},
                {"--max-pixels", "N", "pixel limit"},
                {"--overwrite", "", "replace OUT"}},
    .min_positional = 1,
    .max_positional = 2,
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::vector<std::string> words(1);
  for (std::size_t i = 0; i < size; ++i) {
    if (data[i] == 0) {
      words.emplace_back();
    } else {
      words.back().push_back(static_cast<char>(data[i]));
    }
  }
  std::vector<char*> argv;
  for (std::string& word : words) argv.push_back(word.data());
  try {
    const quicksr::cli::ParsedArgs args = quicksr::cli::parse_args(kSpec, argv);
    args.get_int("--threads", 0, 0, 1024);
    args.get_double("--max-pixels", 1.0, 1.0, 1e12);
    args.get_or("--scale", "2");
    args.get_all("--model");
    quicksr::cli::help_text(kSpec);
  } catch (const quicksr::Error&) {
  }
  return 0;
}
