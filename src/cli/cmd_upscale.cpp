// quicksr upscale IN OUT: one image through a model (the built-in one by default) or bicubic.
#include <chrono>
#include <iostream>

#include "cli/args.hpp"
#include "cli/commands.hpp"
#include "cli/output_path.hpp"
#include "cli/upscaler_args.hpp"
#include "quicksr/error.hpp"
#include "quicksr/image.hpp"
#include "quicksr/upscaler.hpp"

namespace quicksr::cli {
namespace {

const CommandSpec kSpec{
    .name = "upscale",
    .usage = "IN OUT [options]",
    .summary =
        "Upscale the image IN (PNG or JPEG) and write OUT (.png, .jpg or .jpeg).\n"
        "Without --model the built-in QuickSRNet-Small of --scale (default x2) is used.",
    .options = {{"--model", "FILE", "model file (.safetensors or .onnx)"},
                {"--method", "NAME", "'model' (default) or 'bicubic' (MATLAB-style)"},
                {"--scale", "S", "2, 3, 4 or 1.5 (default: the model's; 2 otherwise)"},
                {"--threads", "N", "worker threads (default: all cores)"},
                {"--quality", "Q", "JPEG quality 1..100 (default 95)"},
                {"--bit-depth", "B", "PNG bits per channel, 8 or 16 (default: the input's)"},
                {"--max-pixels", "N", "refuse inputs larger than N pixels (default 268435456)"},
                {"--lenient", "", "read damaged JPEG data as libjpeg can instead of failing"},
                {"--overwrite", "", "replace OUT if it exists"},
                {"--quiet", "", "print nothing on success"}},
    .min_positional = 2,
    .max_positional = 2,
};

}  // namespace

int upscale_command(CommandArgs raw) {
  const std::optional<FileCommand> command = parse_file_command(kSpec, raw);
  if (!command) return 0;
  const auto& [args, input, output] = *command;
  check_output_format(output);
  WriteOptions write_options;
  write_options.existing = existing_file(args);
  write_options.jpeg_quality = args.get_int("--quality", 95, 1, 100);
  if (args.has("--bit-depth")) {
    const int bits = args.get_int("--bit-depth", 8, 8, 16);
    if (bits != 8 && bits != 16) throw Error("--bit-depth must be 8 or 16");
    write_options.bit_depth = bits;
  }
  ReadOptions read_options;
  read_options.lenient = args.has("--lenient");
  read_options.max_pixels =
      static_cast<std::uint64_t>(args.get_double("--max-pixels", 268435456.0, 1, 1e12));

  const Upscaler upscaler = upscaler_from_args(args, Scale{2, 1});
  const Image image = read_image(input, read_options);
  const auto start = std::chrono::steady_clock::now();
  Image result;
  try {
    result = upscaler.upscale(image);
  } catch (const Error& e) {  // the model's problem, named with the image it met
    throw Error(about_file(input.string(), upscaler.name() + ": " + e.what()));
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  write_image(result, output, write_options);
  if (!args.has("--quiet")) {
    std::cout << input.string() << " (" << image.width << "x" << image.height << ") -> "
              << output.string() << " (" << result.width << "x" << result.height << ") with "
              << upscaler.name() << " in " << static_cast<int>(seconds * 1000 + 0.5) << " ms\n";
  }
  return 0;
}

}  // namespace quicksr::cli
