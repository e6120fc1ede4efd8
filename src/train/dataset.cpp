#include "train/dataset.hpp"

#include <algorithm>
#include <cmath>
#include <iterator>
#include <ostream>
#include <random>

#include "quicksr/error.hpp"
#include "quicksr/eval.hpp"
#include "quicksr/image.hpp"
#include "quicksr/resize.hpp"

namespace quicksr::train {
namespace {

// SplitMix64 finaliser: decorrelates the seeds of neighbouring samples.
std::uint64_t mix(std::uint64_t value) {
  value += 0x9e3779b97f4a7c15ull;
  value = (value ^ (value >> 30)) * 0xbf58476d1ce4e5b9ull;
  value = (value ^ (value >> 27)) * 0x94d049bb133111ebull;
  return value ^ (value >> 31);
}

std::vector<std::filesystem::path> list_files(const std::vector<std::filesystem::path>& folders) {
  std::vector<std::filesystem::path> files;
  for (const auto& folder : folders) {
    if (!std::filesystem::is_directory(folder)) {
      throw Error(folder.string() + ": training data folder does not exist");
    }
    for (const auto& entry : std::filesystem::directory_iterator(folder)) {
      if (entry.is_regular_file()) files.push_back(entry.path());
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace

TrainingSet::TrainingSet(const std::vector<std::filesystem::path>& folders, Scale scale,
                         int lr_patch, std::ostream& log, Degradation degradation,
                         const std::vector<double>& hr_scales)
    : scale_(scale),
      lr_patch_(lr_patch),
      hr_patch_(lr_patch * scale.numerator / scale.denominator),
      lr_step_(scale.denominator) {
  if (lr_patch % scale.denominator != 0) {
    throw Error("LR patch " + std::to_string(lr_patch) + " is not a multiple of " +
                std::to_string(scale.denominator) + " (needed for x" + scale.to_string() + ")");
  }
  protocol_.degradation = degradation;
  std::vector<TrainingPair> copies;
  for (const auto& file : list_files(folders)) {
    Tensor hr;
    try {
      hr = to_tensor(read_image(file));
    } catch (const Error& e) {
      log << "warning: skipping " << about_file(file.string(), e.what()) << "\n";
      ++summary_.unreadable;
      continue;
    }
    std::optional<TrainingPair> pair = make_pair(file.string(), hr);
    if (!pair) {
      log << "warning: skipping " << file.string() << ": LR smaller than the " << lr_patch
          << " px patch\n";
      ++summary_.too_small;
      continue;
    }
    pairs_.push_back(std::move(*pair));
    for (const double factor : hr_scales) {
      Tensor smaller = resize_bicubic(hr, factor);
      for (float& v : smaller.data) v = std::round(std::clamp(v, 0.0f, 1.0f) * 255.0f) / 255.0f;
      std::optional<TrainingPair> copy =
          make_pair(file.string() + " scaled by " + std::to_string(factor), smaller);
      if (copy) copies.push_back(std::move(*copy));
    }
  }
  summary_.loaded = static_cast<int>(pairs_.size());
  summary_.scaled_copies = static_cast<int>(copies.size());
  if (pairs_.empty()) {
    std::string names;
    for (const auto& folder : folders) names += (names.empty() ? "" : ", ") + folder.string();
    throw Error(names + ": no usable training image (" + std::to_string(summary_.unreadable) +
                " unreadable, " + std::to_string(summary_.too_small) + " smaller than the patch)");
  }
  std::move(copies.begin(), copies.end(), std::back_inserter(pairs_));
}

std::optional<TrainingPair> TrainingSet::make_pair(std::string name, const Tensor& hr) const {
  Tensor cropped = crop_to_multiple(hr, scale_);
  Tensor lr = make_lr(cropped, scale_, protocol_);
  if (lr.width < lr_patch_ || lr.height < lr_patch_) return std::nullopt;
  return TrainingPair{std::move(name), std::move(cropped), std::move(lr)};
}

std::size_t TrainingSet::sample(std::uint64_t seed, std::int64_t iteration, std::int64_t index,
                                float* lr_out, float* hr_out) const {
  std::mt19937_64 rng(mix(mix(mix(seed) ^ static_cast<std::uint64_t>(iteration)) ^
                          static_cast<std::uint64_t>(index)));
  const auto uniform = [&rng](int count) {  // in [0, count)
    return static_cast<int>(std::uniform_int_distribution<int>(0, count - 1)(rng));
  };
  const auto pair_index = static_cast<std::size_t>(uniform(static_cast<int>(pairs_.size())));
  const TrainingPair& pair = pairs_[pair_index];
  const int x = uniform((pair.lr.width - lr_patch_) / lr_step_ + 1) * lr_step_;
  const int y = uniform((pair.lr.height - lr_patch_) / lr_step_ + 1) * lr_step_;
  const int transform = uniform(8);
  copy_transformed_patch(pair.lr, x, y, lr_patch_, transform, lr_out);
  copy_transformed_patch(pair.hr, x * scale_.numerator / scale_.denominator,
                         y * scale_.numerator / scale_.denominator, hr_patch_, transform, hr_out);
  return pair_index;
}

void copy_transformed_patch(const Tensor& source, int x, int y, int side, int transform,
                            float* out) {
  const bool flip_x = transform & 1, flip_y = transform & 2, transpose = transform & 4;
  for (int c = 0; c < source.channels; ++c) {
    for (int row = 0; row < side; ++row) {
      for (int col = 0; col < side; ++col) {
        int sx = transpose ? row : col;
        int sy = transpose ? col : row;
        if (flip_x) sx = side - 1 - sx;
        if (flip_y) sy = side - 1 - sy;
        *out++ = source.at(c, y + sy, x + sx);
      }
    }
  }
}

}  // namespace quicksr::train
