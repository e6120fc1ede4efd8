// The INT8 engine on INT8 graphs (`quicksr quantize` of a baseline) against the integer
// reference runtime (quant::forward(QuantizedGraph)): bit-identical u8 output for ABPN with and
// without its residual (band pipeline) and XLSR, ESPCN, SESR (general-graph path) at x2, x3
// and x4, random weights quantized by the graph PTQ per channel and per tensor, odd sizes, every
// ISA this CPU has, 1 and 2 threads, strips; FSRCNN too (its transposed conv as phase convs);
// EDSR-baseline (depth-to-space inside the graph); ERFDN (ESA's strided conv, max pool, bilinear
// resize and mul, concats inside channel words); other graphs are refused naming the node.
// Thread counts and bands run in full on the most capable level, once on each other (engine_runs).
#include <gtest/gtest.h>

#include <iostream>
#include <string>
#include <utility>
#include <vector>

#include "engine_test_support.hpp"
#include "qu8_test_support.hpp"
#include "quicksr/baselines.hpp"
#include "quicksr/engine.hpp"
#include "quicksr/error.hpp"
#include "quicksr/quant.hpp"
#include "quicksr/quantsim.hpp"
#include "support/random_tensor.hpp"
#include "support/sanitizer.hpp"

namespace quicksr {
namespace {

// `name` at x`scale` with random weights, quantized by the graph PTQ on two random images.
QuantizedGraph quantized_baseline(const std::string& name, int scale,
                                  WeightGranularity granularity) {
  const Graph graph = build_baseline(name, {.scale = Scale{scale, 1}, .seed = 7});
  const std::vector<Tensor> calibration = {test_support::random_tensor(3, 14, 11, 1),
                                           test_support::random_tensor(3, 9, 16, 2)};
  quant::PtqOptions options;
  options.granularity = granularity;
  return quant::post_training_quantize(graph, calibration, options);
}

void expect_matches_reference(const QuantizedGraph& net, int width, int height, int strip_width) {
  const U8Tensor input = random_u8_image(width, height, width * 100 + height);
  const U8Tensor expected = quant::forward(net, input);
  for (const EngineRun& run : engine_runs(isas_to_test(), {1, 2})) {
    const Engine engine = make_engine(net, run.isa, run.threads, strip_width);
    SCOPED_TRACE(net.graph.architecture + " x" + net.graph.scale.to_string() + " " +
                 std::to_string(width) + "x" + std::to_string(height) + " " +
                 engine.kernel_names() + " threads " + std::to_string(run.threads) + " strip " +
                 std::to_string(strip_width));
    expect_identical(run_u8(engine, input), expected);
  }
}

TEST(Int8GraphEngine, AbpnMatchesIntegerReference) {
  for (const char* name : {"abpn", "abpn-noresidual"}) {
    for (int scale : {2, 3, 4}) {
      const QuantizedGraph net = quantized_baseline(name, scale, WeightGranularity::kPerChannel);
      ASSERT_FALSE(int8_graph_unsupported_reason(net).has_value()) << name;
      expect_matches_reference(net, 1, 1, 1024);
      expect_matches_reference(net, 37, 9, 1024);
    }
  }
}

// The residual's add has its own encodings (the last conv's output and the concat of the input
// are u8 tensors with zero points): per-tensor weights, strips of 32 columns.
TEST(Int8GraphEngine, AbpnPerTensorInStripsMatchesIntegerReference) {
  for (const char* name : {"abpn", "abpn-noresidual"}) {
    const QuantizedGraph net = quantized_baseline(name, 2, WeightGranularity::kPerTensor);
    expect_matches_reference(net, 75, 7, 32);
  }
}

// The float interface quantizes the input and dequantizes the output as the reference does.
TEST(Int8GraphEngine, FloatRunMatchesFloatReference) {
  const QuantizedGraph net = quantized_baseline("abpn", 2, WeightGranularity::kPerChannel);
  const Tensor input = test_support::random_tensor(3, 5, 13, 3);
  const Tensor expected = quant::forward(net, input);
  const Tensor got = Engine::create(net, {.threads = 2}).run(input);
  EXPECT_EQ(got.data, expected.data);
}

// The general-graph path: grouped 3x3, 1x1, concat, the fused clip (XLSR); 5x5 convs run on
// shifted copies and Tanh tables on conv rows (ESPCN); residual adds (SESR, collapsed); the 9x9
// transposed conv as phase convs (FSRCNN: 5x5 at x2 and x3, 3x3 at x4).
TEST(Int8GraphEngine, GeneralGraphsMatchIntegerReference) {
  for (const char* name : {"xlsr", "espcn", "sesr-m3", "fsrcnn"}) {
    for (int scale : {2, 3, 4}) {
      const QuantizedGraph net = quantized_baseline(name, scale, WeightGranularity::kPerChannel);
      ASSERT_FALSE(int8_graph_unsupported_reason(net).has_value())
          << *int8_graph_unsupported_reason(net);
      expect_matches_reference(net, 1, 1, 1024);
      expect_matches_reference(net, 37, 9, 1024);
    }
  }
}

// EDSR-baseline: residual adds, the upsampler's depth-to-space inside the graph (x4: two, with a
// conv between them at twice the input's size), the tail conv and the mean shift back at the
// output's size, whose rows are the output.
// The sanitizers check x2 and x3 here and x4 only in the band test below (whose 40-row bands are
// the whole image); Release every scale in both (CI's 25-minute budget: this test was 15% of the
// sanitized engine_test).
TEST(Int8GraphEngine, EdsrMatchesIntegerReference) {
#ifdef QUICKSR_TEST_ASAN
  for (int scale : {2, 3}) {
#else
  for (int scale : {2, 3, 4}) {
#endif
    const QuantizedGraph net =
        quantized_baseline("edsr-baseline", scale, WeightGranularity::kPerChannel);
    ASSERT_FALSE(int8_graph_unsupported_reason(net).has_value())
        << *int8_graph_unsupported_reason(net);
    expect_matches_reference(net, 1, 1, 1024);
    expect_matches_reference(net, 13, 6, 1024);
  }
  const QuantizedGraph per_tensor =
      quantized_baseline("edsr-baseline", 2, WeightGranularity::kPerTensor);
  expect_matches_reference(per_tensor, 9, 5, 1024);
  const Tensor input = test_support::random_tensor(3, 5, 7, 4);
  const Engine engine = Engine::create(per_tensor, {.threads = 2});
  EXPECT_EQ(engine.path_name(), "general-graph path");
  EXPECT_EQ(engine.run(input).data, quant::forward(per_tensor, input).data);
}

TEST(Int8GraphEngine, GeneralGraphsPerTensorMatchIntegerReference) {
  for (const char* name : {"xlsr", "espcn", "sesr-m5", "sesr-xl", "fsrcnn"}) {
    const QuantizedGraph net = quantized_baseline(name, 2, WeightGranularity::kPerTensor);
    expect_matches_reference(net, 19, 6, 1024);
  }
}

// The float interface on the general-graph path, and its name.
TEST(Int8GraphEngine, GeneralGraphFloatRunMatchesFloatReference) {
  const QuantizedGraph net = quantized_baseline("xlsr", 2, WeightGranularity::kPerChannel);
  const Tensor input = test_support::random_tensor(3, 7, 11, 4);
  const Engine engine = Engine::create(net, {.threads = 2});
  EXPECT_EQ(engine.path_name(), "general-graph path");
  EXPECT_EQ(engine.precision(), Precision::kInt8);
  EXPECT_EQ(engine.run(input).data, quant::forward(net, input).data);
}

// Bands of any height (1 row, 2, odd, taller than the image) on the general-graph path: XLSR,
// ESPCN, SESR-M5, FSRCNN and EDSR-baseline (x3, and x4: rows at 2x and 4x the input's after its
// depth-to-spaces) on an odd image size, every ISA this CPU has, 1 and 2 threads, all
// bit-identical to the integer reference.
TEST(Int8GraphEngine, GeneralGraphsInAnyBandHeightMatchIntegerReference) {
  const U8Tensor input = random_u8_image(13, 17, 5);
  for (const auto& [name, scale] : {std::pair{"xlsr", 2},
                                    {"espcn", 3},
                                    {"sesr-m5", 2},
                                    {"fsrcnn", 3},
#ifndef QUICKSR_TEST_ASAN
                                    {"edsr-baseline", 3},
#endif
                                    {"edsr-baseline", 4}}) {
    const QuantizedGraph net = quantized_baseline(name, scale, WeightGranularity::kPerChannel);
    const U8Tensor expected = quant::forward(net, input);
    for (const EngineRun& run : engine_runs(isas_to_test(), {1, 2}, {1, 2, 5, 40})) {
      const Engine engine = Engine::create(
          net, {.threads = run.threads, .graph_band_rows = run.size, .isa = run.isa});
      SCOPED_TRACE(std::string(name) + " x" + std::to_string(scale) + " " + engine.kernel_names() +
                   " threads " + std::to_string(run.threads) + " band rows " +
                   std::to_string(run.size));
      ASSERT_EQ(engine.path_name(), "general-graph path");
      expect_identical(run_u8(engine, input), expected);
    }
  }
}

// The workspace is each thread's rings of rows (and shifted copies): it depends on the width and
// the band height, never on the image height; XLSR x2 at 640 columns, 2 threads, bands of 8 rows:
// under 8 MiB (6.2 MiB measured), where its whole-image tensors took 22.4 MiB at 640x360.
TEST(Int8GraphEngine, GeneralGraphWorkspaceDoesNotGrowWithTheImageHeight) {
  for (const char* name : {"xlsr", "espcn", "sesr-m5", "fsrcnn", "edsr-baseline"}) {
    SCOPED_TRACE(name);
    const QuantizedGraph net = quantized_baseline(name, 2, WeightGranularity::kPerChannel);
    const Engine engine = Engine::create(net, {.threads = 2, .graph_band_rows = 8});
    EXPECT_EQ(engine.workspace_bytes(), 0u);
    EXPECT_EQ(engine.workspace_bytes(640, 360), engine.workspace_bytes(640, 1));
    EXPECT_EQ(engine.workspace_bytes(640, 360), engine.workspace_bytes(640, 100000));
    const Engine thin = Engine::create(net, {.threads = 2, .graph_band_rows = 1});
    EXPECT_LT(thin.workspace_bytes(640, 360), engine.workspace_bytes(640, 360));
    (void)run_u8(engine, random_u8_image(64, 64, 1));
    EXPECT_EQ(engine.workspace_bytes(), engine.workspace_bytes(64, 64));
    if (std::string(name) == "xlsr") {
      EXPECT_LT(engine.workspace_bytes(640, 360), 8u << 20);
    }
  }
}

// ERFDN whose ESA convs are scaled by 4 (`quicksr init`'s uniform draw fades a signal by ~1/3 per
// conv, so a random ERFDN's gates sit at sigmoid(~0) and one u8 level: the attention's rows would
// not show in the output), quantized per channel (or per tensor) on two random images of at least
// 15x15 pixels (ESA's strided conv and pool need them).
QuantizedGraph quantized_erfdn(int scale, WeightGranularity granularity) {
  Graph graph = build_baseline("erfdn", {.scale = Scale{scale, 1}, .seed = 7});
  for (const GraphNode& node : graph.nodes) {
    if (node.op != OpType::kConv || node.name.find("_esa_") == std::string::npos) continue;
    for (float& w : graph.convs[node.conv].weight) w *= 4.0f;
  }
  const std::vector<Tensor> calibration = {test_support::random_tensor(3, 24, 21, 1),
                                           test_support::random_tensor(3, 17, 30, 2)};
  quant::PtqOptions options;
  options.granularity = granularity;
  return quant::post_training_quantize(graph, calibration, options);
}

// ERFDN: ESA's 3x3 stride-2 conv and 7x7 stride-3 max pool without padding, three convs on the
// pooled map, the bilinear resize back (fixed-point taps), the sigmoid table on the 1x1 conv's
// rows and the gate's mul; the blocks' concats of four 25-channel tensors and the tail's of four
// 50-channel ones, whose inputs start inside channel words. Heights and widths where the pooled
// sizes round differently (15: 7 after the strided conv, 1 pooled; 16, 17: 7 and 8, 1; 23: 11, 2;
// 24: 11, 2; 33: 16, 4; 37: 18, 4; 38: 18, 4), every ISA this CPU has, 1 and 2 threads; x3 and x4;
// per tensor; bands of 1, 2, 5 and 40 rows, on 29 rows also 3 threads (which walk the bands
// together, GraphBands::walk_together: shares of 1-2 new rows per step that do not divide).
TEST(Int8GraphEngine, ErfdnMatchesIntegerReference) {
  report_lacking_isas("erfdn");
  const QuantizedGraph net = quantized_erfdn(2, WeightGranularity::kPerChannel);
  ASSERT_FALSE(int8_graph_unsupported_reason(net).has_value())
      << *int8_graph_unsupported_reason(net);
  // The sanitizers check the code on two sizes (the CI's 25-minute budget), Release on seven.
#ifdef QUICKSR_TEST_ASAN
  const std::vector<std::pair<int, int>> sizes{{37, 23}, {23, 38}};
#else
  const std::vector<std::pair<int, int>> sizes{{37, 23}, {15, 15}, {17, 16}, {21, 17},
                                               {19, 24}, {16, 33}, {23, 38}};
#endif
  for (const auto& [width, height] : sizes) expect_matches_reference(net, width, height, 1024);
  for (int scale : {3, 4}) {
    expect_matches_reference(quantized_erfdn(scale, WeightGranularity::kPerChannel), 37, 23, 1024);
  }
  expect_matches_reference(quantized_erfdn(2, WeightGranularity::kPerTensor), 23, 37, 1024);
  const U8Tensor input = random_u8_image(18, 29, 6);
  const U8Tensor expected = quant::forward(net, input);
  for (int threads : {1, 2, 3}) {
    for (int band_rows : {0, 1, 2, 5, 40}) {  // 0: the default, 16 rows for 2 and 3 threads
      const Engine engine = Engine::create(net, {.threads = threads, .graph_band_rows = band_rows});
      SCOPED_TRACE("erfdn x2 18x29 threads " + std::to_string(threads) + " band rows " +
                   std::to_string(band_rows));
      ASSERT_EQ(engine.path_name(), "general-graph path");
      expect_identical(run_u8(engine, input), expected);
    }
  }
}

// ERFDN's rings are sized per height (its resize maps depend on it), bounded over heights
// (measured at 640 columns, 2 threads, the default 16-row bands: 50.80-51.35 MiB from 359 to 4320
// rows and at 100000); no crop gives its whole image's rows, so its halo is 0 (Upscaler runs it
// whole).
TEST(Int8GraphEngine, ErfdnWorkspaceIsBoundedOverHeights) {
  const Engine engine =
      Engine::create(quantized_erfdn(2, WeightGranularity::kPerChannel), {.threads = 2});
  EXPECT_EQ(engine.halo_rows(), 0);
  const std::size_t at_360 = engine.workspace_bytes(640, 360);
  for (const int height : {359, 361, 1080, 100000}) {
    EXPECT_LT(static_cast<double>(engine.workspace_bytes(640, height)), 1.02 * at_360) << height;
  }
  (void)run_u8(engine, random_u8_image(20, 31, 2));
  EXPECT_EQ(engine.workspace_bytes(), engine.workspace_bytes(20, 31));
}

TEST(Int8GraphEngine, RefusesUnsupportedGraphsNamingTheNode) {
  // ERFDN with its strided conv padded (the integer reference runs it; the engine's strided convs
  // take no padding).
  Graph padded = build_baseline("erfdn", {.scale = Scale{2, 1}, .seed = 7});
  for (const GraphNode& node : padded.nodes) {
    if (node.name != "b1_esa_conv2") continue;
    Conv2d& conv = padded.convs[node.conv];
    conv.pad_top = conv.pad_left = conv.pad_bottom = conv.pad_right = 1;
  }
  const QuantizedGraph erfdn =
      quant::post_training_quantize(padded, {test_support::random_tensor(3, 16, 16, 1)}, {});
  const std::optional<std::string> reason = int8_graph_unsupported_reason(erfdn);
  ASSERT_TRUE(reason.has_value());
  EXPECT_NE(reason->find("node 'b1_esa_conv2' (conv) is a conv with stride 2 that is not an "
                         "unpadded 1x1 or 3x3"),
            std::string::npos)
      << *reason;
  try {
    (void)Engine::create(erfdn);
    FAIL() << "a padded strided conv accepted";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find(*reason), std::string::npos) << error.what();
  }
}

}  // namespace
}  // namespace quicksr
