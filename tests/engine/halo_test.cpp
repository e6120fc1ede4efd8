// Engine::halo_rows() is the receptive field of a band of input rows, exactly, for every kind of
// engine: QuickSRNet fp32 and INT8 (x2 and x1.5, the Large anchor), and general graphs fp32 and
// INT8. Checked two ways: against values worked out by hand from the architectures, and by
// perturbing input rows: the band's output rows do not change when every row at least the halo
// away from the band changes (the halo is enough), and they change when only the row at the
// halo's far end changes, above or below (a halo one row shorter would miss a row the band
// reads). Upscaler and the engine's own band loops cut images with this halo.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "quicksr/baselines.hpp"
#include "quicksr/engine.hpp"
#include "quicksr/model.hpp"
#include "quicksr/quant.hpp"
#include "quicksr/quantsim.hpp"
#include "support/random_tensor.hpp"

namespace quicksr {
namespace {

// Rows [begin, end) of every channel of a planar tensor.
std::vector<float> rows_of(const Tensor& t, int begin, int end) {
  std::vector<float> rows;
  for (int c = 0; c < t.channels; ++c) {
    for (int y = begin; y < end; ++y) {
      for (int x = 0; x < t.width; ++x) rows.push_back(t.at(c, y, x));
    }
  }
  return rows;
}

void redraw_row(Tensor& t, int y, std::mt19937& rng) {
  std::uniform_real_distribution<float> unit(0.0f, 1.0f);
  for (int c = 0; c < t.channels; ++c) {
    for (int x = 0; x < t.width; ++x) t.at(c, y, x) = unit(rng);
  }
}

int count_differences(const std::vector<float>& a, const std::vector<float>& b) {
  int differences = 0;
  for (std::size_t i = 0; i < a.size(); ++i) differences += a[i] != b[i];
  return differences;
}

// Runs `engine` on a random image with a band of 4 input rows (starting on an even row, as x1.5
// needs) at least the halo and two rows away from the image's edges, changing rows around it.
void expect_halo_is_the_receptive_field(const Engine& engine, int expected_halo) {
  SCOPED_TRACE(engine.precision() == Precision::kInt8 ? "int8" : "fp32");
  const int halo = engine.halo_rows();
  EXPECT_EQ(halo, expected_halo);
  const int begin = (halo + 3) / 2 * 2;
  const int end = begin + 4;
  const int height = end + halo + 2;
  const Tensor input = test_support::random_tensor(3, height, 32, 5);
  const int out_begin = engine.output_height(begin);
  const int out_end = engine.output_height(end);
  const std::vector<float> band = rows_of(engine.run(input), out_begin, out_end);
  std::mt19937 rng(17);

  Tensor far = input;  // every row outside the band and its halo
  for (int y = 0; y < height; ++y) {
    if (y < begin - halo || y >= end + halo) redraw_row(far, y, rng);
  }
  EXPECT_EQ(rows_of(engine.run(far), out_begin, out_end), band) << "the halo is too short";

  for (const int y : {begin - halo, end + halo - 1}) {
    Tensor edge = input;
    redraw_row(edge, y, rng);
    EXPECT_GT(count_differences(rows_of(engine.run(edge), out_begin, out_end), band), 0)
        << "input row " << y << " (band " << begin << ".." << end << ", halo " << halo
        << ") does not reach the band: the halo is too long";
  }
}

// Random weights are PyTorch's default uniform draw, whose variance lets a change fade by ~1/3 per
// conv; scaled by sqrt(6) to He's variance, a change of one row still reaches the output through
// the 13 convs of Large, and through INT8 rounding.
void scale_to_he_variance(Conv2d& conv) {
  for (float& w : conv.weight) w *= 2.449f;
}

// No identity init, so that every tap of every kernel is random.
QuickSRNet he_scaled_net(const QuickSRNetConfig& config) {
  QuickSRNet net = QuickSRNet::initialized(config, 3, QuickSRNet::Initialization::kDefault);
  scale_to_he_variance(net.first);
  for (Conv2d& conv : net.body) scale_to_he_variance(conv);
  scale_to_he_variance(net.last);
  return net;
}

QuantizedQuickSRNet int8_of(const QuickSRNet& net) {
  ActivationEncodings encodings;
  encodings.features.assign(static_cast<std::size_t>(net.config.blocks) + 1,
                            quant::encoding_from_range(0.0f, 1.0f));
  encodings.output = quant::encoding_from_range(0.0f, 1.0f);
  return quant::quantize_weights(net, encodings, WeightGranularity::kPerChannel);
}

struct QuickSRNetCase {
  const char* preset;
  const char* scale;
  int halo;
};

// One row per 3x3 conv: Small (f32-m2) has first + 2 body + last, Medium (m5) 7, Large (m11)
// 13 (its integer-scale anchor is 1x1). x1.5 has no last 3x3 conv (a 1x1 on row pairs) and the
// Large anchor (3x3, stride 2) reads one row above a pair, within the first conv's reach.
const QuickSRNetCase kQuickSRNetCases[] = {
    {"small", "2", 4},   {"medium", "2", 7},   {"large", "2", 13},
    {"small", "1.5", 3}, {"medium", "1.5", 6}, {"large", "1.5", 12},
};

TEST(EngineHalo, QuickSRNetFp32IsItsReceptiveField) {
  for (const QuickSRNetCase& c : kQuickSRNetCases) {
    SCOPED_TRACE(std::string(c.preset) + " x" + c.scale);
    const QuickSRNet net = he_scaled_net(QuickSRNetConfig::preset(c.preset, Scale::parse(c.scale)));
    expect_halo_is_the_receptive_field(Engine::create(net, {.threads = 2}), c.halo);
  }
}

TEST(EngineHalo, QuickSRNetInt8IsItsReceptiveField) {
  for (const QuickSRNetCase& c : kQuickSRNetCases) {
    SCOPED_TRACE(std::string(c.preset) + " x" + c.scale);
    const QuickSRNet net = he_scaled_net(QuickSRNetConfig::preset(c.preset, Scale::parse(c.scale)));
    expect_halo_is_the_receptive_field(Engine::create(int8_of(net), {.threads = 2}), c.halo);
  }
}

struct GraphCase {
  const char* name;
  int scale;
  int halo;
};

// SESR-M5: a 5x5 conv, five 3x3 blocks and a 5x5 conv (residual adds reach no row): 2 + 5 + 2.
// FSRCNN x2: a 5x5 conv, 1x1 shrink, four 3x3 maps, 1x1 expand, then the 9x9 transposed conv of
// stride 2 (padding 4), whose output row 2Y reads input rows Y - 2..Y + 2 through kernel rows 8,
// 6, ..., 0: 2 + 4 + 2. (At x3 it reads Y - 1..Y + 2 for row 3Y and Y..Y + 2 for row 3Y + 2: one
// row less above than the phase conv's 5x5 kernel spans, so not tight above.) ABPN x2, a chain
// on the band pipeline: seven 3x3 convs. EDSR-baseline x2: the head, 16 blocks of two and the
// body's last 3x3 conv, the upsampler's 3x3 conv (34 + 1), then the depth-to-space and the tail's
// 3x3 conv at twice the input's rows: output rows 2b..2e of an input band b..e read upsampler
// rows b - 1..e + 1, one more (36; the mean shifts are 1x1).
const GraphCase kGraphCases[] = {
    {"sesr-m5", 2, 9}, {"fsrcnn", 2, 8}, {"abpn", 2, 7}, {"edsr-baseline", 2, 36}};

TEST(EngineHalo, GeneralGraphsFp32AndInt8AreTheirReceptiveField) {
  for (const GraphCase& c : kGraphCases) {
    SCOPED_TRACE(std::string(c.name) + " x" + std::to_string(c.scale));
    Graph graph = build_baseline(c.name, {.scale = Scale{c.scale, 1}, .seed = 4});
    for (Conv2d& conv : graph.convs) scale_to_he_variance(conv);
    expect_halo_is_the_receptive_field(Engine::create(graph, {.threads = 2}), c.halo);
    const std::vector<Tensor> calibration = {test_support::random_tensor(3, 14, 11, 1)};
    const QuantizedGraph int8 = quant::post_training_quantize(graph, calibration, {});
    expect_halo_is_the_receptive_field(Engine::create(int8, {.threads = 2}), c.halo);
  }
}

// ERFDN has no band halo: its ESA pools on a grid of 6 rows from the image's top and resizes the
// pooled map back by a ratio the height sets, so every output row depends on the image's size
// (one row more changes row 0). halo_rows() is 0, which makes Upscaler run it whole.
TEST(EngineHalo, ErfdnHasNoBandHalo) {
  const Graph graph = build_baseline("erfdn", {.scale = Scale{2, 1}, .seed = 4});
  const Engine engine = Engine::create(graph, {.threads = 2});
  EXPECT_EQ(engine.halo_rows(), 0);
  const Tensor input = test_support::random_tensor(3, 41, 20, 5);
  Tensor shorter(3, 40, 20);
  for (int c = 0; c < 3; ++c) {
    for (int y = 0; y < 40; ++y) {
      for (int x = 0; x < 20; ++x) shorter.at(c, y, x) = input.at(c, y, x);
    }
  }
  EXPECT_GT(count_differences(rows_of(engine.run(input), 0, 2), rows_of(engine.run(shorter), 0, 2)),
            0);
}

}  // namespace
}  // namespace quicksr
