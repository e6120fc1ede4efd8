#include "model/layout.hpp"

#include <cmath>

#include "quicksr/error.hpp"

namespace quicksr {

Conv2d conv_geometry(int in_channels, int out_channels, int kernel, int groups) {
  Conv2d conv;
  conv.in_channels = in_channels;
  conv.out_channels = out_channels;
  conv.kernel_h = kernel;
  conv.kernel_w = kernel;
  conv.stride = 1;
  conv.pad_top = conv.pad_left = kernel / 2;
  conv.pad_bottom = conv.pad_right = (kernel - 1) / 2;
  conv.groups = groups;
  return conv;
}

std::size_t weight_count(const Conv2d& conv) {
  return static_cast<std::size_t>(conv.out_channels) * (conv.in_channels / conv.groups) *
         conv.kernel_h * conv.kernel_w;
}

std::vector<std::int64_t> weight_shape(const Conv2d& conv) {
  if (conv.transposed) {
    return {conv.in_channels, conv.out_channels / conv.groups, conv.kernel_h, conv.kernel_w};
  }
  return {conv.out_channels, conv.in_channels / conv.groups, conv.kernel_h, conv.kernel_w};
}

double uniform_unit(std::mt19937_64& engine) {
  return static_cast<double>(engine() >> 11) * 0x1.0p-53;  // [0, 1)
}

void fill_uniform(Conv2d& conv, std::mt19937_64& engine) {
  // PyTorch's fan_in is weight.size(1) * kh * kw: out / groups for a transposed conv.
  const double fan_in = static_cast<double>(weight_shape(conv)[1]) * conv.kernel_h * conv.kernel_w;
  const double bound = 1.0 / std::sqrt(fan_in);
  const auto draw = [&] { return static_cast<float>(-bound + 2.0 * bound * uniform_unit(engine)); };
  for (float& value : conv.weight) value = draw();
  for (float& value : conv.bias) value = draw();
}

void allocate_zero_weights(Conv2d& conv) {
  conv.weight.assign(weight_count(conv), 0.0f);
  conv.bias.assign(static_cast<std::size_t>(conv.out_channels), 0.0f);
}

void check_quicksrnet_config(const QuickSRNetConfig& config) {
  // At least 3 features: the identity init carries RGB through the body.
  if (config.features < kMinFeatures || config.features > kMaxFeatures) {
    throw Error("QuickSRNet features " + std::to_string(config.features) + " outside " +
                std::to_string(kMinFeatures) + ".." + std::to_string(kMaxFeatures));
  }
  if (config.blocks < 0 || config.blocks > kMaxBlocks) {
    throw Error("QuickSRNet blocks " + std::to_string(config.blocks) + " outside 0.." +
                std::to_string(kMaxBlocks));
  }
  const Scale scale = config.scale;
  const bool supported =
      scale == Scale{2, 1} || scale == Scale{3, 1} || scale == Scale{4, 1} || scale == Scale{3, 2};
  if (!supported) {
    throw Error("QuickSRNet scale " + scale.to_string() + " unsupported (expected 2, 3, 4 or 1.5)");
  }
}

QuickSRNet quicksrnet_geometry(const QuickSRNetConfig& config) {
  check_quicksrnet_config(config);
  QuickSRNet net;
  net.config = config;
  const int f = config.features;
  net.first = conv_geometry(3, f, 3);
  net.body.assign(static_cast<std::size_t>(config.blocks), conv_geometry(f, f, 3));
  if (config.scale.is_integer()) {
    const int s = config.scale.numerator;
    net.last = conv_geometry(f, 3 * s * s, 3);
    if (config.anchor) net.anchor.push_back(conv_geometry(3, 3 * s * s, 1));
  } else {
    net.last = conv_geometry(4 * f, 27, 1);
    if (config.anchor) {
      Conv2d anchor = conv_geometry(3, 27, 3);
      anchor.stride = 2;
      net.anchor.push_back(anchor);
    }
  }
  return net;
}

int block_channel(int c, int dy, int dx, int block, int colours, ChannelOrder order) {
  const int sub_pixel = dy * block + dx;
  return order == ChannelOrder::kCRD ? c * block * block + sub_pixel : sub_pixel * colours + c;
}

namespace {

template <typename Net, typename ConvPointer>
std::vector<std::pair<std::string, ConvPointer>> collect_named_convs(Net& net) {
  std::vector<std::pair<std::string, ConvPointer>> convs;
  convs.emplace_back("first", &net.first);
  for (std::size_t i = 0; i < net.body.size(); ++i) {
    convs.emplace_back("body." + std::to_string(i), &net.body[i]);
  }
  convs.emplace_back("last", &net.last);
  for (auto& anchor : net.anchor) convs.emplace_back("anchor", &anchor);
  return convs;
}

}  // namespace

std::vector<std::pair<std::string, const Conv2d*>> named_convs(const QuickSRNet& net) {
  return collect_named_convs<const QuickSRNet, const Conv2d*>(net);
}

std::vector<std::pair<std::string, Conv2d*>> named_convs(QuickSRNet& net) {
  return collect_named_convs<QuickSRNet, Conv2d*>(net);
}

std::vector<std::pair<std::string, const QConv2d*>> named_convs(const QuantizedQuickSRNet& net) {
  return collect_named_convs<const QuantizedQuickSRNet, const QConv2d*>(net);
}

std::vector<std::pair<std::string, QConv2d*>> named_convs(QuantizedQuickSRNet& net) {
  return collect_named_convs<QuantizedQuickSRNet, QConv2d*>(net);
}

QuantizedQuickSRNet quantized_geometry(const QuickSRNetConfig& config) {
  const QuickSRNet net = quicksrnet_geometry(config);
  QuantizedQuickSRNet q;
  q.config = config;
  q.first = with_geometry_of<QConv2d>(net.first);
  for (const Conv2d& conv : net.body) q.body.push_back(with_geometry_of<QConv2d>(conv));
  q.last = with_geometry_of<QConv2d>(net.last);
  for (const Conv2d& conv : net.anchor) q.anchor.push_back(with_geometry_of<QConv2d>(conv));
  q.features.resize(net.body.size() + 1);
  return q;
}

}  // namespace quicksr
