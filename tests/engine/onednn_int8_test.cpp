// The oneDNN u8s8 network that `quicksr bench --precision int8` compares the INT8 engine with:
// its output must match the integer reference within 1 LSB (oneDNN adds the bias in float and
// may round differently), so the speed ratio is against a verified baseline.
#include <gtest/gtest.h>

#include <cstdlib>
#include <functional>
#include <random>

#include "engine/onednn_network.hpp"
#include "quicksr/error.hpp"
#include "quicksr/quant.hpp"

namespace quicksr {
namespace {

TEST(OneDnnInt8Network, MatchesIntegerReferenceWithinOneLsb) {
  for (const char* scale : {"2", "3"}) {
    const QuickSRNetConfig config = QuickSRNetConfig::small(Scale::parse(scale));
    ActivationEncodings encodings;
    for (int i = 0; i <= config.blocks; ++i) {
      encodings.features.push_back(quant::encoding_from_range(0.0f, 0.9f + 0.2f * i));
    }
    const QuantizedQuickSRNet net = quant::quantize_weights(
        QuickSRNet::initialized(config, 2), encodings, WeightGranularity::kPerChannel);
    constexpr int kWidth = 37;
    constexpr int kHeight = 23;
    U8Tensor input(3, kHeight, kWidth);
    std::mt19937 rng(1);
    for (std::uint8_t& v : input.data) v = static_cast<std::uint8_t>(rng());
    std::vector<std::uint8_t> rgb(input.data.size());
    for (int y = 0; y < kHeight; ++y) {
      for (int x = 0; x < kWidth; ++x) {
        for (int c = 0; c < 3; ++c) rgb[(y * kWidth + x) * 3 + c] = input.at(c, y, x);
      }
    }
    const U8Tensor expected = quant::forward(net, input);
    engine::OneDnnNetwork network(net, kWidth, kHeight, 2);
    std::vector<std::uint8_t> out(expected.data.size());
    network.run(rgb.data(), out.data());
    int worst = 0;
    int exact = 0;
    for (int y = 0; y < expected.height; ++y) {
      for (int x = 0; x < expected.width; ++x) {
        for (int c = 0; c < 3; ++c) {
          const int difference =
              std::abs(out[(y * expected.width + x) * 3 + c] - expected.at(c, y, x));
          worst = std::max(worst, difference);
          exact += difference == 0;
        }
      }
    }
    SCOPED_TRACE(std::string("x") + scale);
    EXPECT_LE(worst, 1);
    // Differences are rare rounding ties, not a systematic shift.
    EXPECT_GT(exact, static_cast<int>(expected.data.size() * 0.95));
  }
}

// Its clip post-ops are ReLU1's: a ReLU model is refused with one message, fp32 and INT8.
TEST(OneDnnNetwork, RefusesReluModels) {
  QuickSRNetConfig config = QuickSRNetConfig::small(Scale::parse("2"));
  config.activation = Activation::kReLU;
  const QuickSRNet net = QuickSRNet::initialized(config, 2);
  ActivationEncodings encodings;
  encodings.features.assign(3, quant::encoding_from_range(0.0f, 2.0f));
  const QuantizedQuickSRNet int8 =
      quant::quantize_weights(net, encodings, WeightGranularity::kPerChannel);
  for (const auto& build :
       std::vector<std::function<void()>>{[&] { engine::OneDnnNetwork network(net, 8, 8, 1); },
                                          [&] { engine::OneDnnNetwork network(int8, 8, 8, 1); }}) {
    try {
      build();
      ADD_FAILURE() << "a ReLU model was accepted";
    } catch (const Error& error) {
      EXPECT_NE(std::string(error.what()).find("only ReLU1 QuickSRNets (this one uses relu)"),
                std::string::npos)
          << error.what();
    }
  }
}

}  // namespace
}  // namespace quicksr
