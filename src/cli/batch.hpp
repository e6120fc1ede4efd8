#pragma once
// `quicksr upscale` over many files: which input goes to which output (folders mirrored, shards),
// and a run in which decoding, upscaling and encoding overlap on three threads.
#include <filesystem>
#include <functional>
#include <iosfwd>
#include <string>
#include <vector>

#include "quicksr/image.hpp"

namespace quicksr::cli {

// Every `count`-th file starting at `index` (0 <= index < count).
struct Shard {
  int index = 0;
  int count = 1;
};

// The extension (".png") of the output for `input`: "." + `format` when given, else the input's
// (BMP, which is read only, and '-' give PNG).
std::string output_extension(const std::filesystem::path& input, const std::string& format);

// read_image, or for "-" the image on standard input.
Image read_image_or_stdin(const std::filesystem::path& path, const ReadOptions& options);
// write_image, or for "-" the encoded file on standard output (format from `extension`).
void write_image_or_stdout(const Image& image, const std::filesystem::path& path,
                           const std::string& extension, const WriteOptions& options);

// "K/N"; throws quicksr::Error naming --shard when malformed.
Shard parse_shard(const std::string& text);

struct BatchPlanOptions {
  std::string format;  // output extension without the dot ("png"); empty: the input's
  std::string suffix;  // appended to every output's stem ("_x2")
  bool recursive = false;
  Shard shard;
};

struct BatchJob {
  std::filesystem::path input;
  std::filesystem::path output;
};

// Inputs are files or folders. A folder contributes its images (any case of .png .jpg .jpeg
// .webp .tif .tiff .bmp), and with `recursive` those of its sub-folders, mirrored under
// `out_dir`. Jobs are sorted by input path before sharding, so every machine agrees on the split.
// Throws quicksr::Error when an input does not exist or two inputs would share an output.
std::vector<BatchJob> plan_batch(const std::vector<std::filesystem::path>& inputs,
                                 const std::filesystem::path& out_dir,
                                 const BatchPlanOptions& options);

struct BatchRunOptions {
  ReadOptions read;
  WriteOptions write{.existing = ExistingFile::kKeep};  // kReplace: replace existing outputs
  bool skip_existing = false;  // leave existing outputs alone (counted as skipped)
  bool progress = true;        // draw a progress bar on stderr
};

struct BatchResult {
  int written = 0;
  int skipped = 0;
  int failed = 0;
};

using ImageTransform = std::function<Image(const Image&)>;

// Reads, transforms and writes every job, the three steps on separate threads so that they
// overlap. A file that fails is reported as one line on `errors` and the run goes on.
BatchResult run_batch(const std::vector<BatchJob>& jobs, const ImageTransform& transform,
                      const BatchRunOptions& options, std::ostream& errors);

}  // namespace quicksr::cli
