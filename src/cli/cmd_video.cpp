// quicksr video IN OUT: every frame through a model; audio and subtitles copied untouched.
#include <atomic>
#include <csignal>
#include <iostream>

#include "cli/args.hpp"
#include "cli/commands.hpp"
#include "cli/output_path.hpp"
#include "cli/upscaler_args.hpp"
#include "common/input_file.hpp"
#include "common/progress.hpp"
#include "quicksr/error.hpp"
#include "quicksr/upscaler.hpp"
#include "video/video.hpp"

namespace quicksr::cli {
namespace {

const CommandSpec kSpec{
    .name = "video",
    .usage = "IN OUT [options]",
    .summary =
        "Upscale every frame of the video IN and write OUT (container from its extension, e.g.\n"
        ".mp4, .mkv). Audio, subtitle and data streams are copied untouched; frame rate,\n"
        "timestamps, rotation, colour range and matrix are kept, and 10-bit video stays 10-bit\n"
        "where the codec takes it. OUT appears only when complete. Finished parts of about ten\n"
        "seconds are kept in OUT.quicksr-parts/ until then: after Ctrl-C, a kill or a crash,\n"
        "the same command resumes where it stopped.",
    .options = upscaler_options(
        {{"--codec", "NAME",
          "FFmpeg video encoder, e.g. libx265 (default libx264, or the container's own: .gif, "
          ".apng)"},
         {"--crf", "N", "constant rate factor, lower is better (default 18)"},
         {"--pix-fmt", "NAME",
          "FFmpeg pixel format of OUT, e.g. yuv420p for old players (default: the codec's "
          "closest to IN's)"},
         {"--overwrite", "", "replace OUT if it exists"},
         {"--quiet", "", "no progress bar"}}),
    .min_positional = 2,
    .max_positional = 2,
};

std::atomic<bool> interrupted{false};

extern "C" void on_interrupt(int) { interrupted = true; }

// Ctrl-C and SIGTERM stop the job between frames, so the temporary file is removed.
class InterruptGuard {
 public:
  InterruptGuard()
      : old_int_(std::signal(SIGINT, on_interrupt)),
        old_term_(std::signal(SIGTERM, on_interrupt)) {}
  ~InterruptGuard() {
    std::signal(SIGINT, old_int_);
    std::signal(SIGTERM, old_term_);
  }
  InterruptGuard(const InterruptGuard&) = delete;
  InterruptGuard& operator=(const InterruptGuard&) = delete;

 private:
  void (*old_int_)(int);
  void (*old_term_)(int);
};

// What decides the upscaled pixels, so that parts of an interrupted run are reused only by the
// same upscaler: quicksr's version (built-in models), the model, scale, method and sharpness, and
// the model file's identity.
std::string upscaler_key(const ParsedArgs& args, const Upscaler& upscaler) {
  std::string key = std::string("quicksr ") + QUICKSR_VERSION + ", " + upscaler.name() + " x" +
                    upscaler.scale().to_string();
  for (const char* option : {"--method", "--sharpness"}) {
    key += std::string(", ") + option + " " + args.get_or(option, "default");
  }
  const auto model = args.get("--model");
  std::error_code error;
  if (model && std::filesystem::is_regular_file(*model, error)) key += ", " + file_identity(*model);
  return key;
}

}  // namespace

int video_command(CommandArgs raw) {
  const std::optional<FileCommand> command = parse_file_command(kSpec, raw);
  if (!command) return 0;
  // Plain references, not structured bindings: lambdas below capture them (clang 14 cannot).
  const ParsedArgs& args = command->args;
  video::VideoOptions options;
  options.codec = args.get_or("--codec", options.codec);
  if (args.has("--crf")) options.crf = args.get_int("--crf", 18, 0, 63);
  options.pixel_format = args.get_or("--pix-fmt", "");
  options.existing = existing_file(args);
  const Upscaler upscaler = upscaler_from_args(args, Scale{2, 1});
  options.upscaler_key = upscaler_key(args, upscaler);
  std::int64_t kept = 0;  // frames copied from an interrupted run: a bar of their own
  options.on_resume = [&](std::int64_t frames, const std::string& message) {
    kept = frames;
    if (!args.has("--quiet")) std::cerr << message << '\n';
  };

  std::optional<ProgressBar> copying;
  std::optional<ProgressBar> bar;
  const video::VideoProgress progress = [&](std::int64_t done, std::int64_t expected) {
    if (args.has("--quiet")) return !interrupted;
    if (done <= kept) {
      if (!copying) copying.emplace("copying", kept, "frame");
      copying->update(done);
      if (done == kept) copying->finish();
    } else {
      if (!bar) bar.emplace("video", expected, "frame");
      bar->update(done);
    }
    return !interrupted;
  };
  const InterruptGuard guard;
  video::upscale_video(
      command->input, command->output,
      {[&](int length) { return upscaler.output_length(length); },
       [&](const PixelBuffer<const void>& frame, const PixelBuffer<void>& upscaled) {
         upscaler.upscale(frame, upscaled);
       }},
      options, progress);
  if (bar) bar->finish();
  return 0;
}

}  // namespace quicksr::cli
