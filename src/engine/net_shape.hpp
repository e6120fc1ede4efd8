#pragma once
#include "quicksr/model.hpp"

namespace quicksr::engine {

// What the fp32 and INT8 plans share: the network's scale, output block and channel layout.
struct NetShape {
  Scale scale;
  int block = 2;            // depth-to-space block: the integer scale, or 3 for x1.5
  bool half_scale = false;  // x1.5: the network runs on the input padded to even sizes
  ChannelOrder order = ChannelOrder::kCRD;
  int features = 0;

  static NetShape of(const QuickSRNetConfig& config) {
    NetShape shape;
    shape.scale = config.scale;
    shape.half_scale = !config.scale.is_integer();
    shape.block = shape.half_scale ? 3 : config.scale.numerator;
    shape.order = config.order;
    shape.features = config.features;
    return shape;
  }
};

}  // namespace quicksr::engine
