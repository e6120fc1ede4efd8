// INT8 model files: saved and loaded through model_io, the bytes read back here independently
// (header JSON with nlohmann::json, tensor bytes by offset), and malformed files rejected with
// one message naming the file.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>

#include "quicksr/error.hpp"
#include "quicksr/model_io.hpp"
#include "quicksr/quant.hpp"
#include "support/temp_dir.hpp"

namespace quicksr {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

class Int8FileTest : public ::testing::Test {
 protected:
  test_support::TempDir temp_;
  const fs::path dir_ = temp_.path();
};

QuantizedQuickSRNet quantized(const char* preset, Scale scale, WeightGranularity granularity) {
  const QuickSRNetConfig config = QuickSRNetConfig::preset(preset, scale);
  const QuickSRNet net = QuickSRNet::initialized(config, 4);
  ActivationEncodings encodings;
  for (int i = 0; i <= config.blocks; ++i)
    encodings.features.push_back({0.8f / 255 + i * 1e-5f, 0});
  encodings.output = {1.02f / 255, 3};
  return quant::quantize_weights(net, encodings, granularity);
}

std::string read_bytes(const fs::path& path) {
  std::ifstream stream(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(stream), std::istreambuf_iterator<char>()};
}

struct RawFile {
  Json header;
  std::string data;
};

RawFile parse(const std::string& bytes) {
  std::uint64_t length = 0;
  for (int i = 0; i < 8; ++i)
    length |= static_cast<std::uint64_t>(static_cast<unsigned char>(bytes[i])) << (8 * i);
  return {Json::parse(bytes.substr(8, length)), bytes.substr(8 + length)};
}

template <typename T>
std::vector<T> values_of(const RawFile& file, const std::string& name) {
  const Json& entry = file.header.at(name);
  const auto begin = entry["data_offsets"][0].get<std::size_t>();
  const auto end = entry["data_offsets"][1].get<std::size_t>();
  std::vector<T> values((end - begin) / sizeof(T));
  std::memcpy(values.data(), file.data.data() + begin, end - begin);
  return values;
}

TEST_F(Int8FileTest, ReluModelStaysReluThroughTheFile) {
  QuickSRNetConfig config = QuickSRNetConfig::small({2, 1});
  config.activation = Activation::kReLU;
  ActivationEncodings encodings;
  encodings.features.assign(3, ActivationEncoding{4.0f / 255.0f, 0});  // ReLU: range [0, 4]
  Model model;
  model.net = quant::quantize_weights(QuickSRNet::initialized(config, 4), encodings,
                                      WeightGranularity::kPerChannel);
  save_model(model, dir_ / "relu-int8.safetensors");
  const RawFile raw = parse(read_bytes(dir_ / "relu-int8.safetensors"));
  EXPECT_EQ(raw.header.at("__metadata__").at("activation"), "relu");
  const Model loaded = load_model(dir_ / "relu-int8.safetensors");
  EXPECT_EQ(std::get<QuantizedQuickSRNet>(loaded.net).config.activation, Activation::kReLU);
  EXPECT_EQ(loaded.name(), "quicksrnet-small-x2-relu-int8");
}

TEST_F(Int8FileTest, SavesTheDocumentedLayoutAndLoadsItBack) {
  for (const auto granularity : {WeightGranularity::kPerChannel, WeightGranularity::kPerTensor}) {
    const QuantizedQuickSRNet q = quantized("large", {3, 2}, granularity);
    Model model;
    model.net = q;
    model.provenance["note"] = "test";
    const fs::path path = dir_ / "model-int8.safetensors";
    fs::remove(path);
    save_model(model, path);

    const RawFile raw = parse(read_bytes(path));
    const Json& metadata = raw.header["__metadata__"];
    EXPECT_EQ(metadata["architecture"], "quicksrnet-int8");
    EXPECT_EQ(metadata["quantization"], "w8a8");
    EXPECT_EQ(metadata["weights"],
              granularity == WeightGranularity::kPerChannel ? "per-channel" : "per-tensor");
    EXPECT_EQ(raw.header["body.3.weight"]["dtype"], "I8");
    EXPECT_EQ(raw.header["body.3.weight"]["shape"], Json({64, 64, 3, 3}));
    EXPECT_EQ(raw.header["last.bias"]["dtype"], "I32");
    EXPECT_EQ(raw.header["anchor.weight_scale"]["dtype"], "F32");
    EXPECT_EQ(values_of<std::int8_t>(raw, "body.3.weight"), q.body[3].weight);
    EXPECT_EQ(values_of<std::int32_t>(raw, "last.bias"), q.last.bias);
    EXPECT_EQ(values_of<float>(raw, "anchor.weight_scale"), q.anchor[0].weight_scale);
    const auto scales = values_of<float>(raw, "activation.scale");
    const auto zero_points = values_of<std::int32_t>(raw, "activation.zero_point");
    ASSERT_EQ(scales.size(), 14u);  // input, 12 feature maps (m = 11), output
    EXPECT_EQ(scales.front(), 1.0f / 255.0f);
    EXPECT_EQ(scales.back(), q.output.scale);
    EXPECT_EQ(zero_points.back(), 3);

    const Model loaded = load_model(path);
    ASSERT_TRUE(loaded.is_quantized());
    EXPECT_EQ(loaded.name(), "quicksrnet-large-x1.5-int8");
    EXPECT_EQ(loaded.provenance.at("note"), "test");
    const auto& back = std::get<QuantizedQuickSRNet>(loaded.net);
    EXPECT_EQ(quant::encodings_of(back), quant::encodings_of(q));
    EXPECT_EQ(back.first.weight, q.first.weight);
    EXPECT_EQ(back.body[10].bias, q.body[10].bias);
    EXPECT_EQ(back.last.weight_scale, q.last.weight_scale);
    EXPECT_EQ(back.anchor[0].weight, q.anchor[0].weight);
    EXPECT_EQ(back.anchor[0].stride, 2);
  }
}

void expect_load_error(const fs::path& path, const std::string& what) {
  try {
    load_model(path);
    ADD_FAILURE() << "loaded: " << what;
  } catch (const Error& error) {
    const std::string message = error.what();
    EXPECT_EQ(message.rfind(path.string() + ": ", 0), 0u) << message;
    EXPECT_NE(message.find(what), std::string::npos) << message;
  }
}

// Rewrites the file with `edit` applied to its header (data unchanged).
void edit_header(const fs::path& path, const std::function<void(Json&)>& edit) {
  RawFile raw = parse(read_bytes(path));
  edit(raw.header);
  std::string header = raw.header.dump();
  std::string bytes;
  for (int i = 0; i < 8; ++i) bytes.push_back(static_cast<char>((header.size() >> (8 * i)) & 0xff));
  std::ofstream(path, std::ios::binary) << bytes << header << raw.data;
}

TEST_F(Int8FileTest, MalformedFilesAreRejectedNamingTheFile) {
  Model model;
  model.net = quantized("small", {2, 1}, WeightGranularity::kPerChannel);
  const fs::path good = dir_ / "good.safetensors";
  save_model(model, good);
  const fs::path bad = dir_ / "bad.safetensors";
  const auto variant = [&](const std::function<void(Json&)>& edit) {
    fs::copy_file(good, bad, fs::copy_options::overwrite_existing);
    edit_header(bad, edit);
  };
  variant([](Json& h) { h["__metadata__"]["quantization"] = "w4a8"; });
  expect_load_error(bad, "w4a8");
  variant([](Json& h) { h["__metadata__"]["weights"] = "per-tensor"; });
  expect_load_error(bad, "first.weight_scale\" has shape [32], expected [1]");
  variant([](Json& h) { h["first.bias"]["dtype"] = "F32"; });
  expect_load_error(bad, "first.bias\" has dtype F32, expected I32");
  variant([](Json& h) { h["first.weight"]["dtype"] = "U8"; });
  expect_load_error(bad, "dtype U8");
  variant([](Json& h) {
    h["activation.zero_points"] = h["activation.zero_point"];
    h.erase("activation.zero_point");
  });
  expect_load_error(bad, "missing tensor \"activation.zero_point\"");

  // A weight of -128 (never produced by quicksr) fails the model checker.
  Model tampered = model;
  std::get<QuantizedQuickSRNet>(tampered.net).last.weight[7] = -128;
  EXPECT_THROW(save_model(tampered, bad), Error);  // refused on save too
  fs::copy_file(good, bad, fs::copy_options::overwrite_existing);
  std::string bytes = read_bytes(bad);
  const RawFile raw = parse(bytes);
  const std::size_t data_start = bytes.size() - raw.data.size();
  const auto offset = raw.header["last.weight"]["data_offsets"][0].get<std::size_t>();
  bytes[data_start + offset + 7] = static_cast<char>(-128);
  std::ofstream(bad, std::ios::binary) << bytes;
  expect_load_error(bad, "-128");
}

}  // namespace
}  // namespace quicksr
