// The malformed-input suite (docs/reliability.md): one generated file per class of bad input that
// issue 11 found, each through the command a user would run. Every case must exit with 1, print
// exactly one line that names the bad file, and leave nothing behind (no output, no temp file).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "quicksr/image.hpp"
#include "quicksr/model_io.hpp"
#include "support/graph_builders.hpp"
#include "support/run_quicksr.hpp"
#include "support/temp_dir.hpp"

namespace fs = std::filesystem;

namespace quicksr {
namespace {

using test_support::quoted;
using test_support::run_quicksr;

std::string little_endian(std::uint64_t value, int bytes) {
  std::string out;
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>(value >> (8 * i)));
  return out;
}

std::string read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_bytes(const fs::path& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

using test_support::graph_node;

// Replaces the first `from` in the file with `to` (same length: the header length stays valid).
void patch(const fs::path& path, const std::string& from, const std::string& to) {
  std::string bytes = read_bytes(path);
  const std::size_t at = bytes.find(from);
  ASSERT_NE(at, std::string::npos) << from;
  ASSERT_EQ(from.size(), to.size());
  bytes.replace(at, from.size(), to);
  write_bytes(path, bytes);
}

class MalformedInputs : public ::testing::Test {
 protected:
  void SetUp() override {
    Image image;
    image.width = 6;
    image.height = 4;
    image.rgb.assign(6 * 4 * 3, 0.5f);
    image.alpha.assign(6 * 4, 1.0f);  // RGBA: the alpha path of issue 11's crash
    write_image(image, dir_ / "good.png");
  }

  fs::path path(const std::string& name) const { return dir_ / name; }

  // Runs `quicksr ARGS` expecting a refusal that names `bad` on one line and writes nothing.
  void expect_refused(const std::string& args, const fs::path& bad) {
    const std::vector<fs::path> before(fs::directory_iterator(dir_), fs::directory_iterator{});
    const test_support::RunResult result = run_quicksr(args);
    SCOPED_TRACE(args + "\n" + result.output);
    EXPECT_EQ(result.exit_code, 1);
    EXPECT_EQ(std::count(result.output.begin(), result.output.end(), '\n'), 1);
    EXPECT_NE(result.output.find(bad.string()), std::string::npos);
    EXPECT_EQ(result.output.find("internal error"), std::string::npos);
    const std::vector<fs::path> after(fs::directory_iterator(dir_), fs::directory_iterator{});
    EXPECT_EQ(after.size(), before.size()) << "an output or temp file was left behind";
  }

  void expect_image_refused(const fs::path& bad) {
    expect_refused("upscale " + quoted(bad) + " " + quoted(path("out.png")), bad);
  }

  void expect_model_refused(const fs::path& bad) {
    expect_refused("upscale " + quoted(path("good.png")) + " " + quoted(path("out.png")) +
                       " --model " + quoted(bad),
                   bad);
    expect_refused("info " + quoted(bad), bad);
  }

  test_support::TempDir temp_;
  const fs::path dir_ = temp_.path();
};

TEST_F(MalformedInputs, Images) {
  const std::string png = read_bytes(path("good.png"));
  write_bytes(path("truncated.png"), png.substr(0, png.size() / 2));
  expect_image_refused(path("truncated.png"));
  write_bytes(path("random.png"), "\x89PNG\r\n\x1A\n" + std::string(300, '\x5A'));
  expect_image_refused(path("random.png"));
  write_bytes(path("empty.png"), "");
  expect_image_refused(path("empty.png"));

  // A PNG header declaring 20000x13000 in a few hundred bytes (a decompression bomb).
  std::string bomb = png;
  const std::size_t ihdr = bomb.find("IHDR") + 4;
  bomb.replace(ihdr, 8, std::string("\0\0\x4E\x20\0\0\x32\xC8", 8));
  write_bytes(path("bomb.png"), bomb.substr(0, 220));
  expect_image_refused(path("bomb.png"));
  expect_refused(
      "upscale " + quoted(path("bomb.png")) + " " + quoted(path("out.png")) + " --max-pixels 1e12",
      path("bomb.png"));

  // BMP: a negative header size, and an RLE8 bomb (8000x8000 declared, no data).
  std::string bmp = "BM" + little_endian(0, 4) + little_endian(0, 4) + little_endian(54, 4) +
                    little_endian(0xFFFFFFF0u, 4) + std::string(40, '\1');
  write_bytes(path("negative.bmp"), bmp);
  expect_image_refused(path("negative.bmp"));
  std::string rle = "BM" + little_endian(0, 4) + little_endian(0, 4) + little_endian(1078, 4) +
                    little_endian(40, 4) + little_endian(8000, 4) + little_endian(8000, 4) +
                    little_endian(1, 2) + little_endian(8, 2) + little_endian(1, 4) +
                    little_endian(2, 4) + std::string(16, '\0') + std::string(1024, '\0') +
                    std::string("\0\1", 2);
  write_bytes(path("rle_bomb.bmp"), rle);
  expect_image_refused(path("rle_bomb.bmp"));
}

// A video FFmpeg cannot open: its own message ("moov atom not found") is part of the one line.
TEST_F(MalformedInputs, Videos) {
  // An MP4 that is only its 'ftyp' box: big-endian size 28, brands isom, isom iso2 mp41.
  write_bytes(path("ftyp_only.mp4"), std::string("\0\0\0\x1C"
                                                 "ftypisom\0\0\x02\0"
                                                 "isomiso2mp41",
                                                 28));
  expect_refused("video " + quoted(path("ftyp_only.mp4")) + " " + quoted(path("out.mp4")),
                 path("ftyp_only.mp4"));
  const auto run =
      run_quicksr("video " + quoted(path("ftyp_only.mp4")) + " " + quoted(path("out.mp4")));
  EXPECT_NE(run.output.find("(moov atom not found)"), std::string::npos) << run.output;
  write_bytes(path("random.mp4"), std::string(4000, '\x5A'));
  expect_refused("video " + quoted(path("random.mp4")) + " " + quoted(path("out.mp4")),
                 path("random.mp4"));
}

TEST_F(MalformedInputs, GraphModels) {
  // Declared x2, computes x4 (issue 11: SIGSEGV in the alpha path with an RGBA input).
  save_model({.net = test_support::upscaling_graph(4, {4, 1}), .provenance = {}},
             path("x4.safetensors"));
  fs::copy_file(path("x4.safetensors"), path("mismatch.safetensors"));
  patch(path("mismatch.safetensors"), "\"scale\":\"4\"", "\"scale\":\"2\"");
  expect_model_refused(path("mismatch.safetensors"));

  // A concat of 65536-channel tensors (issue 11: heap overflow in reference::concat). Saving it
  // is refused, so a valid twin is saved and its concat inputs renamed in the header (same length).
  Graph twin;
  twin.architecture = "case";
  twin.scale = {2, 1};
  twin.convs = {Conv2d::zeros(3, 6, 3), Conv2d::zeros(3, 1 << 16, 1)};
  twin.nodes = {graph_node(OpType::kConv, "narrow", {"input"}, "aa", 0),
                graph_node(OpType::kConv, "wide", {"input"}, "bb", 1),
                graph_node(OpType::kConcat, "cat", {"aa", "aa"}, "cc"),
                graph_node(OpType::kDepthToSpace, "shuffle", {"cc"}, "out", 2)};
  twin.output = "out";
  save_model({.net = twin, .provenance = {}}, path("overflow.safetensors"));
  patch(path("overflow.safetensors"), "[\\\"aa\\\",\\\"aa\\\"]", "[\\\"bb\\\",\\\"bb\\\"]");
  expect_model_refused(path("overflow.safetensors"));

  // Truncated file, and a header of 100 MB of '['.
  const std::string model = read_bytes(path("x4.safetensors"));
  write_bytes(path("truncated.safetensors"), model.substr(0, model.size() - 10));
  expect_model_refused(path("truncated.safetensors"));
  const std::string nested(1 << 20, '[');
  write_bytes(path("nested.safetensors"), little_endian(nested.size(), 8) + nested);
  expect_model_refused(path("nested.safetensors"));
}

}  // namespace
}  // namespace quicksr
