// Bicubic resizing as two separable passes over precomputed per-axis contributions (the structure
// of MATLAB's contributions() + resizeAlongDim()); the flavours differ only in the contributions.
#include "quicksr/resize.hpp"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "quicksr/error.hpp"

namespace quicksr {
namespace {

// Keys' cubic convolution kernel with a = -0.5 (MATLAB's cubic()).
double cubic(double x) {
  const double ax = std::abs(x);
  const double ax2 = ax * ax;
  const double ax3 = ax2 * ax;
  if (ax <= 1.0) return 1.5 * ax3 - 2.5 * ax2 + 1.0;
  if (ax <= 2.0) return -0.5 * ax3 + 2.5 * ax2 - 4.0 * ax + 2.0;
  return 0.0;
}

// For every output position: `taps` input indices (0-based, already mirrored) and their weights.
struct Contributions {
  int taps = 0;
  std::vector<int> index;     // out_length * taps
  std::vector<float> weight;  // out_length * taps
};

// MATLAB imresize(..., 'bicubic') with its default antialiasing.
Contributions matlab_contributions(int in_length, int out_length, double scale) {
  constexpr double kKernelWidth = 4.0;
  const bool antialias = scale < 1.0;
  const double width = antialias ? kKernelWidth / scale : kKernelWidth;
  const auto kernel = [&](double x) { return antialias ? scale * cubic(scale * x) : cubic(x); };
  const int taps = static_cast<int>(std::ceil(width)) + 2;

  // MATLAB's 1-based coordinates: output pixel x (1..out) samples input coordinate u.
  std::vector<int> index(static_cast<std::size_t>(out_length) * taps);
  std::vector<double> weight(index.size());
  for (int x = 1; x <= out_length; ++x) {
    const double u = x / scale + 0.5 * (1.0 - 1.0 / scale);
    const double left = std::floor(u - width / 2.0);
    double sum = 0.0;
    for (int k = 0; k < taps; ++k) {
      const double w = kernel(u - (left + k));
      weight[static_cast<std::size_t>(x - 1) * taps + k] = w;
      sum += w;
    }
    for (int k = 0; k < taps; ++k) {
      weight[static_cast<std::size_t>(x - 1) * taps + k] /= sum;
      // Symmetric mirroring: MATLAB indexes aux = [1:in, in:-1:1] with mod(i - 1, 2 * in).
      const int period = 2 * in_length;
      const int i = static_cast<int>(left) + k - 1;  // 0-based
      const int m = ((i % period) + period) % period;
      index[static_cast<std::size_t>(x - 1) * taps + k] = m < in_length ? m : period - 1 - m;
    }
  }

  // MATLAB drops the tap columns whose weight is zero for every output position.
  std::vector<int> kept;
  for (int k = 0; k < taps; ++k) {
    for (int x = 0; x < out_length; ++x) {
      if (weight[static_cast<std::size_t>(x) * taps + k] != 0.0) {
        kept.push_back(k);
        break;
      }
    }
  }
  Contributions result;
  result.taps = static_cast<int>(kept.size());
  result.index.reserve(static_cast<std::size_t>(out_length) * kept.size());
  result.weight.reserve(result.index.capacity());
  for (int x = 0; x < out_length; ++x) {
    for (int k : kept) {
      result.index.push_back(index[static_cast<std::size_t>(x) * taps + k]);
      result.weight.push_back(static_cast<float>(weight[static_cast<std::size_t>(x) * taps + k]));
    }
  }
  return result;
}

// OpenCV's cubic coefficients for a sample at fraction t in [0, 1) past its left centre tap
// (interpolateCubic in imgproc/resize.cpp: a = -0.75, in float, the last one 1 - the others).
void opencv_cubic_weights(float t, float* weights) {
  constexpr float a = -0.75f;
  weights[0] = ((a * (t + 1) - 5 * a) * (t + 1) + 8 * a) * (t + 1) - 4 * a;
  weights[1] = ((a + 2) * t - (a + 3)) * t * t + 1;
  weights[2] = ((a + 2) * (1 - t) - (a + 3)) * (1 - t) * (1 - t) + 1;
  weights[3] = 1.0f - weights[0] - weights[1] - weights[2];
}

// cv::resize INTER_CUBIC: output pixel x samples (x + 0.5) / scale - 0.5 (computed in double,
// rounded to float as OpenCV does), four taps from floor of that minus one, indices clamped.
Contributions opencv_contributions(int in_length, int out_length, double scale) {
  constexpr int kTaps = 4;
  Contributions result;
  result.taps = kTaps;
  result.index.resize(static_cast<std::size_t>(out_length) * kTaps);
  result.weight.resize(result.index.size());
  const double inverse_scale = 1.0 / scale;
  for (int x = 0; x < out_length; ++x) {
    const auto u = static_cast<float>((x + 0.5) * inverse_scale - 0.5);
    const int left = static_cast<int>(std::floor(u));
    opencv_cubic_weights(u - static_cast<float>(left),
                         &result.weight[static_cast<std::size_t>(x) * kTaps]);
    for (int k = 0; k < kTaps; ++k) {
      result.index[static_cast<std::size_t>(x) * kTaps + k] =
          std::clamp(left - 1 + k, 0, in_length - 1);
    }
  }
  return result;
}

// Output pixel x copies the input pixel under its centre (x + 0.5) * factor; a centre on a pixel
// boundary takes the pixel before it (as OpenCV's INTER_NEAREST_EXACT does).
Contributions point_contributions(int in_length, int out_length, double factor) {
  Contributions result;
  result.taps = 1;
  result.weight.assign(static_cast<std::size_t>(out_length), 1.0f);
  for (int x = 0; x < out_length; ++x) {
    result.index.push_back(
        std::clamp(static_cast<int>(std::ceil((x + 0.5) * factor)) - 1, 0, in_length - 1));
  }
  return result;
}

// Output pixel x averages [x factor, (x + 1) factor); unused taps get weight 0.
Contributions area_contributions(int in_length, int out_length, double factor) {
  Contributions result;
  result.taps = static_cast<int>(std::ceil(factor)) + 1;
  result.index.resize(static_cast<std::size_t>(out_length) * result.taps);
  result.weight.resize(result.index.size());
  for (int x = 0; x < out_length; ++x) {
    const double begin = x * factor;
    const double end = std::min((x + 1) * factor, static_cast<double>(in_length));
    const int first = static_cast<int>(std::floor(begin));
    for (int k = 0; k < result.taps; ++k) {
      const double overlap = std::min(first + k + 1.0, end) - std::max<double>(first + k, begin);
      result.index[static_cast<std::size_t>(x) * result.taps + k] =
          std::min(first + k, in_length - 1);
      result.weight[static_cast<std::size_t>(x) * result.taps + k] =
          static_cast<float>(std::max(overlap, 0.0) / factor);
    }
  }
  return result;
}

Contributions contributions(int in_length, int out_length, double scale, BicubicFlavour flavour) {
  return flavour == BicubicFlavour::matlab ? matlab_contributions(in_length, out_length, scale)
                                           : opencv_contributions(in_length, out_length, scale);
}

// Resizes every row of every channel to out_width samples.
Tensor resize_width(const Tensor& in, int out_width, const Contributions& c) {
  Tensor out(in.channels, in.height, out_width);
  for (int ch = 0; ch < in.channels; ++ch) {
    for (int y = 0; y < in.height; ++y) {
      const float* src = in.plane(ch) + static_cast<std::size_t>(y) * in.width;
      float* dst = out.plane(ch) + static_cast<std::size_t>(y) * out_width;
      for (int x = 0; x < out_width; ++x) {
        const int* idx = &c.index[static_cast<std::size_t>(x) * c.taps];
        const float* w = &c.weight[static_cast<std::size_t>(x) * c.taps];
        float sum = 0.0f;
        for (int k = 0; k < c.taps; ++k) sum += w[k] * src[idx[k]];
        dst[x] = sum;
      }
    }
  }
  return out;
}

// Resizes every column; whole rows are combined at once so the inner loop vectorises.
Tensor resize_height(const Tensor& in, int out_height, const Contributions& c) {
  Tensor out(in.channels, out_height, in.width);
  for (int ch = 0; ch < in.channels; ++ch) {
    for (int y = 0; y < out_height; ++y) {
      float* dst = out.plane(ch) + static_cast<std::size_t>(y) * in.width;
      for (int k = 0; k < c.taps; ++k) {
        const float w = c.weight[static_cast<std::size_t>(y) * c.taps + k];
        const float* src =
            in.plane(ch) +
            static_cast<std::size_t>(c.index[static_cast<std::size_t>(y) * c.taps + k]) * in.width;
        for (int x = 0; x < in.width; ++x) dst[x] += w * src[x];
      }
    }
  }
  return out;
}

// Both axes through `make` (point_contributions or area_contributions).
template <typename MakeContributions>
Tensor downscale(const Tensor& input, double factor, const char* what,
                 const MakeContributions& make) {
  if (!(factor >= 1.0) || !std::isfinite(factor)) {
    throw Error(std::string(what) + ": factor must be >= 1, got " + std::to_string(factor));
  }
  const int out_height = static_cast<int>(std::floor(input.height / factor));
  const int out_width = static_cast<int>(std::floor(input.width / factor));
  if (out_height <= 0 || out_width <= 0) {
    throw Error(std::string(what) + ": the input is smaller than the factor " +
                std::to_string(factor));
  }
  const Tensor tall = resize_height(input, out_height, make(input.height, out_height, factor));
  return resize_width(tall, out_width, make(input.width, out_width, factor));
}

}  // namespace

int bicubic_output_length(int length, double scale, BicubicFlavour flavour) {
  const double scaled = scale * length;
  // OpenCV rounds half to even (cvRound), as std::lrint does in the default rounding mode.
  return static_cast<int>(flavour == BicubicFlavour::matlab ? std::ceil(scaled)
                                                            : std::lrint(scaled));
}

Tensor resize_bicubic(const Tensor& input, double scale, BicubicFlavour flavour) {
  if (!(scale > 0.0) || !std::isfinite(scale)) {
    throw Error("resize_bicubic: scale must be a positive number, got " + std::to_string(scale));
  }
  if (input.height <= 0 || input.width <= 0) {
    throw Error("resize_bicubic: the input image is empty");
  }
  const int out_height = bicubic_output_length(input.height, scale, flavour);
  const int out_width = bicubic_output_length(input.width, scale, flavour);
  if (out_height <= 0 || out_width <= 0) {
    throw Error("resize_bicubic: scale " + std::to_string(scale) + " leaves no pixels");
  }
  const Contributions rows = contributions(input.height, out_height, scale, flavour);
  const Contributions columns = contributions(input.width, out_width, scale, flavour);
  // MATLAB resizes the dimension with the smaller scale first (height on ties); OpenCV resizes
  // rows (width) first.
  if (flavour == BicubicFlavour::matlab) {
    return resize_width(resize_height(input, out_height, rows), out_width, columns);
  }
  return resize_height(resize_width(input, out_width, columns), out_height, rows);
}

Tensor downscale_point(const Tensor& input, double factor) {
  return downscale(input, factor, "downscale_point", point_contributions);
}

Tensor downscale_area(const Tensor& input, double factor) {
  return downscale(input, factor, "downscale_area", area_contributions);
}

Image resize_bicubic(const Image& input, double scale, BicubicFlavour flavour) {
  Image out = from_tensor(resize_bicubic(to_tensor(input), scale, flavour));
  // Images hold values in [0,1]; bicubic overshoot at edges is clipped like an 8-bit write would.
  const auto clip = [](float& v) { v = std::clamp(v, 0.0f, 1.0f); };
  std::for_each(out.rgb.begin(), out.rgb.end(), clip);
  if (input.has_alpha()) {
    Tensor alpha(1, input.height, input.width);
    alpha.data = input.alpha;
    out.alpha = resize_bicubic(alpha, scale, flavour).data;
    std::for_each(out.alpha.begin(), out.alpha.end(), clip);
  }
  out.bit_depth = input.bit_depth;
  out.gray = input.gray;
  return out;
}

}  // namespace quicksr
