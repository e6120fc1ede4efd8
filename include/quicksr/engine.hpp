#pragma once
// The fast fp32 CPU inference engine for QuickSRNet (every f, m, scale, with or without anchor).
//
//   auto engine = quicksr::Engine::create(net, {.threads = 2});
//   engine.run(rgb_in, width, height, rgb_out);  // interleaved RGB floats in [0,1]
//
// The image flows through all layers in bands of rows (and strips of columns for wide images),
// with the halo recomputed, so the workspace is bounded by the model and the thread count, never
// by the image size, and the output is bit-identical whatever the band layout or thread count.
// Kernels are chosen at run time from the CPU's instruction sets (CPUID), or forced with
// EngineOptions::isa or the QUICKSR_ISA environment variable.
//
// Thread safety: run() is const and may be called from several threads at once; calls share the
// engine's worker pool, so concurrent calls are serialised rather than run side by side.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "quicksr/model.hpp"
#include "quicksr/tensor.hpp"

namespace quicksr {

// Instruction-set levels the engine dispatches on, from the CPU's features (each level includes
// the ones it names): portable C++; AVX2+FMA; AVX2+FMA+AVX-VNNI (256-bit vpdpbusd);
// AVX-512F/BW/VL/DQ (+ AVX2+FMA); AVX-512 + AVX-512 VNNI.
enum class Isa { kScalar, kAvx2Fma, kAvxVnni, kAvx512, kAvx512Vnni };

// Every level, best first.
inline constexpr Isa kAllIsas[] = {Isa::kAvx512Vnni, Isa::kAvx512, Isa::kAvxVnni, Isa::kAvx2Fma,
                                   Isa::kScalar};
// "scalar", "avx2", "avxvnni", "avx512", "avx512vnni" (the QUICKSR_ISA values).
std::string_view isa_name(Isa isa);
// Throws quicksr::Error naming the valid values when `name` is none of them.
Isa parse_isa(std::string_view name);
// True when this CPU (and OS) can run code of level `isa`.
bool cpu_supports(Isa isa);
// The best level this CPU supports.
Isa best_isa();

enum class Precision { kFp32, kInt8 };

// RGB samples anywhere in memory: colour c (0 red, 1 green, 2 blue) of pixel (x, y) at
// data[y * row_step + x * pixel_step + c * channel_step], steps in elements. Interleaved RGB:
// steps (3 * width, 3, 1); planar: (width, 1, width * height); an RGBA frame buffer: pixel_step 4;
// BGR(A): data at the red sample and channel_step -1.
template <typename T>
struct RgbView {
  T* data = nullptr;
  std::ptrdiff_t row_step = 0;
  std::ptrdiff_t pixel_step = 0;
  std::ptrdiff_t channel_step = 0;
  int width = 0;
  int height = 0;

  T& at(int y, int x, int c) const {
    return data[y * row_step + x * pixel_step + c * channel_step];
  }
};

// More threads than this are refused (ArgumentError): starting them could exhaust the process's
// thread limit, and no CPU has that many cores to use.
inline constexpr int kMaxThreads = 1024;
// Throws quicksr::ArgumentError unless 0 <= threads <= kMaxThreads (0: all cores).
void check_thread_count(int threads);

struct EngineOptions {
  int threads = 0;  // 0: all cores, else 1..kMaxThreads
  // Images wider than this run in strips of at most this many columns (with a column halo), which
  // bounds the workspace; narrower ones run in one strip. The output does not depend on it.
  int max_strip_width = 1024;
  // The general-graph paths (XLSR, SESR, ESPCN, FSRCNN...) run in bands of this many input rows
  // per step of each thread's band loop: with the graphs' receptive-field halo it sets their
  // workspace (never the image height). The output does not depend on it. 0: 2 rows, or 16 where
  // the threads walk one image's bands together (ERFDN), meeting at a barrier after each step.
  int graph_band_rows = 0;
  // Forces an instruction-set level (tests and benchmarks); unset: the QUICKSR_ISA environment
  // variable when set, else the best level the CPU supports.
  std::optional<Isa> isa;
};

// Why Engine::create cannot run `graph` (e.g. "node 'deconv' is ConvTranspose"), or nothing when
// it can. Throws quicksr::Error when the graph itself is invalid.
std::optional<std::string> graph_unsupported_reason(const Graph& graph);

// Why Engine::create cannot run the INT8 graph `net` (the INT8 engine runs ABPN-like 3x3 conv
// chains: with or without the repeated-input residual), or nothing when it can. Throws
// quicksr::Error when `net` fails QuantizedGraph::check().
std::optional<std::string> int8_graph_unsupported_reason(const QuantizedGraph& net);

class Engine {
 public:
  // Throws quicksr::Error when `net` fails QuickSRNet::check(), or the forced ISA (options or
  // QUICKSR_ISA) is unknown or unsupported by this CPU.
  static Engine create(const QuickSRNet& net, const EngineOptions& options = {});
  // The INT8 engine: output bit-identical to quicksr::quant::forward (docs/quantization.md).
  static Engine create(const QuantizedQuickSRNet& net, const EngineOptions& options = {});
  // A general SR graph (the baselines, docs/baselines.md): stride-1 convs of any kernel size
  // and groups, ReLU / Clip / PReLU / LeakyReLU / Sigmoid / Tanh, add, concat and
  // depth-to-space at an integer scale, in bands of rows (docs/engine.md). Throws
  // quicksr::Error with graph_unsupported_reason() for other graphs.
  static Engine create(const Graph& graph, const EngineOptions& options = {});
  // An INT8 graph (`quicksr quantize` of a baseline): output bit-identical to
  // quicksr::quant::forward(QuantizedGraph) on the INT8 band pipeline. Throws quicksr::Error with
  // int8_graph_unsupported_reason() for graphs it cannot run.
  static Engine create(const QuantizedGraph& net, const EngineOptions& options = {});
  ~Engine();
  Engine(Engine&&) noexcept;
  Engine& operator=(Engine&&) noexcept;

