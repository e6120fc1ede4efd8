#pragma once
// A QuickSRNet rearranged for the engine: 3x3 convs with kernel-ready packed weights, then the
// tail that turns the last feature rows into output pixels (clip, depth-to-space, anchor).
#include <cstddef>
#include <optional>
#include <vector>

#include "engine/kernels/kernels.hpp"
#include "engine/net_shape.hpp"
#include "quicksr/model.hpp"

namespace quicksr::engine {

// How a 3x3 conv runs: directly (f32-conv3x3 kernels, row-planar input) or as Winograd F(4,3)
// along x (f32-winograd-f43 kernels, transformed input; see kernels.hpp).
enum class ConvAlgorithm { kDirect, kWinogradF43 };

struct PackedConv3x3 {
  ConvAlgorithm algorithm = ConvAlgorithm::kDirect;
  int in_channels = 0;
  int out_channels = 0;         // real count
  int padded_out_channels = 0;  // rounded up to the kernel's channel_group
  bool clamp = false;           // the activation after the bias: clamp to [0, clamp_max]
  float clamp_max = 1.0f;       // 1 for ReLU1, +infinity for ReLU
  std::vector<float> weights;   // packed by the kernel config's pack function
  std::vector<float> bias;      // padded_out_channels values
};

// For x1.5 only: space-to-depth(2), Conv1x1(4f -> 27), transposed so that the 27 outputs are
// the contiguous (vectorisable) axis.
struct PackedTail1x1 {
  int in_channels = 0;         // 4f
  std::vector<float> weights;  // [in_channel][kHalfScalePaddedOutputs]
  std::vector<float> bias;     // kHalfScalePaddedOutputs
};

struct Plan : NetShape {
  // first, body..., and for integer scales last (raw, no clamp: clip comes after the anchor).
  // The first runs directly (3 input channels: Winograd would save little and its transforms
  // cost per input channel), all others as Winograd F(4,3).
  std::vector<PackedConv3x3> convs;
  PackedTail1x1 tail;            // x1.5 only
  std::optional<Conv2d> anchor;  // the input-to-output residual conv, when the net has one

  int conv_count() const { return static_cast<int>(convs.size()); }
  // Network-input size: x1.5 edge-replicates odd sizes to even.
  int net_size(int size) const { return half_scale ? size + (size & 1) : size; }
  int output_size(int size) const { return half_scale ? size * 3 / 2 : size * scale.numerator; }
  std::size_t max_channels() const;
};

// Packs an OIHW 3x3 stride-1 conv for a direct or a Winograd kernel config.
PackedConv3x3 pack_conv3x3(const Conv2d& conv, bool clamp, const F32ConvConfig& config);
PackedConv3x3 pack_conv3x3(const Conv2d& conv, bool clamp, const F32WinogradConfig& config);

// Packs `net` for the kernels chosen for one ISA (their tiles set the padding and weight layout).
// Throws quicksr::Error when `net` fails QuickSRNet::check().
Plan make_plan(const QuickSRNet& net, const F32Kernels& kernels);

// A general graph that is a QuickSRNet-like chain (chain_plan.cpp: 3x3 convs with clamp
// activations, an optional anchor of the input repeated s^2 times, depth-to-space and a clip to
// [0, 1], e.g. ABPN) packed for the band pipeline; nothing for any other graph.
std::optional<Plan> make_chain_plan(const Graph& graph, const F32Kernels& kernels);

}  // namespace quicksr::engine
