// quicksr upscale: one image (IN OUT, either may be '-' for stdin/stdout) or many (IN... -o DIR,
// IN_DIR OUT_DIR) through a model (the built-in one by default), bicubic or FSR 1.
#include <chrono>
#include <filesystem>
#include <iostream>

#include "cli/args.hpp"
#include "cli/batch.hpp"
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
    .usage = "IN OUT | IN... -o OUT_DIR | IN_DIR OUT_DIR  [options]",
    .summary =
        "Upscale images (PNG, JPEG, WebP, TIFF, BMP) and write PNG, JPEG, WebP or TIFF.\n"
        "IN OUT: one file; '-' reads stdin / writes stdout. IN... -o OUT_DIR or IN_DIR OUT_DIR:\n"
        "many files, read, upscaled and written in parallel; a file that fails is reported and\n"
        "skipped (exit code 1 when any failed). ICC profiles and EXIF are kept.\n"
        "Without --model the built-in QuickSRNet-Small of --scale (default x2) is used.",
    .options = upscaler_options(
        {{"--output-dir", "DIR", "write every IN into DIR", "-o"},
         {"--recursive", "", "also the sub-folders of an IN folder (mirrored)"},
         {"--format", "EXT", "png, jpg, webp or tiff (default: the input's)"},
         {"--suffix", "TEXT", "appended to output names in a folder (e.g. _x2)"},
         {"--skip-existing", "", "leave outputs that already exist alone"},
         {"--shard", "K/N", "only every N-th file, from the K-th (0 <= K < N)"},
         {"--quality", "Q", "JPEG and WebP quality 1..100 (default 95)"},
         {"--bit-depth", "B", "PNG/TIFF bits per channel, 8 or 16 (default: the input's)"},
         {"--max-pixels", "N", "refuse inputs larger than N pixels (default 67108864)"},
         {"--lenient", "", "read damaged JPEG data as libjpeg can instead of failing"},
         {"--overwrite", "", "replace existing outputs"},
         {"--quiet", "", "print nothing on success"}}),
    .min_positional = 1,
    .max_positional = 1 << 20,
};

WriteOptions write_options_from(const ParsedArgs& args) {
  WriteOptions options;
  options.existing = existing_file(args);
  options.quality = args.get_int("--quality", 95, 1, 100);
  if (args.has("--bit-depth")) {
    const int bits = args.get_int("--bit-depth", 8, 8, 16);
    if (bits != 8 && bits != 16) throw Error("--bit-depth must be 8 or 16");
    options.bit_depth = bits;
  }
  return options;
}

std::string format_from(const ParsedArgs& args) {
  std::string format = args.get_or("--format", "");
  if (format == "jpeg") format = "jpg";
  if (format == "tif") format = "tiff";
  if (!format.empty() && !is_writable_image_path("x." + format)) {
    throw Error("option --format: '" + format + "' is not png, jpg, webp or tiff");
  }
  return format;
}

int upscale_many(const ParsedArgs& args, const Upscaler& upscaler, const ReadOptions& read) {
  std::vector<std::filesystem::path> inputs(args.positional().begin(), args.positional().end());
  std::filesystem::path out_dir;
  if (auto dir = args.get("--output-dir")) {
    out_dir = *dir;
  } else {
    out_dir = inputs.back();
    inputs.pop_back();
  }
  BatchPlanOptions plan;
  plan.format = format_from(args);
  plan.suffix = args.get_or("--suffix", "");
  plan.recursive = args.has("--recursive");
  if (auto shard = args.get("--shard")) plan.shard = parse_shard(*shard);
  const std::vector<BatchJob> jobs = plan_batch(inputs, out_dir, plan);

  BatchRunOptions run;
  run.read = read;
  run.write = write_options_from(args);
  run.skip_existing = args.has("--skip-existing");
  run.progress = !args.has("--quiet");
  const BatchResult result = run_batch(
      jobs, [&](const Image& image) { return upscaler.upscale(image); }, run, std::cerr);
  if (result.failed > 0) {
    std::cerr << "quicksr upscale: " << result.failed << " of " << jobs.size() << " files failed\n";
    return 1;
  }
  return 0;
}

int upscale_one(const ParsedArgs& args, const Upscaler& upscaler, const ReadOptions& read) {
  const std::filesystem::path input = args.positional().at(0);
  const std::filesystem::path output = args.positional().at(1);
  const bool to_stdout = output == "-";
  if (!to_stdout) check_output_format(output);
  if (input != "-" && !to_stdout) check_output_path(input, output, args.has("--overwrite"));
  const std::string extension =
      to_stdout ? output_extension(input, format_from(args)) : output.extension().string();
  const Image image = read_image_or_stdin(input, read);
  const auto start = std::chrono::steady_clock::now();
  try {
    if (to_stdout) {
      write_image_or_stdout(upscaler.upscale(image), output, extension, write_options_from(args));
    } else {
      // In bands of rows: memory is the input plus one band, whatever the scale.
      upscaler.upscale_to_file(image, output, write_options_from(args));
    }
  } catch (const Error& e) {  // the model's problems are named with the image it met
    const std::string message = e.what();
    if (message.starts_with(output.string() + ":")) throw;
    throw Error(about_file(input.string(), message));
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!args.has("--quiet") && !to_stdout) {
    std::cout << input.string() << " (" << image.width << "x" << image.height << ") -> "
              << output.string() << " (" << upscaler.output_length(image.width) << "x"
              << upscaler.output_length(image.height) << ") with " << upscaler.name() << " in "
              << static_cast<int>(seconds * 1000 + 0.5) << " ms\n";
  }
  return 0;
}

}  // namespace

int upscale_command(CommandArgs raw) {
  const std::optional<ParsedArgs> parsed = parse_command(kSpec, raw);
  if (!parsed) return 0;
  const ParsedArgs& args = *parsed;
  const std::vector<std::string>& positional = args.positional();
  std::error_code ec;
  const bool many = args.has("--output-dir") ||
                    (positional.size() == 2 && std::filesystem::is_directory(positional[0], ec));
  if (!many && positional.size() != 2) {
    throw Error("usage: quicksr upscale " + kSpec.usage + " (see --help)");
  }
  const ReadOptions read = read_options_from_args(args);
  const Upscaler upscaler = upscaler_from_args(args, Scale{2, 1});
  return many ? upscale_many(args, upscaler, read) : upscale_one(args, upscaler, read);
}

}  // namespace quicksr::cli
