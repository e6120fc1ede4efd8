// Kernel and end-to-end cases for the inference engine, with oneDNN and the FMA peak beside them.
// Rates are FLOP/s counters (2 flops per multiply-accumulate). Where Winograd runs, the
// "effective FLOP/s" counter divides the FLOPs a direct convolution would need by the time (the
// figure comparable with the FMA peak and with oneDNN), and "FLOP/s" counts the multiplies the
// Winograd kernel really does.
#include <benchmark/benchmark.h>

#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "engine/fma_peak.hpp"
#include "engine/kernels/kernels.hpp"
#include "engine/kernels/qu8_kernels.hpp"
#include "engine/onednn_network.hpp"
#include "engine/plan.hpp"
#include "quicksr/engine.hpp"
#include "quicksr/quant.hpp"
#include "quicksr/upscaler.hpp"

namespace {

using namespace quicksr;

std::vector<float> random_values(std::size_t count) {
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> uniform(0.0f, 1.0f);
  std::vector<float> values(count);
  for (float& v : values) v = uniform(rng);
  return values;
}

const QuickSRNet& small_x2() {
  static const QuickSRNet net = QuickSRNet::initialized(QuickSRNetConfig::small(Scale{2, 1}), 1);
  return net;
}

void set_flop_rate(benchmark::State& state, const char* name, double flops_per_iteration) {
  state.counters[name] =
      benchmark::Counter(flops_per_iteration, benchmark::Counter::kIsIterationInvariantRate,
                         benchmark::Counter::kIs1000);
}

// Runs `kernel` on `args` for every benchmark iteration, labelled with the kernel's name.
template <typename Args>
void time_kernel(benchmark::State& state, const char* name, void (*kernel)(const Args&),
                 const Args& args, const std::vector<float>& out) {
  state.SetLabel(name);
  for (auto _ : state) {
    kernel(args);
    benchmark::DoNotOptimize(out.data());
  }
}

// The kernels the engine takes for ISA level state.range(0) (an Isa value), or none when this CPU
// lacks that level.
std::optional<engine::F32Kernels> kernels_for(benchmark::State& state) {
  const Isa isa = static_cast<Isa>(state.range(0));
  if (!cpu_supports(isa)) {
    state.SkipWithError("this CPU lacks the ISA");
    return std::nullopt;
  }
  return engine::f32_kernels(isa);
}

constexpr int kScalar = static_cast<int>(Isa::kScalar);
constexpr int kAvx2 = static_cast<int>(Isa::kAvx2Fma);
constexpr int kAvx512 = static_cast<int>(Isa::kAvx512);

// One 640-pixel output row of a 3x3 conv: args = ISA, in channels, out channels.
void BM_F32Conv3x3Row(benchmark::State& state) {
  const std::optional<engine::F32Kernels> kernels = kernels_for(state);
  if (!kernels) return;
  const engine::F32ConvConfig& config = *kernels->direct;
  const int in_channels = static_cast<int>(state.range(1));
  const int out_channels = static_cast<int>(state.range(2));
  constexpr int kColumns = 640;
  const std::size_t stride = kColumns + 32;
  const std::vector<float> input = random_values(3 * in_channels * stride);
  Conv2d conv = Conv2d::zeros(in_channels, out_channels, 3);
  conv.weight = random_values(conv.weight.size());
  const engine::PackedConv3x3 packed = engine::pack_conv3x3(conv, true, config);
  std::vector<float> out(packed.padded_out_channels * stride);
  const float* rows[3];
  for (int k = 0; k < 3; ++k) rows[k] = input.data() + k * in_channels * stride;
  engine::F32ConvArgs args{};
  args.rows = rows;
  args.in_stride = stride;
  args.in_channels = in_channels;
  args.kernel_h = 3;
  args.kernel_w = 3;
  args.weights = packed.weights.data();
  args.bias = packed.bias.data();
  args.out_channels = packed.padded_out_channels;
  args.out = out.data();
  args.out_stride = stride;
  args.col_begin = 8;
  args.col_count = kColumns;
  args.clamp = true;
  time_kernel(state, config.name, config.run, args, out);
  set_flop_rate(state, "FLOP/s", 2.0 * kColumns * out_channels * in_channels * 9);
}
BENCHMARK(BM_F32Conv3x3Row)
    ->ArgNames({"isa", "in", "out"})
    ->Args({kAvx512, 32, 32})
    ->Args({kAvx512, 3, 32})
    ->Args({kAvx512, 32, 12})
    ->Args({kAvx2, 32, 32})
    ->Args({kAvx2, 3, 32})
    ->Args({kAvx2, 32, 12})
    ->Args({kScalar, 32, 32});

constexpr int kQu8RowColumns = 640;
constexpr std::size_t kQu8RowStride = kQu8RowColumns + 64;

// One 640-pixel output row of an INT8 conv (3x3, or 1x1 reading rows[0]) with random s8 weights
// packed for `kernel`: u8 grouped input rows (kQu8RowStride pixels between groups), requantised u8
// out.
struct Qu8BenchRow {
  Qu8BenchRow(const engine::QU8Conv3x3Config& kernel, int in_channels, int out_channels,
              int kernel_size, const std::uint8_t* const (&rows)[3], std::mt19937& rng) {
    QConv2d conv;
    conv.in_channels = in_channels;
    conv.out_channels = out_channels;
    conv.kernel_h = conv.kernel_w = kernel_size;
    for (int i = 0; i < out_channels * in_channels * kernel_size * kernel_size; ++i) {
      conv.weight.push_back(static_cast<std::int8_t>(static_cast<int>(rng() % 255) - 127));
    }
    weights = kernel.pack(conv);
    const int padded = (out_channels + 3) / 4 * 4;
    bias.assign(padded, 100);
    multipliers.assign(padded, 1e-4f);
    out.resize(padded * kQu8RowStride);
    for (int k = 0; k < 3; ++k) args.rows[k] = rows[k];
    args.in_stride = kQu8RowStride;
    args.in_groups = (in_channels + engine::kQu8Group - 1) / engine::kQu8Group;
    args.weights = weights.data();
    args.bias = bias.data();
    args.multipliers = multipliers.data();
    args.out_channels = padded;
    args.out = out.data();
    args.out_stride = kQu8RowStride;
    args.col_begin = 16;
    args.col_count = kQu8RowColumns;
    args.clamp_max = 255.0f;
  }
  std::vector<std::int32_t> weights;
  std::vector<std::int32_t> bias;
  std::vector<float> multipliers;
  std::vector<std::uint8_t> out;
  engine::QU8Conv3x3Args args{};
};

// One 640-pixel output row of an INT8 3x3 conv: args = ISA, in channels, out channels. "OP/s": 2
// operations per multiply-add.
void BM_Qu8Conv3x3Row(benchmark::State& state) {
  const Isa isa = static_cast<Isa>(state.range(0));
  if (!cpu_supports(isa)) {
    state.SkipWithError("this CPU lacks the instruction set");
    return;
  }
  const int in_channels = static_cast<int>(state.range(1));
  const int out_channels = static_cast<int>(state.range(2));
  const std::size_t group_bytes =
      (in_channels + engine::kQu8Group - 1) / engine::kQu8Group * kQu8RowStride * engine::kQu8Group;
  std::mt19937 rng(5);
  std::vector<std::uint8_t> input(3 * group_bytes);
  for (std::uint8_t& v : input) v = static_cast<std::uint8_t>(rng());
  const std::uint8_t* const rows[3] = {input.data(), input.data() + group_bytes,
                                       input.data() + 2 * group_bytes};
  const engine::QU8Conv3x3Config& kernel = engine::qu8_conv3x3_config(isa);
  const Qu8BenchRow row(kernel, in_channels, out_channels, 3, rows, rng);
  state.SetLabel(kernel.name);
  for (auto _ : state) {
    kernel.run(row.args);
    benchmark::DoNotOptimize(row.out.data());
  }
  set_flop_rate(state, "OP/s", 2.0 * kQu8RowColumns * out_channels * in_channels * 9);
}
BENCHMARK(BM_Qu8Conv3x3Row)
    ->ArgNames({"isa", "in", "out"})
    ->Args({static_cast<int>(Isa::kAvx512Vnni), 32, 32})
    ->Args({static_cast<int>(Isa::kAvx512Vnni), 3, 32})
    ->Args({static_cast<int>(Isa::kAvx512Vnni), 32, 12})
    ->Args({static_cast<int>(Isa::kAvxVnni), 32, 32})
    ->Args({static_cast<int>(Isa::kAvx512), 32, 32})
    ->Args({static_cast<int>(Isa::kAvx2Fma), 32, 32})
    ->Args({static_cast<int>(Isa::kScalar), 32, 32});

// The first conv (3 -> 32) of one 640-pixel row as the INT8 engine runs it with a kernel whose
// first_conv_im2col is set: the im2col row, then the 1x1 over its 7 groups (compare with
// BM_Qu8Conv3x3Row's 3 -> 32, the same conv as 9 taps). Args = ISA.
void BM_Qu8FirstConvIm2colRow(benchmark::State& state) {
  const Isa isa = static_cast<Isa>(state.range(0));
  if (!cpu_supports(isa)) {
    state.SkipWithError("this CPU lacks the instruction set");
    return;
  }
  const std::size_t group_bytes = kQu8RowStride * engine::kQu8Group;
  std::mt19937 rng(5);
  std::vector<std::uint8_t> input(3 * group_bytes);
  for (std::uint8_t& v : input) v = static_cast<std::uint8_t>(rng());
  std::vector<std::uint8_t> columns(engine::kQu8Im2colGroups * group_bytes);
  const std::uint8_t* const column_rows[3] = {columns.data(), columns.data(), columns.data()};
  const engine::QU8Conv3x3Config& kernel = engine::qu8_conv3x3_config(isa);
  const engine::QU8Im2colConfig& im2col = engine::qu8_im2col_config(isa);
  const Qu8BenchRow row(kernel, engine::kQu8Im2colGroups * engine::kQu8Group, 32, 1, column_rows,
                        rng);
  engine::QU8Im2colArgs build{};
  for (int k = 0; k < 3; ++k) build.rows[k] = input.data() + k * group_bytes;
  build.out = columns.data();
  build.stride = kQu8RowStride;
  build.col_begin = 16;
  build.col_count = kQu8RowColumns;
  state.SetLabel(std::string(im2col.name) + ", " + kernel.name);
  for (auto _ : state) {
    im2col.run(build);
    kernel.run_1x1(row.args);
    benchmark::DoNotOptimize(row.out.data());
  }
  set_flop_rate(state, "OP/s", 2.0 * kQu8RowColumns * 32 * 3 * 9);
}
BENCHMARK(BM_Qu8FirstConvIm2colRow)->ArgNames({"isa"})->Arg(static_cast<int>(Isa::kAvx512Vnni));

constexpr int kRowTiles = 640 / engine::kWinogradTile;
constexpr std::size_t kRowTileStride = kRowTiles + 16;

// The Winograd F(4,3) input transform of one 640-pixel row: args = ISA, channels.
void BM_F32WinogradInputRow(benchmark::State& state) {
  const std::optional<engine::F32Kernels> kernels = kernels_for(state);
  if (!kernels) return;
  const engine::F32WinogradConfig& config = *kernels->winograd;
  const int channels = static_cast<int>(state.range(1));
  const std::vector<float> in = random_values(channels * engine::kWinogradTile * kRowTileStride);
  std::vector<float> out(channels * engine::kWinogradPoints * kRowTileStride);
  engine::F32WinogradInputArgs args{};
  args.in = in.data();
  args.out = out.data();
  args.tile_stride = kRowTileStride;
  args.channels = channels;
  args.tile_begin = 8;
  args.tile_count = kRowTiles;
  time_kernel(state, config.input_name, config.input, args, out);
  state.SetItemsProcessed(state.iterations() * 640 * channels);
}
BENCHMARK(BM_F32WinogradInputRow)
    ->ArgNames({"isa", "channels"})
    ->Args({kAvx512, 32})
    ->Args({kAvx2, 32})
    ->Args({kScalar, 32});

// One 640-pixel output row of a 3x3 conv in Winograd F(4,3) from transformed input rows (output
// transform included): args = ISA, in channels, out channels.
void BM_F32WinogradConvRow(benchmark::State& state) {
  const std::optional<engine::F32Kernels> kernels = kernels_for(state);
  if (!kernels) return;
  const engine::F32WinogradConfig& config = *kernels->winograd;
  const int in_channels = static_cast<int>(state.range(1));
  const int out_channels = static_cast<int>(state.range(2));
  const std::size_t row = in_channels * engine::kWinogradPoints * kRowTileStride;
  const std::vector<float> input = random_values(3 * row);
  Conv2d conv = Conv2d::zeros(in_channels, out_channels, 3);
  conv.weight = random_values(conv.weight.size());
  const engine::PackedConv3x3 packed = engine::pack_conv3x3(conv, true, config);
  std::vector<float> out(packed.padded_out_channels * engine::kWinogradTile * kRowTileStride);
  std::vector<float> scratch(engine::kWinogradPoints * packed.padded_out_channels *
                             config.chunk_tiles);
  engine::F32WinogradConvArgs args{};
  for (int k = 0; k < 3; ++k) args.rows[k] = input.data() + k * row;
  args.tile_stride = kRowTileStride;
  args.in_channels = in_channels;
  args.weights = packed.weights.data();
  args.bias = packed.bias.data();
  args.out_channels = packed.padded_out_channels;
  args.out = out.data();
  args.tile_begin = 8;
  args.tile_count = kRowTiles;
  args.clamp = true;
  args.scratch = scratch.data();
  time_kernel(state, config.name, config.conv, args, out);
  set_flop_rate(state, "effective FLOP/s", 2.0 * 640 * out_channels * in_channels * 9);
  set_flop_rate(state, "FLOP/s",
                2.0 * kRowTiles * engine::kWinogradPoints * out_channels * in_channels * 3);
}
BENCHMARK(BM_F32WinogradConvRow)
    ->ArgNames({"isa", "in", "out"})
    ->Args({kAvx512, 32, 32})
    ->Args({kAvx512, 32, 12})
    ->Args({kAvx2, 32, 32})
    ->Args({kAvx2, 32, 12})
    ->Args({kScalar, 32, 32});

// QuickSRNet-Small x2 end to end, interleaved RGB in and out: args = width, height, threads.
void BM_EngineSmallX2(benchmark::State& state) {
  const int width = static_cast<int>(state.range(0));
  const int height = static_cast<int>(state.range(1));
  const Engine engine = Engine::create(small_x2(), {.threads = static_cast<int>(state.range(2))});
  const std::vector<float> input = random_values(3ull * width * height);
  std::vector<float> output(3ull * engine.output_width(width) * engine.output_height(height));
  state.SetLabel(engine.kernel_names());
  for (auto _ : state) engine.run(input.data(), width, height, output.data());
  set_flop_rate(state, "effective FLOP/s", 2.0 * small_x2().macs_per_pixel() * width * height);
}

// The same network on oneDNN's convolution primitives.
void BM_OneDnnSmallX2(benchmark::State& state) {
  const int width = static_cast<int>(state.range(0));
  const int height = static_cast<int>(state.range(1));
  engine::OneDnnNetwork network(small_x2(), width, height, static_cast<int>(state.range(2)));
  const std::vector<float> input = random_values(3ull * width * height);
  std::vector<float> output(12ull * width * height);
  for (auto _ : state) network.run(input.data(), output.data());
  set_flop_rate(state, "FLOP/s", 2.0 * small_x2().macs_per_pixel() * width * height);
}

// Small x2 with per-channel s8 weights and the [0, 1] encodings of ReLU1 outputs (scale 1/255,
// zero point 0) everywhere: the INT8 cases' network.
const QuantizedQuickSRNet& small_x2_int8() {
  static const QuantizedQuickSRNet net = [] {
    ActivationEncodings encodings;
    encodings.features.assign(small_x2().config.blocks + 1, ActivationEncoding{});
    return quant::quantize_weights(small_x2(), encodings, WeightGranularity::kPerChannel);
  }();
  return net;
}

std::vector<std::uint8_t> random_bytes(std::size_t count) {
  std::mt19937 rng(3);
  std::vector<std::uint8_t> bytes(count);
  for (std::uint8_t& v : bytes) v = static_cast<std::uint8_t>(rng());
  return bytes;
}

// The INT8 engine end to end, 8-bit interleaved RGB in and out: args = width, height, threads.
void BM_Int8EngineSmallX2(benchmark::State& state) {
  const int width = static_cast<int>(state.range(0));
  const int height = static_cast<int>(state.range(1));
  const Engine engine =
      Engine::create(small_x2_int8(), {.threads = static_cast<int>(state.range(2))});
  const std::vector<std::uint8_t> input = random_bytes(3ull * width * height);
  std::vector<std::uint8_t> output(3ull * engine.output_width(width) *
                                   engine.output_height(height));
  state.SetLabel(engine.kernel_names());
  for (auto _ : state) engine.run(input.data(), width, height, output.data());
  set_flop_rate(state, "OP/s", 2.0 * small_x2().macs_per_pixel() * width * height);
}

// The same INT8 network on oneDNN's u8s8 convolution primitives.
void BM_OneDnnInt8SmallX2(benchmark::State& state) {
  const int width = static_cast<int>(state.range(0));
  const int height = static_cast<int>(state.range(1));
  engine::OneDnnNetwork network(small_x2_int8(), width, height, static_cast<int>(state.range(2)));
  const std::vector<std::uint8_t> input = random_bytes(3ull * width * height);
  std::vector<std::uint8_t> output(12ull * width * height);
  for (auto _ : state) network.run(input.data(), output.data());
  set_flop_rate(state, "OP/s", 2.0 * small_x2().macs_per_pixel() * width * height);
}

#define FRAME_SIZES               \
  ArgNames({"w", "h", "threads"}) \
      ->Args({640, 360, 1})       \
      ->Args({640, 360, 2})       \
      ->Args({960, 540, 1})       \
      ->Args({960, 540, 2})       \
      ->UseRealTime()             \
      ->Unit(benchmark::kMillisecond)
BENCHMARK(BM_EngineSmallX2)->FRAME_SIZES;
BENCHMARK(BM_OneDnnSmallX2)->FRAME_SIZES;
BENCHMARK(BM_Int8EngineSmallX2)->FRAME_SIZES;
BENCHMARK(BM_OneDnnInt8SmallX2)->FRAME_SIZES;

// Upscaler's frame-buffer call (the C API's quicksr_upscale) on 960x540 frames at 2 threads,
// against the engine alone above (BM_EngineSmallX2, BM_Int8EngineSmallX2 at the same size) and
// upscale(Image) on interleaved float images: args = format, int8.
Upscaler small_x2_upscaler(bool int8) {
  Model model;
  if (int8) {
    model.net = small_x2_int8();
  } else {
    model.net = small_x2();
  }
  return Upscaler::from_model(std::move(model), {.threads = 2});
}

constexpr int kFrameWidth = 960, kFrameHeight = 540;

void BM_FrameBufferSmallX2(benchmark::State& state) {
  const auto format = static_cast<PixelFormat>(state.range(0));
  const Upscaler upscaler = small_x2_upscaler(state.range(1) != 0);
  const std::size_t bytes = pixel_layout(format).pixel_bytes();
  std::vector<std::uint8_t> input = random_bytes(bytes * kFrameWidth * kFrameHeight);
  if (bytes == 4) {  // an opaque frame, as games render them
    for (std::size_t i = 3; i < input.size(); i += 4) input[i] = 255;
  }
  const int out_width = upscaler.output_length(kFrameWidth);
  const int out_height = upscaler.output_length(kFrameHeight);
  std::vector<std::uint8_t> output(bytes * out_width * out_height);
  for (auto _ : state) {
    upscaler.upscale({input.data(), kFrameWidth, kFrameHeight, bytes * kFrameWidth, format},
                     {output.data(), out_width, out_height, bytes * out_width, format});
  }
}
BENCHMARK(BM_FrameBufferSmallX2)
    ->ArgNames({"format", "int8"})
    ->ArgsProduct({{static_cast<int>(PixelFormat::kRgb8), static_cast<int>(PixelFormat::kBgra8)},
                   {0, 1}})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

void BM_ImagePathSmallX2(benchmark::State& state) {
  const Upscaler upscaler = small_x2_upscaler(state.range(0) != 0);
  Image image;
  image.width = kFrameWidth;
  image.height = kFrameHeight;
  image.rgb = random_values(3ull * kFrameWidth * kFrameHeight);
  for (auto _ : state) benchmark::DoNotOptimize(upscaler.upscale(image));
}
BENCHMARK(BM_ImagePathSmallX2)
    ->ArgNames({"int8"})
    ->Arg(0)
    ->Arg(1)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

// A peak of the instruction the kernels of an ISA level use (fp32: the FMA of their vector width;
// INT8: their dot product): args = ISA, threads.
template <engine::Peak (*kMeasure)(Isa, int)>
void BM_Peak(benchmark::State& state) {
  const Isa isa = static_cast<Isa>(state.range(0));
  if (!cpu_supports(isa)) {
    state.SkipWithError("this CPU lacks the instruction set");
    return;
  }
  engine::Peak peak;
  for (auto _ : state) peak = kMeasure(isa, static_cast<int>(state.range(1)));
  state.SetLabel(peak.kind);
  state.counters["GOP/s"] = peak.gops;
}
BENCHMARK_TEMPLATE(BM_Peak, engine::measure_f32_peak)
    ->ArgNames({"isa", "threads"})
    ->ArgsProduct({{static_cast<int>(Isa::kAvx512), static_cast<int>(Isa::kAvx2Fma)}, {1, 2}})
    ->Iterations(3)
    ->Unit(benchmark::kMillisecond);
BENCHMARK_TEMPLATE(BM_Peak, engine::measure_int8_peak)
    ->ArgNames({"isa", "threads"})
    ->ArgsProduct({{static_cast<int>(Isa::kAvx512Vnni), static_cast<int>(Isa::kAvxVnni),
                    static_cast<int>(Isa::kAvx2Fma)},
                   {1, 2}})
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
