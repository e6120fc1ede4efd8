// Writes the seed corpora of the fuzz targets into DIR/<target>/: small valid inputs of every
// kind each reader accepts, built with quicksr's own writers (so no binary seeds are committed).
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <string>
#include <vector>

#include "fuzz_encodings_nets.hpp"
#include "quicksr/image.hpp"
#include "quicksr/model_io.hpp"
#include "quicksr/onnx.hpp"
#include "quicksr/quant.hpp"
#include "support/graph_builders.hpp"
#include "train/trainer.hpp"
#include "video/packet_log.hpp"

namespace fs = std::filesystem;
using namespace quicksr;

namespace {

void write_bytes(const fs::path& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

std::string little_endian(std::uint32_t value, int bytes) {
  std::string out;
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>(value >> (8 * i)));
  return out;
}

// A bottom-up BMP with a BITMAPINFOHEADER: 24-bit pixels, or 8-bit indices with a gray palette.
std::string bmp(int width, int height, int bits) {
  const int row_bytes = (width * bits / 8 + 3) / 4 * 4;
  const int palette = bits == 8 ? 1024 : 0;
  const int offset = 14 + 40 + palette;
  std::string file = "BM" + little_endian(offset + row_bytes * height, 4) + little_endian(0, 4) +
                     little_endian(offset, 4) + little_endian(40, 4) + little_endian(width, 4) +
                     little_endian(height, 4) + little_endian(1, 2) + little_endian(bits, 2) +
                     little_endian(0, 4) + little_endian(row_bytes * height, 4) +
                     std::string(16, '\0');
  for (int i = 0; i < palette / 4; ++i) file += std::string(3, static_cast<char>(i)) + '\0';
  for (int i = 0; i < row_bytes * height; ++i) file.push_back(static_cast<char>(i * 37));
  return file;
}

Image noise(int width, int height, bool gray, bool alpha, int bit_depth) {
  std::mt19937 random(1);
  Image image;
  image.width = width;
  image.height = height;
  image.gray = gray;
  image.bit_depth = bit_depth;
  image.rgb.resize(static_cast<std::size_t>(width) * height * 3);
  for (float& v : image.rgb) v = static_cast<float>(random() % 256) / 255.0f;
  if (alpha) image.alpha.assign(static_cast<std::size_t>(width) * height, 0.5f);
  return image;
}

void image_seeds(const fs::path& dir) {
  write_image(noise(5, 3, false, false, 8), dir / "rgb.png");
  write_image(noise(4, 4, false, true, 16), dir / "rgba16.png");
  write_image(noise(3, 5, true, true, 8), dir / "gray_alpha.png");
  write_image(noise(9, 7, false, false, 8), dir / "rgb.jpg");
  write_image(noise(8, 8, true, false, 8), dir / "gray.jpg");
  write_image(noise(6, 4, false, true, 8), dir / "rgba.webp");
  write_image(noise(5, 5, false, false, 8), dir / "rgb.webp");
  write_image(noise(4, 3, false, true, 16), dir / "rgba16.tif");
  write_image(noise(3, 4, true, false, 8), dir / "gray.tif");
  write_bytes(dir / "rgb.bmp", bmp(3, 2, 24));
  write_bytes(dir / "indexed.bmp", bmp(5, 3, 8));
}

// An XLSR-like graph: conv, relu, concat with the input, add, depth-to-space, clip.
Graph small_graph() {
  Graph graph;
  graph.architecture = "seed";
  graph.scale = {2, 1};
  graph.convs = {Conv2d::zeros(3, 6, 3), Conv2d::zeros(9, 12, 3, 3)};
  using test_support::graph_node;
  graph.nodes = {graph_node(OpType::kConv, "conv0", {"input"}, "a", 0),
                 graph_node(OpType::kRelu, "relu", {"a"}, "b"),
                 graph_node(OpType::kConcat, "concat", {"input", "b"}, "c"),
                 graph_node(OpType::kConv, "conv1", {"c"}, "d", 1),
                 graph_node(OpType::kDepthToSpace, "d2s", {"d"}, "e", 2),
                 graph_node(OpType::kClip, "clip", {"e"}, "out")};
  graph.output = "out";
  return graph;
}

// Every op of graph format version 2 (docs/model-format.md), with a shrinking stride-2 conv and
// max pool that a bilinear resize undoes (ERFDN's ESA), and a transposed conv that upscales.
Graph version2_graph() {
  using test_support::graph_node;
  Graph graph;
  graph.architecture = "seed-v2";
  graph.scale = {2, 1};
  Conv2d strided = Conv2d::zeros(4, 4, 3);
  strided.stride = 2;
  strided.pad_top = strided.pad_left = strided.pad_bottom = strided.pad_right = 0;
  Conv2d up = Conv2d::zeros(4, 3, 4);
  up.transposed = true;
  up.stride = 2;
  up.pad_top = up.pad_left = up.pad_bottom = up.pad_right = 1;
  graph.convs = {Conv2d::zeros(3, 4, 3), strided, Conv2d::zeros(3, 1, 1), up};
  graph.prelus = {{4, {0.25f, 0.5f, 0.1f, 0.0f}}};
  GraphNode prelu = graph_node(OpType::kPRelu, "prelu", {"a"}, "b");
  prelu.prelu = 0;
  GraphNode leaky = graph_node(OpType::kLeakyRelu, "leaky", {"b"}, "c");
  leaky.alpha = 0.05f;
  GraphNode average = graph_node(OpType::kAveragePool, "avg", {"c"}, "d");
  average.pool = {.kernel = 3,
                  .stride = 1,
                  .pad_top = 1,
                  .pad_left = 1,
                  .pad_bottom = 1,
                  .pad_right = 1,
                  .count_include_pad = true};
  GraphNode max = graph_node(OpType::kMaxPool, "max", {"s"}, "p");
  max.pool = {.kernel = 2, .stride = 2};
  GraphNode nearest = graph_node(OpType::kResizeNearest, "nearest", {"u"}, "out");
  nearest.block_size = 1;
  graph.nodes = {graph_node(OpType::kConv, "conv", {"input"}, "a", 0),
                 prelu,
                 leaky,
                 average,
                 graph_node(OpType::kConv, "strided", {"d"}, "s", 1),
                 max,
                 graph_node(OpType::kResizeBilinear, "bilinear", {"p", "d"}, "r"),
                 graph_node(OpType::kSigmoid, "sigmoid", {"r"}, "g"),
                 graph_node(OpType::kConv, "mask", {"input"}, "m", 2),
                 graph_node(OpType::kTanh, "tanh", {"m"}, "t"),
                 graph_node(OpType::kMul, "mul", {"g", "t"}, "e"),
                 graph_node(OpType::kSub, "sub", {"d", "e"}, "f"),
                 graph_node(OpType::kConvTranspose, "up", {"f"}, "u", 3),
                 nearest};
  graph.output = "out";
  return graph;
}

std::vector<std::pair<std::string, Model>> seed_models() {
  QuickSRNetConfig x2{.features = 4, .blocks = 1, .scale = {2, 1}, .anchor = false};
  QuickSRNetConfig x1_5{.features = 3, .blocks = 0, .scale = {3, 2}, .anchor = true};
  return {{"quicksrnet-x2", Model{.net = QuickSRNet::initialized(x2, 1), .provenance = {}}},
          {"quicksrnet-x1_5", Model{.net = QuickSRNet::initialized(x1_5, 2), .provenance = {}}},
          {"graph-x2", Model{.net = small_graph(), .provenance = {{"source", "seed"}}}},
          {"graph-v2-x2", Model{.net = version2_graph(), .provenance = {}}}};
}

// An INT8 graph (a model-load seed, and as QDQ ONNX an import seed).
Model int8_graph_seed() {
  const Graph graph = test_support::upscaling_graph(2, {2, 1});
  const std::vector<ActivationEncoding> encodings(int8_layout(graph).tensors.size());
  return Model{
      .net = quant::quantize_graph_weights(graph, encodings, WeightGranularity::kPerChannel),
      .provenance = {}};
}

// Encodings of the fuzz_encodings nets: per channel and per tensor, unit and other scales.
void encodings_seeds(const fs::path& dir) {
  int index = 0;
  for (const QuickSRNet& net : fuzz::encodings_nets()) {
    ActivationEncodings encodings;
    encodings.features.assign(net.body.size() + 1,
                              ActivationEncoding{.scale = 1.0f / 200, .zero_point = 3});
    for (const WeightGranularity granularity :
         {WeightGranularity::kPerChannel, WeightGranularity::kPerTensor}) {
      write_bytes(dir / ("encodings" + std::to_string(index++) + ".json"),
                  quant::to_aimet_json(quant::quantize_weights(net, encodings, granularity)));
    }
  }
}

// A training config (every setting, as the trainer writes it), a training log and a video part.
void resume_file_seeds(const fs::path& dir) {
  train::TrainConfig config;
  config.data = {"/data/T91", "/data/BSDS200"};
  config.out = "/runs/x2";
  write_bytes(dir / "config.json", train::to_json(config).dump(2));
  write_bytes(dir / "log.csv",
              "iteration,loss,lr,val_psnr,val_ssim\n100,0.031,0.0005,,\n200,0.029,0.0005,"
              "36.123456,0.954321\n");
  video::PacketLogWriter part(dir / "part.packets");
  part.append({-1024, -2048, 1024, 1, {0, 0, 0, 1, 0x65, 0x88}, {{8, {1, 2, 3, 4}}}});
  part.append({2048, -1024, 1024, 0, {0, 0, 0, 1, 0x41}, {}});
  part.finish();
}

void cli_seeds(const fs::path& dir) {
  const std::vector<std::string> argvs = {
      std::string("in.png\0out.png", 14), std::string("in.png\0out.jpg\0--scale\0003", 24),
      std::string("a\0--threads\0004\0--overwrite", 26),
      std::string("--max-pixels\0001e6\0in\0--model\0m.safetensors", 41), "--help"};
  for (std::size_t i = 0; i < argvs.size(); ++i) {
    write_bytes(dir / ("args" + std::to_string(i)), argvs[i]);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: fuzz_seeds DIR\n";
    return 2;
  }
  const fs::path root = argv[1];
  for (const char* target : {"fuzz_image_read", "fuzz_model_load", "fuzz_onnx_import",
                             "fuzz_cli_args", "fuzz_encodings", "fuzz_resume_files"}) {
    fs::create_directories(root / target);
  }
  image_seeds(root / "fuzz_image_read");
  for (const auto& [name, model] : seed_models()) {
    save_model(model, root / "fuzz_model_load" / (name + ".safetensors"));
    export_onnx(model, root / "fuzz_onnx_import" / (name + ".onnx"));
  }
  save_model(int8_graph_seed(), root / "fuzz_model_load" / "graph-int8-x2.safetensors");
  export_onnx(int8_graph_seed(), root / "fuzz_onnx_import" / "graph-int8-x2.onnx");
  // An INT8 QuickSRNet as QDQ ONNX (import_onnx reads it back as INT8).
  const QuickSRNet small =
      QuickSRNet::initialized({.features = 4, .blocks = 1, .scale = {2, 1}, .anchor = false}, 3);
  const ActivationEncodings encodings{.input = {}, .features = {{}, {}}, .output = {}};
  export_onnx(
      Model{.net = quant::quantize_weights(small, encodings, WeightGranularity::kPerChannel),
            .provenance = {}},
      root / "fuzz_onnx_import" / "quicksrnet-int8-x2.onnx");
  cli_seeds(root / "fuzz_cli_args");
  encodings_seeds(root / "fuzz_encodings");
  resume_file_seeds(root / "fuzz_resume_files");
  return 0;
}
