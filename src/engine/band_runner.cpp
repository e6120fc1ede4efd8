#include "engine/band_runner.hpp"

#include <algorithm>
#include <cstdint>
#include <numeric>

#include "common/samples.hpp"

namespace quicksr::engine {

namespace {

// Columns each layer computes beyond the next one's on each side. A Winograd tile's outputs
// depend on all 6 of its inputs, so an output column reads up to one tile (4 columns) beyond its
// own 3x3 window; with this halo every output the next layer keeps is computed from exactly the
// same values whatever the strip, which keeps the output bit-identical across strip widths.
constexpr int kColumnHaloPerLayer = kWinogradTile;

// Winograd tiles are computed in whole vectors of tiles, i.e. on multiples of this many columns;
// a multiple of the direct conv's pixel block too.
int tile_block_columns_for(const F32Kernels& kernels) {
  return std::lcm(kWinogradTile * kernels.winograd->tile_block, kernels.direct->pixel_block);
}

int left_margin_for(const Plan& plan, int tile_block_columns) {
  return round_up(kColumnHaloPerLayer * plan.conv_count(), tile_block_columns) + tile_block_columns;
}

}  // namespace

struct BandRunner::Geometry : BandGeometry {
  int tile_block_columns = 0;
  // The Winograd tiles [tile_begin, tile_end) layer `layer` computes.
  int tile_begin(int layer) const {
    return round_down(needed_begin(layer), tile_block_columns) / kWinogradTile;
  }
  int tile_end(int layer) const {
    return round_up(needed_end(layer), tile_block_columns) / kWinogradTile;
  }
};

BandRunner::Layout::Layout(const Plan& plan, const F32Kernels& kernels, int max_strip_width) {
  const int block_columns = tile_block_columns_for(kernels);
  // Room for the widest halo on both sides, the tile-block rounding and the transform's one-tile
  // overread, in whole blocks so that planes of tiles stay whole vectors.
  stride =
      static_cast<std::size_t>(round_up(left_margin_for(plan, block_columns) + max_strip_width +
                                            kColumnHaloPerLayer * plan.conv_count(),
                                        block_columns) +
                               block_columns);
  tile_stride = stride / kWinogradTile;
  const std::size_t max_channels = plan.max_channels();
  ring_row_sizes.push_back(3 * stride);
  for (int layer = 0; layer < plan.conv_count(); ++layer) {
    const std::size_t channels = plan.convs[layer].padded_out_channels;
    const bool last = layer + 1 == plan.conv_count();
    ring_row_sizes.push_back(last ? channels * stride : kWinogradPoints * channels * tile_stride);
  }
  for (std::size_t size : ring_row_sizes) {
    ring_offsets.push_back(total);
    total += 3 * size;
  }
  zero_row = total;
  total += *std::max_element(ring_row_sizes.begin(), ring_row_sizes.end());
  spatial = total;
  total += max_channels * stride;
  phases = total;
  total += max_channels * stride;
  products = total;
  total += kWinogradPoints * max_channels * kernels.winograd->chunk_tiles;
}

std::size_t BandRunner::workspace_bytes(const Plan& plan, const F32Kernels& kernels,
                                        int max_strip_width) {
  return Layout(plan, kernels, max_strip_width).total * sizeof(float);
}

BandRunner::BandRunner(const Plan& plan, const F32Kernels& kernels, int max_strip_width)
    : plan_(plan),
      kernels_(kernels),
      layout_(plan, kernels, max_strip_width),
      tile_block_columns_(tile_block_columns_for(kernels)),
      left_margin_(left_margin_for(plan, tile_block_columns_)),
      buffer_(layout_.total) {}

float* BandRunner::ring_row(int layer, int y) const {
  return buffer_.get() + layout_.ring_offsets[layer + 1] +
         ring_slot(y) * layout_.ring_row_sizes[layer + 1];
}

// Rows outside the image are the convolution's zero padding.
const float* BandRunner::conv_input_row(int layer, int y, int net_height) const {
  if (y < 0 || y >= net_height) return buffer_.get() + layout_.zero_row;
  return ring_row(layer, y);
}

void BandRunner::zero_outside_image(const Geometry& g, float* row, int channels) const {
  const int left_end = std::clamp(-g.column_origin, 0, static_cast<int>(layout_.stride));
  const int right_begin =
      std::clamp(g.net_width - g.column_origin, 0, static_cast<int>(layout_.stride));
  for (int c = 0; c < channels; ++c) {
    float* channel = row + c * layout_.stride;
    std::fill(channel, channel + left_end, 0.0f);
    std::fill(channel + right_begin, channel + layout_.stride, 0.0f);
  }
}

// The same for a phase-split row: column x is tile x / 4 of phase x % 4.
void BandRunner::zero_outside_image_phases(const Geometry& g, float* row, int channels) const {
  const int tiles = static_cast<int>(layout_.tile_stride);
  for (int c = 0; c < channels; ++c) {
    for (int j = 0; j < kWinogradTile; ++j) {
      float* phase = row + c * layout_.stride + j * layout_.tile_stride;
      // Tiles whose phase-j column 4t + j lies left of column 0 / at or right of net_width.
      const int left_end =
          std::clamp(round_up(-g.column_origin - j, kWinogradTile) / kWinogradTile, 0, tiles);
      const int right_begin = std::clamp(
          round_up(g.net_width - g.column_origin - j, kWinogradTile) / kWinogradTile, 0, tiles);
      std::fill(phase, phase + left_end, 0.0f);
      std::fill(phase + right_begin, phase + tiles, 0.0f);
    }
  }
}

// Row-planar <-> phase-split copies of the tiles [tile_begin, tile_end).
void BandRunner::split_phases(const float* row, float* phases, int channels, int tile_begin,
                              int tile_end) const {
  for (int c = 0; c < channels; ++c) {
    const float* columns = row + c * layout_.stride;
    float* channel = phases + c * layout_.stride;
    for (int t = tile_begin; t < tile_end; ++t) {
      for (int j = 0; j < kWinogradTile; ++j) {
        channel[j * layout_.tile_stride + t] = columns[kWinogradTile * t + j];
      }
    }
  }
}

void BandRunner::merge_phases(const float* phases, float* row, int channels, int tile_begin,
                              int tile_end) const {
  for (int c = 0; c < channels; ++c) {
    const float* channel = phases + c * layout_.stride;
    float* columns = row + c * layout_.stride;
    for (int t = tile_begin; t < tile_end; ++t) {
      for (int j = 0; j < kWinogradTile; ++j) {
        columns[kWinogradTile * t + j] = channel[j * layout_.tile_stride + t];
      }
    }
  }
}

template <typename Sample>
void BandRunner::load_input_row(const RgbView<const Sample>& input, const Geometry& g, int y) {
  float* row = ring_row(-1, y);
  const int source_y = std::min(y, input.height - 1);
  for (int c = 0; c < 3; ++c) {
    float* channel = row + c * layout_.stride - g.column_origin;
    for (int x = g.needed_begin(-1) + g.column_origin; x < g.needed_end(-1) + g.column_origin;
         ++x) {
      channel[x] = unit_of(input.at(source_y, std::min(x, input.width - 1), c));
    }
  }
  zero_outside_image(g, row, 3);
}

// The last conv's ring holds its rows row-planar for the tail; the ring of every other conv
// holds them transformed, zero outside the image, for the next (Winograd) conv's tiles. Only the
// first conv runs directly (see Plan::convs), so a direct conv reads the row-planar input ring.
void BandRunner::compute_conv_row(const Geometry& g, int layer, int y) {
  const PackedConv3x3& conv = plan_.convs[layer];
  const bool last = layer + 1 == g.layers;
  float* phases = buffer_.get() + layout_.phases;
  if (conv.algorithm == ConvAlgorithm::kDirect) {
    float* spatial = last ? ring_row(layer, y) : buffer_.get() + layout_.spatial;
    const auto [col_begin, col_end] = run_direct_conv(g, layer, y, spatial);
    if (last) return;
    split_phases(spatial, phases, conv.padded_out_channels, col_begin / kWinogradTile,
                 col_end / kWinogradTile);
  } else {
    run_winograd_conv(g, layer, y, phases);
    if (last) {
      merge_phases(phases, ring_row(layer, y), conv.padded_out_channels, g.tile_begin(layer),
                   g.tile_end(layer));
      return;
    }
  }
  zero_outside_image_phases(g, phases, conv.padded_out_channels);
  F32WinogradInputArgs args{};
  args.in = phases;
  args.out = ring_row(layer, y);
  args.tile_stride = layout_.tile_stride;
  args.channels = plan_.convs[layer + 1].in_channels;
  args.tile_begin = g.tile_begin(layer + 1);
  args.tile_count = g.tile_end(layer + 1) - args.tile_begin;
  kernels_.winograd->input(args);
}

// Returns the buffer columns [begin, end) it computed.
std::pair<int, int> BandRunner::run_direct_conv(const Geometry& g, int layer, int y,
                                                float* out) const {
  const PackedConv3x3& conv = plan_.convs[layer];
  const float* rows[3];
  for (int k = 0; k < 3; ++k) rows[k] = conv_input_row(layer - 1, y - 1 + k, g.net_height);
  const int block = kernels_.direct->pixel_block;
  const int begin = round_down(g.needed_begin(layer), block);
  const int end = round_up(g.needed_end(layer), block);
  // Output column x reads input columns x - 1 + kx: the kernel's output pointer and first column
  // move by one instead of the input rows, so that no pointer leaves the workspace.
  F32ConvArgs args{};
  args.rows = rows;
  args.in_stride = layout_.stride;
  args.in_channels = conv.in_channels;
  args.kernel_h = 3;
  args.kernel_w = 3;
  args.weights = conv.weights.data();
  args.bias = conv.bias.data();
  args.out_channels = conv.padded_out_channels;
  args.out = out + 1;
  args.out_stride = layout_.stride;
  args.col_begin = begin - 1;
  args.col_count = end - begin;
  args.clamp = conv.clamp;
  args.clamp_max = conv.clamp_max;
  kernels_.direct->run(args);
  return {begin, end};
}

void BandRunner::run_winograd_conv(const Geometry& g, int layer, int y, float* phases) const {
  const PackedConv3x3& conv = plan_.convs[layer];
  F32WinogradConvArgs args{};
  for (int k = 0; k < 3; ++k) args.rows[k] = conv_input_row(layer - 1, y - 1 + k, g.net_height);
  args.tile_stride = layout_.tile_stride;
  args.in_channels = conv.in_channels;
  args.weights = conv.weights.data();
  args.bias = conv.bias.data();
  args.out_channels = conv.padded_out_channels;
  args.out = phases;
  args.tile_begin = g.tile_begin(layer);
  args.tile_count = g.tile_end(layer) - args.tile_begin;
  args.clamp = conv.clamp;
  args.clamp_max = conv.clamp_max;
  args.scratch = buffer_.get() + layout_.products;
  kernels_.winograd->conv(args);
}

// The tail kernel turns row y of the last conv's output (rows y-1 and y for x1.5, y odd) into
// output pixels.
template <typename Sample>
void BandRunner::finish_row(const RgbView<const Sample>& input, const RgbView<Sample>& output,
                            const Geometry& g, int y) const {
  const Conv2d* anchor = plan_.anchor ? &*plan_.anchor : nullptr;
  if (!plan_.half_scale) {
    F32DepthToSpaceArgs<Sample> args{};
    args.values = ring_row(g.layers - 1, y) - g.column_origin;
    args.stride = layout_.stride;
    args.block = plan_.block;
    args.order = plan_.order;
    args.anchor = anchor;
    args.input = input;
    args.net_width = g.net_width;
    args.net_height = g.net_height;
    args.output = output;
    args.y = y;
    args.col_begin = g.region.col_begin;
    args.col_end = g.region.col_end;
    kernels_.tail->fns<Sample>().depth_to_space(args);
    return;
  }
  F32HalfScaleTailArgs<Sample> args{};
  args.rows[0] = ring_row(g.layers - 1, y - 1) - g.column_origin;
  args.rows[1] = ring_row(g.layers - 1, y) - g.column_origin;
  args.stride = layout_.stride;
  args.features = plan_.features;
  args.order = plan_.order;
  args.weights = plan_.tail.weights.data();
  args.bias = plan_.tail.bias.data();
  args.anchor = anchor;
  args.input = input;
  args.net_width = g.net_width;
  args.net_height = g.net_height;
  args.output = output;
  args.y = y;
  args.col_begin = g.region.col_begin;
  args.col_end = g.region.col_end;
  kernels_.tail->fns<Sample>().half_scale(args);
}

template <typename Sample>
void BandRunner::run(const RgbView<const Sample>& input, const RgbView<Sample>& output,
                     const Region& region) {
  const Geometry g{{region, plan_.net_size(input.width), plan_.net_size(input.height),
                    region.col_begin - left_margin_, plan_.conv_count(), kColumnHaloPerLayer},
                   tile_block_columns_};
  run_band(
      g, plan_.half_scale, [&](int y) { load_input_row(input, g, y); },
      [&](int layer, int y) { compute_conv_row(g, layer, y); },
      [&](int y) { finish_row(input, output, g, y); });
}

template void BandRunner::run(const RgbView<const float>&, const RgbView<float>&, const Region&);
template void BandRunner::run(const RgbView<const std::uint8_t>&, const RgbView<std::uint8_t>&,
                              const Region&);

}  // namespace quicksr::engine
