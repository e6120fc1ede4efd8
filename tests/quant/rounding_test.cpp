// Optimised rounding (PtqOptions::optimize_rounding) against references computed here with the
// float reference runtime: the first conv's rounding is a local minimum of its output error
// (every single-weight flip, scored by direct convolution, is no better), per-channel weights are
// not worse than per-tensor on a net with very uneven channel ranges. (On the shipped Small x2 and
// real images: shipped_model_test.cpp.)
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "quant/int8_error.hpp"
#include "quicksr/quantsim.hpp"
#include "quicksr/reference.hpp"

namespace quicksr {
namespace {

using test_support::int8_error;

// Smooth 8-bit test images (real images are smooth: neighbouring taps see similar values, which
// is what makes the sum of a kernel's rounding errors matter).
std::vector<Tensor> smooth_images(int count, unsigned seed) {
  std::mt19937 engine(seed);
  std::uniform_real_distribution<float> unit(0.0f, 1.0f);
  std::vector<Tensor> images;
  for (int n = 0; n < count; ++n) {
    Tensor x(3, 16, 20);
    for (int c = 0; c < 3; ++c) {
      const float a = unit(engine), fx = unit(engine) * 0.4f, fy = unit(engine) * 0.4f;
      for (int y = 0; y < x.height; ++y) {
        for (int i = 0; i < x.width; ++i) {
          const float v =
              0.5f + 0.35f * std::sin(a * 6.0f + fx * i + fy * y) + 0.05f * (unit(engine) - 0.5f);
          x.at(c, y, i) = std::round(v * 255.0f) / 255.0f;
        }
      }
    }
    images.push_back(x);
  }
  return images;
}

// An identity-initialised net whose first conv has output channel ranges from 0.05 to 3.
QuickSRNet uneven_net(unsigned seed) {
  QuickSRNet net = QuickSRNet::initialized(QuickSRNetConfig::small({2, 1}), seed);
  std::mt19937 engine(seed);
  std::uniform_real_distribution<float> log_gain(std::log(0.05f), std::log(3.0f));
  for (int o = 3; o < net.first.out_channels; ++o) {  // 0..2 keep the identity copy
    const float g = std::exp(log_gain(engine));
    for (int i = 0; i < 27; ++i) net.first.weight[static_cast<std::size_t>(o * 27 + i)] *= g;
  }
  return net;
}

// Variance over the images' pixels of channel o of conv(image) - float conv(image): the output
// error once the bias has absorbed its mean.
double error_variance(const Conv2d& conv, const Conv2d& reference_conv,
                      const std::vector<Tensor>& images, int o) {
  double sum = 0.0, sum_squares = 0.0, count = 0.0;
  for (const Tensor& image : images) {
    const Tensor a = reference::conv2d(image, conv);
    const Tensor b = reference::conv2d(image, reference_conv);
    for (int i = 0; i < a.height * a.width; ++i) {
      const double e = static_cast<double>(a.plane(o)[i]) - b.plane(o)[i];
      sum += e;
      sum_squares += e * e;
      count += 1.0;
    }
  }
  return sum_squares / count - (sum / count) * (sum / count);
}

TEST(OptimizedRoundingTest, FirstConvIsALocalMinimumOfItsOutputError) {
  const QuickSRNet net = uneven_net(11);
  const std::vector<Tensor> images = smooth_images(3, 4);
  quant::PtqOptions options;
  options.optimize_rounding = true;
  const QuantizedQuickSRNet q = quant::post_training_quantize(net, images, options);
  const Conv2d chosen = quant::dequantize_conv(q.first, q.input.scale);
  Conv2d nearest = chosen;
  const int taps = 27;
  int improved_channels = 0;
  for (int o = 0; o < net.first.out_channels; ++o) {
    const float s = q.first.scale_of(o);
    for (int k = 0; k < taps; ++k) {
      const std::size_t i = static_cast<std::size_t>(o * taps + k);
      nearest.weight[i] = s * std::clamp(std::nearbyint(net.first.weight[i] / s), -127.0f, 127.0f);
      // Every weight is the floor or the ceil of w / s.
      EXPECT_LE(std::abs(chosen.weight[i] - net.first.weight[i]), s * 1.0001f);
    }
    const double best = error_variance(chosen, net.first, images, o);
    const double rtn = error_variance(nearest, net.first, images, o);
    EXPECT_LE(best, rtn * (1.0 + 1e-4) + 1e-12) << "channel " << o;
    improved_channels += best < rtn * 0.9;
    // No single flip to the other of floor / ceil does better.
    for (int k = 0; k < taps; ++k) {
      Conv2d flipped = chosen;
      const std::size_t i = static_cast<std::size_t>(o * taps + k);
      const float v = net.first.weight[i] / s;
      const float other = chosen.weight[i] / s > v ? std::floor(v) : std::floor(v) + 1.0f;
      if (other > 127.0f || other < -127.0f) continue;
      flipped.weight[i] = s * other;
      EXPECT_GE(error_variance(flipped, net.first, images, o), best * (1.0 - 1e-4) - 1e-12)
          << "channel " << o << " tap " << k;
    }
  }
  EXPECT_GT(improved_channels, 0) << "rounding-to-nearest was already optimal everywhere";
}

TEST(OptimizedRoundingTest, PerChannelIsNotWorseThanPerTensorOnUnevenChannels) {
  const QuickSRNet net = uneven_net(21);
  const std::vector<Tensor> calibration = smooth_images(4, 5);
  const std::vector<Tensor> held_out = smooth_images(3, 6);
  quant::PtqOptions options;
  options.optimize_rounding = true;
  options.granularity = WeightGranularity::kPerTensor;
  const double per_tensor =
      int8_error(quant::post_training_quantize(net, calibration, options), net, held_out);
  options.granularity = WeightGranularity::kPerChannel;
  const double per_channel =
      int8_error(quant::post_training_quantize(net, calibration, options), net, held_out);
  std::printf("INT8 vs fp32 output MSE: per-tensor %.3g, per-channel %.3g\n", per_tensor,
              per_channel);
  EXPECT_LE(per_channel, per_tensor);
}

}  // namespace
}  // namespace quicksr
