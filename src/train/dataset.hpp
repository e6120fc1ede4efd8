#pragma once
// Training pairs: HR images cropped to a multiple of the scale and their LR made exactly as the
// evaluation protocol makes it, cached in memory; random patches with the 8 flips/rotations.
// Sample j of iteration k is a pure function of (seed, k, j), so batches are reproducible across
// resumes, prefetch threads and process counts.
#include <cstdint>
#include <filesystem>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "quicksr/eval.hpp"
#include "quicksr/model.hpp"
#include "quicksr/tensor.hpp"

namespace quicksr::train {

struct TrainingPair {
  std::string name;
  Tensor hr;
  Tensor lr;
};

struct LoadSummary {
  int loaded = 0;         // images with a usable pair
  int scaled_copies = 0;  // extra pairs of scale augmentation
  int unreadable = 0;     // not an image read_image can decode (each reported as a warning)
  int too_small = 0;      // LR smaller than the patch
};

class TrainingSet {
 public:
  // Every regular file of `folders` (sorted by path), its LR made by `degradation`. Scale
  // augmentation (VDSR's, for small data sets): each factor of `hr_scales` (in (0, 1)) adds a
  // copy of every HR image downscaled by it (MATLAB bicubic, rounded to 8 bits like a photo of
  // that size) with its own LR; copies smaller than the patch are left out. Throws
  // quicksr::Error when a folder is missing or no usable image remains; warnings go to `log`.
  TrainingSet(const std::vector<std::filesystem::path>& folders, Scale scale, int lr_patch,
              std::ostream& log, Degradation degradation = Degradation::bicubic,
              const std::vector<double>& hr_scales = {});

  const LoadSummary& summary() const { return summary_; }
  // The pairs samples are drawn from (uniformly): every image, then the scaled copies.
  const std::vector<TrainingPair>& pairs() const { return pairs_; }
  int lr_patch() const { return lr_patch_; }
  int hr_patch() const { return hr_patch_; }

  // Writes sample `index` of iteration `iteration` as planar 3 x p x p (LR) and 3 x P x P (HR);
  // returns the index in pairs() of the pair it was cut from.
  std::size_t sample(std::uint64_t seed, std::int64_t iteration, std::int64_t index, float* lr_out,
                     float* hr_out) const;

 private:
  Scale scale_;
  int lr_patch_;
  int hr_patch_;
  int lr_step_;  // LR offsets are multiples of this so that HR offsets are whole pixels
  std::vector<TrainingPair> pairs_;
  LoadSummary summary_;
  EvalProtocol protocol_;

  // The pair of `hr` (not yet cropped), or nothing when its LR is smaller than the patch.
  std::optional<TrainingPair> make_pair(std::string name, const Tensor& hr) const;
};

// Copies the square `side` x `side` window at (x, y) of every channel of `source` to `out`
// (planar), transformed by one of the 8 symmetries of the square: output (row, col) reads window
// pixel (sx, sy) = (col, row), or (row, col) when bit 2 is set (transpose); bit 0 then mirrors
// sx and bit 1 mirrors sy.
void copy_transformed_patch(const Tensor& source, int x, int y, int side, int transform,
                            float* out);

}  // namespace quicksr::train
