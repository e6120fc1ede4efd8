// MATLAB imresize(..., 'bicubic') with its default antialiasing, written as two separable passes
// over precomputed per-axis contributions (the structure of MATLAB's contributions() +
// resizeAlongDim()).
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

Contributions contributions(int in_length, int out_length, double scale) {
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

}  // namespace

Tensor resize_bicubic(const Tensor& input, double scale) {
  if (!(scale > 0.0) || !std::isfinite(scale)) {
    throw Error("resize_bicubic: scale must be a positive number, got " + std::to_string(scale));
  }
  if (input.height <= 0 || input.width <= 0) {
    throw Error("resize_bicubic: the input image is empty");
  }
  const int out_height = static_cast<int>(std::ceil(scale * input.height));
  const int out_width = static_cast<int>(std::ceil(scale * input.width));
  // MATLAB resizes the dimension with the smaller scale first; with one scale for both axes the
  // order is height, then width.
  Tensor tall = resize_height(input, out_height, contributions(input.height, out_height, scale));
  return resize_width(tall, out_width, contributions(input.width, out_width, scale));
}

Image resize_bicubic(const Image& input, double scale) {
  Image out = from_tensor(resize_bicubic(to_tensor(input), scale));
  // Images hold values in [0,1]; bicubic overshoot at edges is clipped like an 8-bit write would.
  const auto clip = [](float& v) { v = std::clamp(v, 0.0f, 1.0f); };
  std::for_each(out.rgb.begin(), out.rgb.end(), clip);
  if (input.has_alpha()) {
    Tensor alpha(1, input.height, input.width);
    alpha.data = input.alpha;
    out.alpha = resize_bicubic(alpha, scale).data;
    std::for_each(out.alpha.begin(), out.alpha.end(), clip);
  }
  out.bit_depth = input.bit_depth;
  out.gray = input.gray;
  return out;
}

}  // namespace quicksr
