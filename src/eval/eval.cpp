// The evaluation protocol of include/quicksr/eval.hpp: LR generation, PSNR/SSIM and the folder
// loop.
#include "quicksr/eval.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <iterator>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "common/progress.hpp"
#include "quicksr/error.hpp"
#include "quicksr/image.hpp"
#include "quicksr/resize.hpp"

namespace fs = std::filesystem;

namespace quicksr {
namespace {

constexpr double kPeak = 255.0;
// The authors' compute_psnr adds this to the MSE; it keeps the PSNR of identical images finite.
constexpr double kMseEpsilon = 1e-8;
// Truncating v * 255 of an exact 8-bit level must give that level back; float rounding can land
// a hair below it, so the truncation gets this much slack (in 8-bit levels).
constexpr double kTruncationSlack = 1e-3;

// One image plane on a 0..255 scale, as scored (border already cropped).
struct Plane {
  int height = 0;
  int width = 0;
  std::vector<double> values;

  double at(int y, int x) const { return values[static_cast<std::size_t>(y) * width + x]; }
};

std::string size_text(const Tensor& t) {
  return std::to_string(t.width) + "x" + std::to_string(t.height);
}

float quantize_8bit(float v, bool round) {
  const double level = round ? std::round(v * kPeak) : std::floor(v * kPeak + kTruncationSlack);
  return static_cast<float>(std::clamp(level, 0.0, kPeak) / kPeak);
}

// The planes a score is computed on: BT.601 Y (16..235) or R, G, B, each times 255.
std::vector<Plane> scored_planes(const Tensor& image, const EvalProtocol& protocol) {
  const int b = protocol.border;
  Plane plane{image.height - 2 * b, image.width - 2 * b, {}};
  plane.values.reserve(static_cast<std::size_t>(plane.height) * plane.width);
  std::vector<Plane> planes;
  if (protocol.rgb) {
    for (int c = 0; c < 3; ++c) {
      planes.push_back(plane);
      for (int y = b; y < image.height - b; ++y) {
        for (int x = b; x < image.width - b; ++x) {
          planes.back().values.push_back(kPeak * image.at(c, y, x));
        }
      }
    }
    return planes;
  }
  for (int y = b; y < image.height - b; ++y) {
    for (int x = b; x < image.width - b; ++x) {
      plane.values.push_back(16.0 + 65.481 * image.at(0, y, x) + 128.553 * image.at(1, y, x) +
                             24.966 * image.at(2, y, x));
    }
  }
  planes.push_back(std::move(plane));
  return planes;
}

void check_comparable(const Tensor& sr, const Tensor& hr, const EvalProtocol& protocol,
                      int min_size) {
  if (sr.channels != 3 || hr.channels != 3) {
    throw Error("scoring needs RGB images, got " + std::to_string(sr.channels) + " and " +
                std::to_string(hr.channels) + " channels");
  }
  if (sr.height != hr.height || sr.width != hr.width) {
    throw Error("scoring needs images of the same size, got " + size_text(sr) + " and " +
                size_text(hr));
  }
  if (protocol.border < 0 || std::min(hr.height, hr.width) - 2 * protocol.border < min_size) {
    throw Error("image of " + size_text(hr) + " is too small to score with a border of " +
                std::to_string(protocol.border) + " (at least " + std::to_string(min_size) +
                " pixels a side must remain)");
  }
}

// 'valid' correlation with the separable window `taps` x `taps`: (h - n + 1) x (w - n + 1).
Plane filter_valid(const Plane& in, const std::vector<double>& taps) {
  const int n = static_cast<int>(taps.size());
  Plane rows{in.height, in.width - n + 1, {}};
  rows.values.resize(static_cast<std::size_t>(rows.height) * rows.width);
  for (int y = 0; y < rows.height; ++y) {
    for (int x = 0; x < rows.width; ++x) {
      double sum = 0.0;
      for (int k = 0; k < n; ++k) sum += taps[k] * in.at(y, x + k);
      rows.values[static_cast<std::size_t>(y) * rows.width + x] = sum;
    }
  }
  Plane out{in.height - n + 1, rows.width, {}};
  out.values.resize(static_cast<std::size_t>(out.height) * out.width);
  for (int y = 0; y < out.height; ++y) {
    for (int x = 0; x < out.width; ++x) {
      double sum = 0.0;
      for (int k = 0; k < n; ++k) sum += taps[k] * rows.at(y + k, x);
      out.values[static_cast<std::size_t>(y) * out.width + x] = sum;
    }
  }
  return out;
}

constexpr int kSsimWindow = 11;

std::vector<double> gaussian_window() {
  constexpr double kSigma = 1.5;
  std::vector<double> taps(kSsimWindow);
  double sum = 0.0;
  for (int i = 0; i < kSsimWindow; ++i) {
    const double d = i - kSsimWindow / 2;
    taps[i] = std::exp(-d * d / (2.0 * kSigma * kSigma));
    sum += taps[i];
  }
  for (double& t : taps) t /= sum;
  return taps;
}

Plane product(const Plane& a, const Plane& b) {
  Plane out{a.height, a.width, std::vector<double>(a.values.size())};
  for (std::size_t i = 0; i < a.values.size(); ++i) out.values[i] = a.values[i] * b.values[i];
  return out;
}

// Wang et al.'s SSIM averaged over the region where the whole window fits (skimage/BasicSR).
double ssim_plane(const Plane& a, const Plane& b) {
  constexpr double kC1 = (0.01 * kPeak) * (0.01 * kPeak);
  constexpr double kC2 = (0.03 * kPeak) * (0.03 * kPeak);
  const std::vector<double> window = gaussian_window();
  const Plane mu_a = filter_valid(a, window);
  const Plane mu_b = filter_valid(b, window);
  const Plane aa = filter_valid(product(a, a), window);
  const Plane bb = filter_valid(product(b, b), window);
  const Plane ab = filter_valid(product(a, b), window);
  double sum = 0.0;
  for (std::size_t i = 0; i < mu_a.values.size(); ++i) {
    const double ma = mu_a.values[i];
    const double mb = mu_b.values[i];
    const double var_a = aa.values[i] - ma * ma;
    const double var_b = bb.values[i] - mb * mb;
    const double cov = ab.values[i] - ma * mb;
    sum += ((2 * ma * mb + kC1) * (2 * cov + kC2)) /
           ((ma * ma + mb * mb + kC1) * (var_a + var_b + kC2));
  }
  return sum / static_cast<double>(mu_a.values.size());
}

// What a pair-matching name says: the key left once LR/HR words are dropped, and which side.
enum class Marker { kNone, kLr, kHr };
struct PairName {
  std::string key;
  Marker marker = Marker::kNone;
};

std::string lowercase(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return text;
}

bool is_digits(const std::string& text, std::size_t from) {
  return from < text.size() && std::all_of(text.begin() + from, text.end(),
                                           [](unsigned char c) { return std::isdigit(c); });
}

// "0801x4" -> "0801": DIV2K's LR names are the HR name plus x<scale>.
std::string drop_scale_suffix(const std::string& word) {
  const auto x = word.rfind('x');
  return x != std::string::npos && x > 0 && is_digits(word, x + 1) ? word.substr(0, x) : word;
}

PairName pair_name(const fs::path& file) {
  PairName name;
  std::string word;
  const std::string stem = lowercase(file.stem().string()) + "_";
  for (char c : stem) {
    if (c != '_' && c != '-' && c != '.' && c != ' ') {
      word += c;
      continue;
    }
    if (word.starts_with("lr") && (word.size() == 2 || is_digits(word, 2))) {
      name.marker = Marker::kLr;
    } else if (word.starts_with("hr") && (word.size() == 2 || is_digits(word, 2))) {
      name.marker = Marker::kHr;
    } else if (!word.empty() &&
               !(word.ends_with('p') && is_digits(word.substr(0, word.size() - 1), 0)) &&
               !(word.starts_with('x') && is_digits(word, 1))) {
      name.key += (name.key.empty() ? "" : "_") + drop_scale_suffix(word);
    }
    word.clear();
  }
  return name;
}

// One image to score: the upscaler's input and the reference it must reproduce.
struct ScoredImage {
  std::string name;
  std::string file;  // named in errors
  Tensor lr;
  Tensor hr;
};

// The output as an 8-bit image file would hold it.
Tensor quantize_sr(Tensor sr) {
  for (float& v : sr.data) v = quantize_8bit(std::clamp(v, 0.0f, 1.0f), true);
  return sr;
}

// The output of `scored`, checked and as the protocol scores it.
Tensor upscale_one(const UpscaleFn& upscale, const ScoredImage& scored,
                   const EvalProtocol& protocol) {
  Tensor sr = upscale(scored.lr);
  if (sr.channels != 3 || sr.height != scored.hr.height || sr.width != scored.hr.width) {
    throw Error("the upscaler returned " + size_text(sr) + " for an HR of " + size_text(scored.hr));
  }
  return protocol.quantize_sr ? quantize_sr(std::move(sr)) : sr;
}

// Upscales and scores image(0..count-1), with a progress bar.
template <typename LoadImage>
EvalResult score_each(const UpscaleFn& upscale, const OutputFn& on_output, const std::string& title,
                      std::size_t count, Scale scale, const EvalProtocol& protocol,
                      LoadImage image) {
  EvalResult result;
  result.scale = scale;
  ProgressBar progress(title, static_cast<std::int64_t>(count), "img");
  progress.update(0);  // the rate counts from here
  for (std::size_t i = 0; i < count; ++i) {
    const ScoredImage scored = image(i);
    Tensor sr;
    ImageScore score;
    try {
      sr = upscale_one(upscale, scored, protocol);
      score = {scored.name, psnr(sr, scored.hr, protocol), ssim(sr, scored.hr, protocol)};
    } catch (const Error& e) {
      throw Error(about_file(scored.file, e.what()));
    }
    if (on_output) on_output(scored.name, sr);  // its errors name the output, not the input
    result.mean_psnr += score.psnr;
    result.mean_ssim += score.ssim;
    result.images.push_back(std::move(score));
    char status[64];
    std::snprintf(status, sizeof status, "mean PSNR %.3f dB",
                  result.mean_psnr / static_cast<double>(result.images.size()));
    progress.update(static_cast<std::int64_t>(result.images.size()), status);
  }
  result.mean_psnr /= static_cast<double>(result.images.size());
  result.mean_ssim /= static_cast<double>(result.images.size());
  progress.finish();
  return result;
}

}  // namespace

Degradation parse_degradation(const std::string& name) {
  if (name == "bicubic") return Degradation::bicubic;
  if (name == "point") return Degradation::point;
  if (name == "area") return Degradation::area;
  throw Error("degradation must be bicubic, point or area, not '" + name + "'");
}

std::string to_string(Degradation degradation) {
  switch (degradation) {
    case Degradation::point:
      return "point";
    case Degradation::area:
      return "area";
    case Degradation::bicubic:
      break;
  }
  return "bicubic";
}

EvalProtocol basicsr_protocol(Scale scale) {
  EvalProtocol protocol;
  protocol.border = static_cast<int>(std::ceil(scale.value()));
  protocol.round_lr = true;
  protocol.quantize_sr = true;
  return protocol;
}

Tensor crop_to_multiple(const Tensor& hr, Scale scale) {
  // LR = HR * denominator / numerator is exact when HR is a multiple of the numerator.
  const int multiple = scale.numerator;
  const int height = hr.height - hr.height % multiple;
  const int width = hr.width - hr.width % multiple;
  if (height <= 0 || width <= 0) {
    throw Error("image of " + size_text(hr) + " is smaller than the scale factor");
  }
  const int top = (hr.height - height) / 2;
  const int left = (hr.width - width) / 2;
  Tensor out(hr.channels, height, width);
  for (int c = 0; c < hr.channels; ++c) {
    for (int y = 0; y < height; ++y) {
      const float* src = &hr.plane(c)[static_cast<std::size_t>(y + top) * hr.width + left];
      std::copy(src, src + width, &out.plane(c)[static_cast<std::size_t>(y) * width]);
    }
  }
  return out;
}

Tensor make_lr(const Tensor& hr, Scale scale, const EvalProtocol& protocol) {
  if (hr.height % scale.numerator != 0 || hr.width % scale.numerator != 0) {
    throw Error("make_lr: HR of " + size_text(hr) + " is not a multiple of " +
                std::to_string(scale.numerator) + " (crop_to_multiple first)");
  }
  Tensor lr = protocol.degradation == Degradation::point  ? downscale_point(hr, scale.value())
              : protocol.degradation == Degradation::area ? downscale_area(hr, scale.value())
                                                          : resize_bicubic(hr, 1.0 / scale.value());
  for (float& v : lr.data) v = quantize_8bit(v, protocol.round_lr);
  return lr;
}

double psnr(const Tensor& sr, const Tensor& hr, const EvalProtocol& protocol) {
  check_comparable(sr, hr, protocol, 1);
  const std::vector<Plane> a = scored_planes(sr, protocol);
  const std::vector<Plane> b = scored_planes(hr, protocol);
  double squared_error = 0.0;
  std::size_t count = 0;
  for (std::size_t p = 0; p < a.size(); ++p) {
    for (std::size_t i = 0; i < a[p].values.size(); ++i) {
      const double d = a[p].values[i] - b[p].values[i];
      squared_error += d * d;
    }
    count += a[p].values.size();
  }
  const double mse = squared_error / static_cast<double>(count);
  return 10.0 * std::log10(kPeak * kPeak / (mse + kMseEpsilon));
}

double ssim(const Tensor& sr, const Tensor& hr, const EvalProtocol& protocol) {
  check_comparable(sr, hr, protocol, kSsimWindow);
  const std::vector<Plane> a = scored_planes(sr, protocol);
  const std::vector<Plane> b = scored_planes(hr, protocol);
  double sum = 0.0;
  for (std::size_t p = 0; p < a.size(); ++p) sum += ssim_plane(a[p], b[p]);
  return sum / static_cast<double>(a.size());
}

std::vector<fs::path> image_files(const fs::path& dir) {
  std::error_code error;
  if (!fs::is_directory(dir, error)) throw Error(dir.string() + ": not a folder");
  std::vector<fs::path> files;
  for (fs::directory_iterator it(dir, error), end; !error && it != end; it.increment(error)) {
    const fs::path& path = it->path();
    // Hidden files (macOS "._x.png" next to each image) are no images of the set.
    if (path.filename().string().starts_with(".") || !is_readable_image_path(path)) continue;
    std::error_code type_error;
    if (it->is_regular_file(type_error)) files.push_back(path);
    if (type_error) throw Error(path.string() + ": " + type_error.message());
  }
  if (error) throw Error(dir.string() + ": cannot list the folder: " + error.message());
  if (files.empty()) throw Error(dir.string() + ": no images (png, jpg, webp, tif, bmp) here");
  std::sort(files.begin(), files.end(),
            [](const fs::path& a, const fs::path& b) { return a.filename() < b.filename(); });
  return files;
}

EvalResult evaluate(const UpscaleFn& upscale, const fs::path& hr_dir, Scale scale,
                    const EvalProtocol& protocol, const ReadOptions& read,
                    const OutputFn& on_output) {
  const std::vector<fs::path> files = image_files(hr_dir);
  return score_each(upscale, on_output, "eval " + hr_dir.string(), files.size(), scale, protocol,
                    [&](std::size_t i) {
                      try {
                        Tensor hr = crop_to_multiple(to_tensor(read_image(files[i], read)), scale);
                        Tensor lr = make_lr(hr, scale, protocol);
                        return ScoredImage{files[i].stem().string(), files[i].string(),
                                           std::move(lr), std::move(hr)};
                      } catch (const Error& e) {
                        throw Error(about_file(files[i].string(), e.what()));
                      }
                    });
}

std::vector<ImagePair> match_image_pairs(const fs::path& lr_dir, const fs::path& hr_dir) {
  std::error_code error;
  const bool one_folder = fs::equivalent(lr_dir, hr_dir, error);
  std::multimap<std::string, fs::path> hr_by_key;
  for (const fs::path& file : image_files(hr_dir)) {
    const PairName name = pair_name(file);
    if (!one_folder || name.marker == Marker::kHr) hr_by_key.emplace(name.key, file);
  }
  std::vector<ImagePair> pairs;
  for (const fs::path& file : image_files(lr_dir)) {
    const PairName name = pair_name(file);
    if (one_folder && name.marker != Marker::kLr) continue;
    const auto [first, last] = hr_by_key.equal_range(name.key);
    if (first == last) {
      throw Error(file.string() + ": no image of " + hr_dir.string() + " matches its name");
    }
    if (std::next(first) != last) {
      throw Error(file.string() + ": several images of " + hr_dir.string() + " match its name (" +
                  first->second.filename().string() + ", " +
                  std::next(first)->second.filename().string() + ")");
    }
    pairs.push_back({name.key.empty() ? file.stem().string() : name.key, file, first->second});
  }
  if (pairs.empty()) throw Error(lr_dir.string() + ": no LR image (with an LR word in its name)");
  return pairs;
}

EvalResult evaluate_pairs(const UpscaleFn& upscale, const std::vector<ImagePair>& pairs,
                          Scale scale, const EvalProtocol& protocol, const ReadOptions& read,
                          const OutputFn& on_output) {
  return score_each(
      upscale, on_output, "eval pairs", pairs.size(), scale, protocol, [&](std::size_t i) {
        ScoredImage scored{pairs[i].name, pairs[i].lr.string(),
                           to_tensor(read_image(pairs[i].lr, read)),
                           to_tensor(read_image(pairs[i].hr, read))};
        // Upscalers output floor(scale * size), as the engine does.
        const int width = scored.lr.width * scale.numerator / scale.denominator;
        const int height = scored.lr.height * scale.numerator / scale.denominator;
        if (scored.hr.width != width || scored.hr.height != height) {
          std::ostringstream factor;  // "2", "1.5"
          factor << scale.value();
          throw Error(scored.file + ": x" + factor.str() + " of this " + size_text(scored.lr) +
                      " LR is " + std::to_string(width) + "x" + std::to_string(height) +
                      ", but its HR " + pairs[i].hr.string() + " is " + size_text(scored.hr));
        }
        return scored;
      });
}

}  // namespace quicksr