  // Interleaved RGB (rgb[(y * width + x) * 3 + c]) in, interleaved RGB of output_width() x
  // output_height() out. The buffers must not overlap.
  void run(const float* rgb_in, int width, int height, float* rgb_out) const;
  // Planar 3xHxW in, planar 3 x output_height x output_width out.
  Tensor run(const Tensor& chw) const;
  // 8-bit interleaved RGB in and out. INT8 engines compute on the samples (the quantized input
  // and output themselves when their encodings are the usual scale 1/255, zero point 0; their
  // float runs quantize the input with the input encoding and dequantize the output). fp32
  // engines convert rows as they read and write them: the float run's output for v / 255 in,
  // rounded to nearest (clamped to [0, 1]), as the image writers round.
  void run(const std::uint8_t* rgb_in, int width, int height, std::uint8_t* rgb_out) const;
  // The same on views (frame buffers with padded rows, RGBA or BGR pixels): `output` is
  // output_width() x output_height() of `input`; only its colour samples are written. The views
  // must not overlap. Throws quicksr::Error on other sizes.
  void run(const RgbView<const float>& input, const RgbView<float>& output) const;
  void run(const RgbView<const std::uint8_t>& input, const RgbView<std::uint8_t>& output) const;

  // floor(scale * size): x1.5 crops odd sizes (edge-replicated to even inside the network).
  int output_width(int width) const;
  int output_height(int height) const;

  int threads() const;
  Precision precision() const;
  Isa isa() const;
  // The micro-kernels in use, e.g. "f32-conv3x3/4x24-avx2-fma, f32-winograd-f43-conv/...".
  std::string kernel_names() const;
  // Multiply-adds per input pixel the kernels really execute (real channels): the model's
  // QuickSRNet::macs_per_pixel() less what Winograd F(4,3) saves (half of each 3x3 conv it runs).
  double executed_macs_per_pixel() const;
  // How run() computes: "band pipeline" (rows streamed through all layers at once: QuickSRNet, and
  // general graphs that are a QuickSRNet-like conv chain such as ABPN) or "general-graph path"
  // (the graph's steps one after the other, band by band over rings of rows).
  std::string path_name() const;
  // Extra memory one run() allocates, whatever the image size: the per-thread band buffers.
  // The general-graph path: those of the last run's width (0 before the first run).
  std::size_t workspace_bytes() const;
  // The workspace of a run on a width x height image (QuickSRNet engines: workspace_bytes());
  // it does not depend on the height, except for graphs whose row maps do (ERFDN's ESA: sized
  // for each height, bounded over heights).
  std::size_t workspace_bytes(int width, int height) const;
  // Input rows above and below a band of input rows that the band's output depends on, exactly
  // (the receptive field, derived from the plan: one row per 3x3 conv of a QuickSRNet or a conv
  // chain, a general graph's convs and depth-to-spaces), so a band run with this halo around it
  // gives the whole image's output rows. For x1.5 the band and the rows run must start on even
  // rows (the network pairs rows). 0 for a graph whose output rows depend on the whole image
  // (ERFDN: its ESA pools on a grid and resizes by a ratio that the image's size sets, so no crop
  // gives the whole image's rows): callers that cut images into crops run it whole.
  int halo_rows() const;

  struct Impl;

 private:
  explicit Engine(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace quicksr
