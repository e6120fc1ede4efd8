// AIMET JSON encodings: the fields of the 0.6.1 format computed by hand for known encodings, a
// round trip (export, import onto the float net) that gives back the same INT8 model, and clear
// errors naming the file for malformed input.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <random>

#include "quicksr/error.hpp"
#include "quicksr/quant.hpp"

namespace quicksr {
namespace {

using Json = nlohmann::json;

QuickSRNet random_net(const QuickSRNetConfig& config, unsigned seed) {
  QuickSRNet net = QuickSRNet::initialized(config, seed);
  std::mt19937 engine(seed);
  std::uniform_real_distribution<float> bias(-0.1f, 0.1f);
  for (Conv2d* conv : {&net.first, &net.last}) {
    for (float& b : conv->bias) b = bias(engine);
  }
  return net;
}

ActivationEncodings some_encodings(int blocks) {
  ActivationEncodings encodings;
  for (int i = 0; i <= blocks; ++i) encodings.features.push_back({0.9f / 255.0f + i * 1e-4f, 0});
  encodings.output = {0.01f, 20};
  return encodings;
}

void expect_same(const QConv2d& a, const QConv2d& b) {
  EXPECT_EQ(a.weight, b.weight);
  EXPECT_EQ(a.weight_scale, b.weight_scale);
  EXPECT_EQ(a.bias, b.bias);
}

void expect_same(const QuantizedQuickSRNet& a, const QuantizedQuickSRNet& b) {
  EXPECT_EQ(a.config, b.config);
  EXPECT_EQ(quant::encodings_of(a), quant::encodings_of(b));
  expect_same(a.first, b.first);
  ASSERT_EQ(a.body.size(), b.body.size());
  for (std::size_t i = 0; i < a.body.size(); ++i) expect_same(a.body[i], b.body[i]);
  expect_same(a.last, b.last);
  ASSERT_EQ(a.anchor.size(), b.anchor.size());
  for (std::size_t i = 0; i < a.anchor.size(); ++i) expect_same(a.anchor[i], b.anchor[i]);
}

TEST(AimetEncodingsTest, FieldsFollowTheFormat) {
  const QuickSRNetConfig config = QuickSRNetConfig::small({2, 1});
  const QuantizedQuickSRNet q = quant::quantize_weights(
      random_net(config, 1), some_encodings(config.blocks), WeightGranularity::kPerChannel);
  const Json json = Json::parse(quant::to_aimet_json(q));
  EXPECT_EQ(json["version"], "0.6.1");
  const Json& output = json["activation_encodings"]["clip"];
  ASSERT_EQ(output.size(), 1u);
  EXPECT_EQ(output[0]["bitwidth"], 8);
  EXPECT_EQ(output[0]["dtype"], "int");
  EXPECT_EQ(output[0]["is_symmetric"], "False");
  EXPECT_EQ(output[0]["offset"], -20);                      // -zero point
  EXPECT_NEAR(output[0]["min"].get<double>(), -0.2, 1e-6);  // 0.01 * (0 - 20)
  EXPECT_NEAR(output[0]["max"].get<double>(), 2.35, 1e-6);  // 0.01 * (255 - 20)
  EXPECT_NEAR(json["activation_encodings"]["input"][0]["scale"].get<double>(), 1.0 / 255, 1e-9);
  for (const char* name : {"first.relu1", "body.0.relu1", "body.1.relu1"}) {
    EXPECT_TRUE(json["activation_encodings"].contains(name)) << name;
  }
  const Json& weight = json["param_encodings"]["body.1.weight"];
  ASSERT_EQ(weight.size(), 32u);  // one entry per output channel
  EXPECT_EQ(weight[5]["is_symmetric"], "True");
  EXPECT_EQ(weight[5]["offset"], -128);
  EXPECT_FLOAT_EQ(weight[5]["scale"].get<float>(), q.body[1].weight_scale[5]);
  EXPECT_FLOAT_EQ(weight[5]["min"].get<float>(), -128.0f * q.body[1].weight_scale[5]);
  EXPECT_EQ(json["quantizer_args"]["per_channel_quantization"], true);
}

TEST(AimetEncodingsTest, RoundTripGivesTheSameModel) {
  for (const char* preset : {"small", "large"}) {
    for (const auto granularity : {WeightGranularity::kPerChannel, WeightGranularity::kPerTensor}) {
      const QuickSRNetConfig config = QuickSRNetConfig::preset(preset, {2, 1});
      const QuickSRNet net = random_net(config, 2);
      const QuantizedQuickSRNet q =
          quant::quantize_weights(net, some_encodings(config.blocks), granularity);
      const std::string json = quant::to_aimet_json(q);
      expect_same(quant::from_aimet_json(net, json, "enc.json"), q);
      // The dequantized weights lie on the grid: importing onto them gives the same model too.
      expect_same(quant::from_aimet_json(quant::dequantize_weights(q), json, "enc.json"), q);
    }
  }
}

void expect_error(const QuickSRNet& net, const std::string& json, const std::string& what) {
  try {
    quant::from_aimet_json(net, json, "bad.json");
    ADD_FAILURE() << "accepted: " << what;
  } catch (const Error& error) {
    const std::string message = error.what();
    EXPECT_EQ(message.rfind("bad.json: ", 0), 0u) << message;
    EXPECT_NE(message.find(what), std::string::npos) << message;
  }
}

TEST(AimetEncodingsTest, MalformedInputIsRejectedNamingTheFile) {
  const QuickSRNetConfig config = QuickSRNetConfig::small({2, 1});
  const QuickSRNet net = random_net(config, 3);
  const QuantizedQuickSRNet q =
      quant::quantize_weights(net, some_encodings(config.blocks), WeightGranularity::kPerChannel);
  const Json good = Json::parse(quant::to_aimet_json(q));
  expect_error(net, "{", "not a JSON object");
  expect_error(net, std::string(100, '[') + std::string(100, ']'), "nested too deeply");
  Json bad = good;
  bad.erase("param_encodings");
  expect_error(net, bad.dump(), "param_encodings");
  bad = good;
  bad["activation_encodings"].erase("body.1.relu1");
  expect_error(net, bad.dump(), "body.1.relu1");
  bad = good;
  bad["activation_encodings"]["clip"][0]["bitwidth"] = 16;
  expect_error(net, bad.dump(), "bitwidth 16");
  bad = good;
  bad["activation_encodings"]["clip"][0]["is_symmetric"] = "True";
  expect_error(net, bad.dump(), "symmetric");
  bad = good;
  bad["activation_encodings"]["clip"][0]["scale"] = -1.0;
  expect_error(net, bad.dump(), "scale");
  bad = good;
  bad["activation_encodings"]["clip"][0]["offset"] = 3;
  expect_error(net, bad.dump(), "offset");
  bad = good;
  bad["param_encodings"]["last.weight"].erase(0);
  expect_error(net, bad.dump(), "11 entries");
  bad = good;
  bad["param_encodings"]["first.weight"][0]["scale"] = "big";
  expect_error(net, bad.dump(), "not a number");
  bad = good;
  bad["activation_encodings"]["input"][0]["scale"] = 0.5;
  expect_error(net, bad.dump(), "input");
}

}  // namespace
}  // namespace quicksr
