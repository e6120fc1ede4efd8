// FSR 1 on the CPU: one output row at a time, rows spread over the engine's thread pool. The
// arithmetic follows AMD's description (ffx_fsr1.h) with exact reciprocals and square roots in
// place of the GPU bit-trick approximations, and explicit guards where those would divide by 0.
#include "quicksr/fsr1.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <string>
#include <thread>

#include "engine/thread_pool.hpp"
#include "quicksr/error.hpp"

namespace quicksr {
namespace {

// FSR's luma estimate, twice the luma: 0.5 R + G + 0.5 B.
float luma2(float r, float g, float b) { return 0.5f * b + (0.5f * r + g); }

// Runs row_task(y) for every y in [0, rows), in bands spread over `threads` workers.
template <typename RowTask>
void for_each_row(int rows, int threads, const RowTask& row_task) {
  if (threads <= 0) threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  threads = std::min(threads, rows);
  if (threads <= 1) {
    for (int y = 0; y < rows; ++y) row_task(y);
    return;
  }
  const int bands = std::min(rows, threads * 4);
  engine::ThreadPool pool(threads);
  pool.run(bands, [&](int band) {
    const int begin = static_cast<int>(static_cast<long long>(rows) * band / bands);
    const int end = static_cast<int>(static_cast<long long>(rows) * (band + 1) / bands);
    for (int y = begin; y < end; ++y) row_task(y);
  });
}

// ---- EASU --------------------------------------------------------------------------------------

// The 12 taps around the sample position, relative to 'f', the input pixel at floor(position):
//      b c
//    e f g h
//    i j k l
//      n o
enum Tap { kB, kC, kE, kF, kG, kH, kI, kJ, kK, kL, kN, kO, kTaps };
constexpr std::array<int, kTaps> kTapX = {0, 1, -1, 0, 1, 2, -1, 0, 1, 2, 0, 1};
constexpr std::array<int, kTaps> kTapY = {-1, -1, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2};

// How much one axis of a '+' (before, centre, after) looks like an edge: 0 where the gradient
// reverses (a line or noise), 1 where it keeps its sign, squared.
float edge_strength(float before, float centre, float after) {
  const float span = std::max(std::abs(after - centre), std::abs(centre - before));
  if (span == 0.0f) return 0.0f;
  const float t = std::min(std::abs(after - before) / span, 1.0f);
  return t * t;
}

struct EdgeEstimate {
  float dir_x = 0.0f, dir_y = 0.0f;  // gradient direction, summed with bilinear weights
  float length = 0.0f;               // edge strength in 0..2, summed with bilinear weights
  // One of the four pixels nearest the sample ('centre'), weighted by its bilinear weight.
  void add(float weight, float up, float left, float centre, float right, float down) {
    dir_x += (right - left) * weight;
    dir_y += (down - up) * weight;
    length += (edge_strength(left, centre, right) + edge_strength(up, centre, down)) * weight;
  }
};

// The shape of the filter at one sample: rotated along the edge, stretched across it, and with
// a deeper negative lobe on stronger edges.
struct Kernel {
  float dir_x, dir_y;      // unit direction of the gradient
  float scale_x, scale_y;  // anisotropy, applied after rotation
  float lobe;              // window parameter: 0.5 (no edge) down to 0.21 (strong edge)
  float max_distance2;     // squared distance where the window ends (1 / lobe)
};

Kernel make_kernel(const EdgeEstimate& edge) {
  Kernel k{};
  const float dir2 = edge.dir_x * edge.dir_x + edge.dir_y * edge.dir_y;
  if (dir2 < 1.0f / 32768.0f) {  // no usable gradient: FSR falls back to the x axis
    k.dir_x = 1.0f;
    k.dir_y = edge.dir_y;
  } else {
    const float inverse = 1.0f / std::sqrt(dir2);
    k.dir_x = edge.dir_x * inverse;
    k.dir_y = edge.dir_y * inverse;
  }
  const float half = edge.length * 0.5f;
  const float length = half * half;
  // 1 along an axis, up to sqrt(2) on the diagonal, so the window covers the square of taps.
  const float stretch =
      (k.dir_x * k.dir_x + k.dir_y * k.dir_y) / std::max(std::abs(k.dir_x), std::abs(k.dir_y));
  k.scale_x = 1.0f + (stretch - 1.0f) * length;
  k.scale_y = 1.0f - 0.5f * length;
  k.lobe = 0.5f + ((1.0f / 4.0f - 0.04f) - 0.5f) * length;
  k.max_distance2 = 1.0f / k.lobe;
  return k;
}

// FSR's polynomial stand-in for Lanczos-2 at squared distance d2 (no sqrt, no sin):
// (25/16 (2/5 d2 - 1)^2 - 9/16) * (lobe d2 - 1)^2.
float tap_weight(const Kernel& k, float offset_x, float offset_y) {
  const float vx = (offset_x * k.dir_x + offset_y * k.dir_y) * k.scale_x;
  const float vy = (offset_y * k.dir_x - offset_x * k.dir_y) * k.scale_y;
  const float d2 = std::min(vx * vx + vy * vy, k.max_distance2);
  float base = 2.0f / 5.0f * d2 - 1.0f;
  float window = k.lobe * d2 - 1.0f;
  base = 25.0f / 16.0f * base * base - (25.0f / 16.0f - 1.0f);
  window *= window;
  return base * window;
}

// Clamped input indices of the four columns (or rows) from floor(position) - 1.
std::array<int, 4> clamped_indices(int first, int length) {
  std::array<int, 4> index{};
  for (int k = 0; k < 4; ++k) index[k] = std::clamp(first - 1 + k, 0, length - 1);
  return index;
}

void easu_row(const Tensor& in, const std::vector<float>& luma, int y, Tensor& out) {
  const float ratio_x = static_cast<float>(in.width) / static_cast<float>(out.width);
  const float ratio_y = static_cast<float>(in.height) / static_cast<float>(out.height);
  const float py = (static_cast<float>(y) + 0.5f) * ratio_y - 0.5f;
  const float fy = std::floor(py);
  const float ty = py - fy;
  const std::array<int, 4> rows = clamped_indices(static_cast<int>(fy), in.height);
  for (int x = 0; x < out.width; ++x) {
    const float px = (static_cast<float>(x) + 0.5f) * ratio_x - 0.5f;
    const float fx = std::floor(px);
    const float tx = px - fx;
    const std::array<int, 4> columns = clamped_indices(static_cast<int>(fx), in.width);
    std::array<std::size_t, kTaps> at{};
    std::array<float, kTaps> l{};
    for (int t = 0; t < kTaps; ++t) {
      at[t] = static_cast<std::size_t>(rows[kTapY[t] + 1]) * in.width + columns[kTapX[t] + 1];
      l[t] = luma[at[t]];
    }
    EdgeEstimate edge;
    edge.add((1 - tx) * (1 - ty), l[kB], l[kE], l[kF], l[kG], l[kJ]);
    edge.add(tx * (1 - ty), l[kC], l[kF], l[kG], l[kH], l[kK]);
    edge.add((1 - tx) * ty, l[kF], l[kI], l[kJ], l[kK], l[kN]);
    edge.add(tx * ty, l[kG], l[kJ], l[kK], l[kL], l[kO]);
    const Kernel kernel = make_kernel(edge);
    std::array<float, kTaps> weight{};
    float weight_sum = 0.0f;
    for (int t = 0; t < kTaps; ++t) {
      weight[t] =
          tap_weight(kernel, static_cast<float>(kTapX[t]) - tx, static_cast<float>(kTapY[t]) - ty);
      weight_sum += weight[t];
    }
    for (int c = 0; c < in.channels; ++c) {
      const float* plane = in.plane(c);
      float sum = 0.0f;
      for (int t = 0; t < kTaps; ++t) sum += weight[t] * plane[at[t]];
      // Dering: stay within the four nearest input pixels.
      const float low = std::min({plane[at[kF]], plane[at[kG]], plane[at[kJ]], plane[at[kK]]});
      const float high = std::max({plane[at[kF]], plane[at[kG]], plane[at[kJ]], plane[at[kK]]});
      out.at(c, y, x) = std::min(high, std::max(low, sum / weight_sum));
    }
  }
}

// ---- RCAS --------------------------------------------------------------------------------------

// Keeps the sharpened pixel inside [0, 1]: at most -1/4 + 1/16 (FSR_RCAS_LIMIT).
constexpr float kMaxLobe = 0.25f - 1.0f / 16.0f;
// A limit that does not bind (its divisor is 0: the ring cannot push the output past it).
constexpr float kUnbounded = -std::numeric_limits<float>::infinity();

// The most negative lobe weight one channel allows before the output could leave [0, 1]: the
// ring's minimum bounds it from below, its maximum from above (FSR's hitMin / hitMax).
float channel_lobe(float up, float left, float centre, float right, float down) {
  const float ring_min = std::min({up, left, right, down});
  const float ring_max = std::max({up, left, right, down});
  const float low_divisor = 4.0f * ring_max;
  const float high_divisor = 4.0f * ring_min - 4.0f;
  const float from_low =
      low_divisor != 0.0f ? -std::min(ring_min, centre) / low_divisor : kUnbounded;
  const float from_high =
      high_divisor != 0.0f ? (1.0f - std::max(ring_max, centre)) / high_divisor : kUnbounded;
  return std::max(from_low, from_high);
}

void rcas_row(const Tensor& in, float strength, int y, Tensor& out) {
  const int up_row = std::max(y - 1, 0);
  const int down_row = std::min(y + 1, in.height - 1);
  for (int x = 0; x < in.width; ++x) {
    const int left_x = std::max(x - 1, 0);
    const int right_x = std::min(x + 1, in.width - 1);
    float lobe = kUnbounded;
    for (int c = 0; c < in.channels; ++c) {
      lobe = std::max(lobe, channel_lobe(in.at(c, up_row, x), in.at(c, y, left_x), in.at(c, y, x),
                                         in.at(c, y, right_x), in.at(c, down_row, x)));
    }
    lobe = std::max(-kMaxLobe, std::min(lobe, 0.0f)) * strength;
    const float normaliser = 1.0f / (4.0f * lobe + 1.0f);
    for (int c = 0; c < in.channels; ++c) {
      const float centre = in.at(c, y, x);
      // (lobe * ring + centre) / (4 lobe + 1), written around the centre so a flat
      // neighbourhood returns the centre exactly.
      const float ring = (in.at(c, up_row, x) - centre) + (in.at(c, y, left_x) - centre) +
                         (in.at(c, y, right_x) - centre) + (in.at(c, down_row, x) - centre);
      out.at(c, y, x) = centre + lobe * ring * normaliser;
    }
  }
}

float strength_of(double sharpness) {
  if (!(sharpness >= 0.0) || !std::isfinite(sharpness)) {
    throw Error("fsr1: sharpness must be a number of stops >= 0, got " + std::to_string(sharpness));
  }
  return static_cast<float>(std::exp2(-sharpness));
}

void check_rgb(const Tensor& rgb, const char* what) {
  if (rgb.channels != 3) throw Error(std::string(what) + ": expected 3 colour channels");
  if (rgb.width < 1 || rgb.height < 1) throw Error(std::string(what) + ": empty image");
}

}  // namespace

int fsr1_output_length(int length, double scale) {
  return static_cast<int>(std::ceil(scale * length));
}

Tensor fsr1_easu(const Tensor& rgb, int out_width, int out_height, int threads) {
  check_rgb(rgb, "fsr1_easu");
  if (out_width < 1 || out_height < 1) throw Error("fsr1_easu: empty output size");
  std::vector<float> luma(static_cast<std::size_t>(rgb.width) * rgb.height);
  for (std::size_t i = 0; i < luma.size(); ++i) {
    luma[i] = luma2(rgb.plane(0)[i], rgb.plane(1)[i], rgb.plane(2)[i]);
  }
  Tensor out(3, out_height, out_width);
  for_each_row(out_height, threads, [&](int y) { easu_row(rgb, luma, y, out); });
  return out;
}

Tensor fsr1_rcas(const Tensor& rgb, double sharpness, int threads) {
  check_rgb(rgb, "fsr1_rcas");
  const float strength = strength_of(sharpness);
  Tensor out(3, rgb.height, rgb.width);
  for_each_row(rgb.height, threads, [&](int y) { rcas_row(rgb, strength, y, out); });
  return out;
}

Tensor fsr1_upscale(const Tensor& rgb, double scale, const Fsr1Options& options) {
  if (!(scale > 0.0) || !std::isfinite(scale)) {
    throw Error("fsr1: scale must be a positive number, got " + std::to_string(scale));
  }
  check_rgb(rgb, "fsr1");
  if (options.sharpen) strength_of(options.sharpness);  // reject a bad value before the work
  Tensor upscaled = fsr1_easu(rgb, fsr1_output_length(rgb.width, scale),
                              fsr1_output_length(rgb.height, scale), options.threads);
  if (!options.sharpen) return upscaled;
  return fsr1_rcas(upscaled, options.sharpness, options.threads);
}

}  // namespace quicksr
