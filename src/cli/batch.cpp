#include "cli/batch.hpp"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <exception>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <ostream>
#include <thread>
#include <utility>

#include "common/atomic_file.hpp"
#include "common/bounded_queue.hpp"
#include "common/input_file.hpp"
#include "common/progress.hpp"
#include "quicksr/error.hpp"

namespace quicksr::cli {
namespace {

namespace fs = std::filesystem;

void copy_stream(std::istream& from, std::ostream& to, const std::string& what) {
  // An empty stream would fail the copy below with no reason a user could act on.
  if (from.peek() == std::istream::traits_type::eof()) throw Error(what + ": empty, no image data");
  to << from.rdbuf();
  // The insertion stops quietly where the output fails (a full disk, a closed pipe): all of the
  // input must have gone, and the flush must succeed.
  if (!to.flush() || from.peek() != std::istream::traits_type::eof()) {
    throw Error(what + ": cannot write the image: " + error_text(errno));
  }
}

// (input, path relative to the output folder without extension) for every image under `root`,
// but hidden files and folders (names starting with '.') and the folder `out_dir` (a run that
// writes inside the folder it reads must not read its outputs again). Names are the links' own.
// An image entry that cannot be read (a dangling link) is taken: reading it fails for that file.
void collect_folder(const fs::path& root, const fs::path& out_dir, bool recursive,
                    std::vector<std::pair<fs::path, fs::path>>& found) {
  std::error_code error;
  fs::path last = root;  // where a failed step of the listing was
  fs::recursive_directory_iterator it(root, error), end;
  for (; !error && it != end; it.increment(error)) {
    last = it->path();
    const bool hidden = last.filename().string().starts_with(".");
    std::error_code ignored;
    if (it->is_directory(ignored)) {
      if (!recursive || hidden || fs::equivalent(last, out_dir, ignored)) {
        it.disable_recursion_pending();
      }
    } else if (!hidden && is_readable_image_path(last)) {
      found.emplace_back(last, last.lexically_relative(root).replace_extension());
    }
  }
  if (error) throw Error(last.string() + ": cannot read: " + error.message());
}

// One file on its way through the pipeline.
struct Item {
  const BatchJob* job = nullptr;
  std::optional<Image> image;
  std::string error;  // set when a step failed
  bool skipped = false;
};

std::string message_of(const std::exception_ptr& failure) {
  try {
    std::rethrow_exception(failure);
  } catch (const std::exception& e) {
    return e.what();
  }
}

// The reading step: refuses outputs it must not touch, then decodes.
Item read_item(const BatchJob& job, const BatchRunOptions& options) {
  Item item{&job, std::nullopt, {}, false};
  std::error_code ec;
  try {
    if (options.skip_existing && fs::exists(fs::symlink_status(job.output, ec))) {
      check_output_file(job.input, job.output, ExistingFile::kReplace);  // never the input itself
      item.skipped = true;
      return item;
    }
    check_output_file(job.input, job.output, options.write.existing);
    item.image = read_image(job.input, options.read);
  } catch (...) {
    item.error = message_of(std::current_exception());
  }
  return item;
}

void transform_item(Item& item, const ImageTransform& transform) {
  if (!item.image) return;
  try {
    item.image = transform(*item.image);
  } catch (...) {
    item.error = about_file(item.job->input.string(), message_of(std::current_exception()));
    item.image.reset();
  }
}

void write_item(Item& item, const BatchRunOptions& options) {
  if (!item.image) return;
  try {
    fs::create_directories(item.job->output.parent_path());
    write_image(*item.image, item.job->output, options.write);
  } catch (...) {
    item.error = message_of(std::current_exception());
  }
}

}  // namespace

std::string output_extension(const fs::path& input, const std::string& format) {
  if (!format.empty()) return "." + format;
  const std::string ext = input.extension().string();
  return is_writable_image_path(input) ? ext : ".png";
}

Image read_image_or_stdin(const fs::path& path, const ReadOptions& options) {
  if (path != "-") return read_image(path, options);
  // The decoders take files: stdin is spooled to a scratch file first.
  const ScratchFolder scratch;
  const fs::path spool = scratch.path() / "stdin";
  {
    std::ofstream file(spool, std::ios::binary);
    copy_stream(std::cin, file, "standard input");
  }
  try {
    return read_image(spool, options);
  } catch (const Error& e) {
    const std::string message = e.what();
    throw Error("standard input" + message.substr(message.find(':')));
  }
}

void write_image_or_stdout(const Image& image, const fs::path& path, const std::string& extension,
                           const WriteOptions& options) {
  if (path != "-") return write_image(image, path, options);
  const ScratchFolder scratch;
  const fs::path spool = scratch.path() / ("stdout" + extension);
  write_image(image, spool, options);
  std::ifstream file(spool, std::ios::binary);
  copy_stream(file, std::cout, "standard output");
}

Shard parse_shard(const std::string& text) {
  Shard shard;
  const std::size_t slash = text.find('/');
  const char* end = text.data() + text.size();
  const bool ok =
      slash != std::string::npos &&
      std::from_chars(text.data(), text.data() + slash, shard.index).ptr == text.data() + slash &&
      std::from_chars(text.data() + slash + 1, end, shard.count).ptr == end && shard.count >= 1 &&
      shard.index >= 0 && shard.index < shard.count;
  if (!ok) throw Error("option --shard: '" + text + "' is not K/N with 0 <= K < N");
  return shard;
}

std::vector<BatchJob> plan_batch(const std::vector<fs::path>& inputs, const fs::path& out_dir,
                                 const BatchPlanOptions& options) {
  std::vector<std::pair<fs::path, fs::path>> found;
  for (const fs::path& input : inputs) {
    std::error_code ec;
    if (fs::is_directory(input, ec)) {
      collect_folder(input, out_dir, options.recursive, found);
    } else if (fs::exists(input, ec)) {
      found.emplace_back(input, input.filename().replace_extension());
    } else {
      throw Error(input.string() + ": no such file or folder");
    }
  }
  std::sort(found.begin(), found.end());
  const auto resolved = [](const fs::path& path) {
    std::error_code error;
    const fs::path file = fs::weakly_canonical(path, error);
    return error ? path : file;
  };
  std::map<fs::path, fs::path> input_files;  // the file, links resolved -> as given
  for (const auto& [input, stem] : found) input_files.emplace(resolved(input), input);
  std::vector<BatchJob> jobs;
  std::map<fs::path, fs::path> claimed;  // output -> input
  for (std::size_t i = 0; i < found.size(); ++i) {
    const auto& [input, stem] = found[i];
    fs::path output = out_dir / stem;
    output += options.suffix + output_extension(input, options.format);
    if (const auto [it, fresh] = claimed.emplace(output, input); !fresh) {
      throw Error(it->second.string() + " and " + input.string() + " would both be written to " +
                  output.string() + " (rename one, or upscale them into separate folders)");
    }
    if (const auto it = input_files.find(resolved(output));
        it != input_files.end() && it->second != input) {
      throw Error(input.string() + " would be written over the input " + it->second.string() +
                  " (choose another --suffix or output folder)");
    }
    if (static_cast<int>(i % options.shard.count) == options.shard.index) {
      jobs.push_back({input, std::move(output)});
    }
  }
  return jobs;
}

BatchResult run_batch(const std::vector<BatchJob>& jobs, const ImageTransform& transform,
                      const BatchRunOptions& options, std::ostream& errors) {
  // Two items in flight per queue: enough to keep every stage busy, little memory.
  BoundedQueue<Item> decoded(2);
  BoundedQueue<Item> upscaled(2);
  std::jthread reader([&] {
    for (const BatchJob& job : jobs) {
      if (!decoded.push(read_item(job, options))) break;
    }
    decoded.close();
  });
  std::jthread upscaler([&] {
    while (std::optional<Item> item = decoded.pop()) {
      transform_item(*item, transform);
      if (!upscaled.push(std::move(*item))) break;
    }
    upscaled.close();
  });

  BatchResult result;
  // Files --skip-existing passes over take no time: they count in neither the bar nor its rate.
  auto to_do = static_cast<std::int64_t>(jobs.size());
  std::error_code ignored;
  for (const BatchJob& job : jobs) {
    to_do -= options.skip_existing && fs::exists(fs::symlink_status(job.output, ignored));
  }
  std::optional<ProgressBar> bar;
  if (options.progress) bar.emplace("upscale", to_do, "img");
  if (bar) bar->update(0);
  std::int64_t done = 0;
  while (std::optional<Item> item = upscaled.pop()) {
    write_item(*item, options);
    if (!item->error.empty()) {
      ++result.failed;
      const std::string line = "quicksr upscale: error: " + item->error + " (skipped)";
      if (bar) {
        bar->print(line);
      } else {
        errors << line << "\n";
      }
    } else if (item->skipped) {
      ++result.skipped;
    } else {
      ++result.written;
    }
    if (bar && !item->skipped) bar->update(std::min(++done, to_do));
  }
  if (bar) {
    bar->finish(std::to_string(result.written) + " written, " + std::to_string(result.skipped) +
                " skipped, " + std::to_string(result.failed) + " failed");
  }
  return result;
}

}  // namespace quicksr::cli
