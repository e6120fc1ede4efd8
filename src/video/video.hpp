#pragma once
// Upscaling a video file with FFmpeg's libraries: the video stream is decoded, upscaled frame by
// frame and re-encoded; audio, subtitle and other streams are copied packet for packet.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>

#include "quicksr/image.hpp"
#include "quicksr/output.hpp"

namespace quicksr::video {

struct VideoOptions {
  // An FFmpeg encoder name; empty: libx264 where the container takes H.264, else the container's
  // own (gif for .gif, apng for .apng).
  std::string codec;
  std::optional<int> crf;  // constant rate factor; default: the encoder's (x264/x265: 18)
  // An FFmpeg pixel format name (e.g. yuv420p); empty: the encoder's format closest to the
  // source's, as the ffmpeg command chooses (same chroma subsampling and bit depth where taken).
  std::string pixel_format;
  int threads = 0;  // decoder/encoder threads; 0: FFmpeg's choice
  // What decides the upscaled pixels (model file, method, scale...). Parts an interrupted run left
  // are reused only by a run with the same key, input file and encoder options.
  std::string upscaler_key;
  // Called once before the work when parts of an interrupted run are reused (or a damaged one is
  // dropped): the frames they hold, and a line for the user. Null: silent.
  std::function<void(std::int64_t frames_kept, const std::string& message)> on_resume;
  ExistingFile existing = ExistingFile::kKeep;  // kReplace: replace an existing output
};

// Called after every frame with (frames done, frames expected; 0 when unknown), frames copied from
// an interrupted run's parts included. Returning false cancels the job: the output is not created
// and finished parts are kept for the next run.
using VideoProgress = std::function<bool(std::int64_t done, std::int64_t expected)>;

// How frames are upscaled: the length of an upscaled side, and one RGB frame buffer into another
// of the upscaled size (Upscaler::output_length and Upscaler::upscale). Frames are RGB8, RGB16 for
// sources of more than 8 bits, RGBA8 or RGBA16 for sources with alpha.
struct FrameUpscaler {
  std::function<int(int length)> output_length;
  std::function<void(const PixelBuffer<const void>& frame, const PixelBuffer<void>& upscaled)>
      upscale;
};

// Frame rate, timestamps, rotation (display matrix), stream metadata, the colour matrix, range,
// primaries, transfer and HDR10 metadata, and (as far as the encoder takes them) the chroma
// subsampling, bit depth and alpha are kept; conversions to and from RGB follow the declared matrix
// and range. The output is written to a temporary file beside `output` and moved into place only
// when complete (write_atomically: an existing file is replaced only with ExistingFile::kReplace).
// Resumable: the video is encoded in parts of about ten seconds, each by a fresh encoder, kept in
// the folder `output`.quicksr-parts until the output is complete (PartStore); a run that stops
// keeps its finished parts, and the next run with the same input, options and upscaler_key copies
// their packets instead of upscaling those frames again: the same output as an uninterrupted run.
// Throws quicksr::Error naming the file on any failure, and when cancelled.
void upscale_video(const std::filesystem::path& input, const std::filesystem::path& output,
                   const FrameUpscaler& upscaler, const VideoOptions& options,
                   const VideoProgress& progress);

}  // namespace quicksr::video
