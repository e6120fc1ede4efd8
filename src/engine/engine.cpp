#include "quicksr/engine.hpp"

#include <algorithm>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "engine/band_pipeline.hpp"
#include "engine/band_runner.hpp"
#include "engine/graph_plan.hpp"
#include "engine/graph_runner.hpp"
#include "engine/kernels/kernels.hpp"
#include "engine/plan.hpp"
#include "engine/qu8_band_runner.hpp"
#include "engine/qu8_graph_plan.hpp"
#include "engine/qu8_graph_runner.hpp"
#include "engine/qu8_plan.hpp"
#include "engine/thread_pool.hpp"
#include "quicksr/error.hpp"

namespace quicksr {

namespace {

// Splits [0, size) into `parts` ranges with boundaries on multiples of `align`.
int split_point(int size, int parts, int part, int align) {
  const int units = (size + align - 1) / align;
  return std::min(size, static_cast<int>(static_cast<long long>(units) * part / parts) * align);
}

// The ISA to run: EngineOptions::isa, else QUICKSR_ISA, else the best the CPU has.
Isa choose_isa(const EngineOptions& options) {
  const char* env = std::getenv("QUICKSR_ISA");
  if (!options.isa && (env == nullptr || *env == '\0')) return best_isa();
  const std::string source = options.isa ? "EngineOptions::isa" : "QUICKSR_ISA";
  Isa isa = Isa::kScalar;
  try {
    isa = options.isa ? *options.isa : parse_isa(env);
  } catch (const Error& e) {
    throw Error("engine: " + source + ": " + e.what());
  }
  if (!cpu_supports(isa)) {
    throw Error("engine: " + source + " asks for the " + std::string(isa_name(isa)) +
                " kernels but this CPU lacks that instruction set (best here: " +
                std::string(isa_name(best_isa())) + ")");
  }
  return isa;
}

}  // namespace

void check_thread_count(int threads) {
  if (threads < 0 || threads > kMaxThreads) {
    throw ArgumentError("threads must be in 0.." + std::to_string(kMaxThreads) + " (0: all cores)");
  }
}

namespace {

int thread_count(const EngineOptions& options) {
  check_thread_count(options.threads);
  if (options.max_strip_width < engine::kStripAlignment) {
    throw Error("engine: max_strip_width must be at least " +
                std::to_string(engine::kStripAlignment));
  }
  if (options.graph_band_rows < 0) throw Error("engine: graph_band_rows must be 0 or more");
  return options.threads > 0 ? options.threads
                             : std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
}

// Multiply-adds per pixel of the plan's 3x3 convs, run directly.
double conv3x3_macs(const engine::Plan& plan) {
  double macs = 0.0;
  for (const engine::PackedConv3x3& conv : plan.convs)
    macs += 9.0 * conv.in_channels * conv.out_channels;
  return macs;
}

// What Winograd F(4,3) saves of that: half of each 3x3 conv it runs.
double winograd_saved_macs(const engine::Plan& plan) {
  double saved = 0.0;
  for (const engine::PackedConv3x3& conv : plan.convs) {
    if (conv.algorithm == engine::ConvAlgorithm::kWinogradF43) {
      saved += 9.0 / 2.0 * conv.in_channels * conv.out_channels;
    }
  }
  return saved;
}

// Band runners are kept between runs (at most one per worker): allocating and clearing their
// workspaces for every frame costs page faults, ~10 % of a 960x540 frame on a virtual machine.
template <typename Runner>
class RunnerCache {
 public:
  // Runs `use(runner)` on an idle runner, or on a new one from `make()` when none is idle.
  template <typename Make, typename Use>
  void with_runner(const Make& make, const Use& use) const {
    std::unique_ptr<Runner> runner;
    {
      std::lock_guard lock(mutex_);
      if (!idle_.empty()) {
        runner = std::move(idle_.back());
        idle_.pop_back();
      }
    }
    if (!runner) runner = make();
    use(*runner);
    std::lock_guard lock(mutex_);
    idle_.push_back(std::move(runner));
  }

 private:
  mutable std::mutex mutex_;
  mutable std::vector<std::unique_ptr<Runner>> idle_;
};

}  // namespace

// An fp32 engine (plan, kernels; graph_plan for general graphs) or an INT8 one (qu8_plan,
// qu8_conv, qu8_im2col, qu8_depth_to_space, qu8_input_row; qu8_graph_plan for general INT8
// graphs).
struct Engine::Impl {
  Isa isa;
  int max_strip_width;
  int strip_alignment;  // strip boundaries are multiples of it
  double executed_macs_per_pixel = 0.0;
  std::optional<engine::Plan> plan;
  engine::F32Kernels kernels{};
  RunnerCache<engine::BandRunner> runners;
  std::optional<engine::QU8Plan> qu8_plan;
  const engine::QU8Conv3x3Config* qu8_conv = nullptr;
  const engine::QU8Im2colConfig* qu8_im2col = nullptr;  // when qu8_conv->first_conv_im2col
  const engine::QU8DepthToSpaceConfig* qu8_depth_to_space = nullptr;
  const engine::QU8InputRowConfig* qu8_input_row = nullptr;
  const engine::QU8LutConfig* qu8_lut = nullptr;  // general INT8 graphs' tables
  const engine::QU8AddConfig* qu8_add = nullptr;  // and their adds
  RunnerCache<engine::QU8BandRunner> qu8_runners;
  std::optional<engine::QU8GraphPlan> qu8_graph_plan;
  mutable std::unique_ptr<engine::QU8GraphRunner> qu8_graph_runner;
  std::optional<engine::GraphPlan> graph_plan;
  mutable std::mutex graph_mutex;  // one graph run at a time (either kind): all workers per step
  mutable std::unique_ptr<engine::GraphRunner> graph_runner;
  int graph_band_rows = 0;
  mutable int graph_width = 0;   // the last graph run's input width
  mutable int graph_height = 0;  // and height (ERFDN's rings depend on it)
  mutable engine::ThreadPool pool;

  Impl(Isa chosen, int threads, int strip_width, int alignment)
      : isa(chosen), max_strip_width(strip_width), strip_alignment(alignment), pool(threads) {}

  bool half_scale() const { return plan ? plan->half_scale : qu8_plan->half_scale; }
  bool runs_graph() const { return graph_plan || qu8_graph_plan; }
  int output_size(int size) const {
    if (graph_plan) return size * graph_plan->scale;
    if (qu8_graph_plan) return size * qu8_graph_plan->scale;
    return plan ? plan->output_size(size) : qu8_plan->output_size(size);
  }
  // Runners are made for the widest strip, so that any run can reuse them.
  int runner_strip_width() const { return max_strip_width + strip_alignment; }
  template <typename T>
  void run(const RgbView<const T>& input, const RgbView<T>& output) const;
  template <typename T, typename RunRegion>
  void run_regions(const RgbView<const T>& input, const RunRegion& run_region) const;
};

template <typename T>
void Engine::Impl::run(const RgbView<const T>& input, const RgbView<T>& output) const {
  if (runs_graph()) {
    const std::lock_guard lock(graph_mutex);
    if (qu8_graph_plan) {
      qu8_graph_runner->run(input, output, pool);
    } else {
      graph_runner->run(input, output, pool);
    }
    graph_width = input.width;
    graph_height = input.height;
    return;
  }
  if (qu8_plan) {
    const auto make = [&] {
      return std::make_unique<engine::QU8BandRunner>(*qu8_plan, *qu8_conv, *qu8_im2col,
                                                     *qu8_depth_to_space, *qu8_input_row,
                                                     runner_strip_width());
    };
    run_regions(input, [&](const engine::Region& region) {
      qu8_runners.with_runner(
          make, [&](engine::QU8BandRunner& runner) { runner.run(input, output, region); });
    });
  } else {
    const auto make = [&] {
      return std::make_unique<engine::BandRunner>(*plan, kernels, runner_strip_width());
    };
    run_regions(input, [&](const engine::Region& region) {
      runners.with_runner(make,
                          [&](engine::BandRunner& runner) { runner.run(input, output, region); });
    });
  }
}

// One job per (band, strip): one band per thread keeps the recomputed row halo to a minimum.
template <typename T, typename RunRegion>
void Engine::Impl::run_regions(const RgbView<const T>& input, const RunRegion& run_region) const {
  const int row_align = half_scale() ? 2 : 1;
  const int net_width = input.width + (row_align == 2 ? input.width & 1 : 0);
  const int net_height = input.height + (row_align == 2 ? input.height & 1 : 0);
  const int bands = std::min(pool.size(), (net_height + row_align - 1) / row_align);
  const int strips = (net_width + max_strip_width - 1) / max_strip_width;
  pool.run(bands * strips, [&](int job) {
    const int band = job / strips;
    const int strip = job % strips;
    engine::Region region;
    region.row_begin = split_point(net_height, bands, band, row_align);
    region.row_end = split_point(net_height, bands, band + 1, row_align);
    region.col_begin = split_point(net_width, strips, strip, strip_alignment);
    region.col_end = split_point(net_width, strips, strip + 1, strip_alignment);
    if (region.row_begin >= region.row_end || region.col_begin >= region.col_end) return;
    run_region(region);
  });
}

Engine::Engine(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Engine::~Engine() = default;
Engine::Engine(Engine&&) noexcept = default;
Engine& Engine::operator=(Engine&&) noexcept = default;

Engine Engine::create(const QuickSRNet& net, const EngineOptions& options) {
  const Isa isa = choose_isa(options);
  auto impl = std::make_unique<Impl>(isa, thread_count(options), options.max_strip_width,
                                     engine::kStripAlignment);
  impl->kernels = engine::f32_kernels(isa);
  impl->plan = engine::make_plan(net, impl->kernels);
  impl->executed_macs_per_pixel = net.macs_per_pixel() - winograd_saved_macs(*impl->plan);
  return Engine(std::move(impl));
}

namespace {

// An INT8 engine with the kernels of the chosen ISA, its plan not made yet.
std::unique_ptr<Engine::Impl> int8_impl(const EngineOptions& options) {
  const Isa isa = choose_isa(options);
  auto impl = std::make_unique<Engine::Impl>(isa, thread_count(options), options.max_strip_width,
                                             engine::kQu8ColumnBlock);
  impl->qu8_conv = &engine::qu8_conv3x3_config(isa);
  impl->qu8_im2col = &engine::qu8_im2col_config(isa);
  impl->qu8_depth_to_space = &engine::qu8_depth_to_space_config(isa);
  impl->qu8_input_row = &engine::qu8_input_row_config(isa);
  impl->qu8_lut = &engine::qu8_lut_config(isa);
  impl->qu8_add = &engine::qu8_add_config(isa);
  return impl;
}

}  // namespace

Engine Engine::create(const QuantizedQuickSRNet& net, const EngineOptions& options) {
  std::unique_ptr<Impl> impl = int8_impl(options);
  impl->qu8_plan = engine::make_qu8_plan(net, *impl->qu8_conv);
  // Every INT8 conv runs directly: all of the model's multiply-adds.
  impl->executed_macs_per_pixel = QuickSRNet::zeros(net.config).macs_per_pixel();
  return Engine(std::move(impl));
}

// An ABPN-like chain runs on the band pipeline, any other graph the INT8 engine takes on the
// general-graph path.
std::optional<std::string> int8_graph_unsupported_reason(const QuantizedGraph& net) {
  if (!engine::qu8_chain_unsupported_reason(net)) return std::nullopt;
  return engine::qu8_graph_unsupported_reason(net);
}

Engine Engine::create(const QuantizedGraph& net, const EngineOptions& options) {
  std::unique_ptr<Impl> impl = int8_impl(options);
  if (engine::qu8_chain_unsupported_reason(net)) {
    impl->qu8_graph_plan = engine::make_qu8_graph_plan(net, *impl->qu8_conv);
    impl->qu8_graph_runner = std::make_unique<engine::QU8GraphRunner>(
        *impl->qu8_graph_plan, *impl->qu8_conv, *impl->qu8_depth_to_space, *impl->qu8_input_row,
        *impl->qu8_lut, *impl->qu8_add, options.graph_band_rows);
    impl->graph_band_rows = options.graph_band_rows;
    impl->executed_macs_per_pixel = impl->qu8_graph_plan->macs_per_pixel;
    return Engine(std::move(impl));
  }
  impl->qu8_plan = engine::make_qu8_chain_plan(net, *impl->qu8_conv);
  for (const engine::QU8PackedConv& conv : impl->qu8_plan->convs) {
    impl->executed_macs_per_pixel += 9.0 * conv.in_channels * conv.out_channels;
  }
  return Engine(std::move(impl));
}

std::optional<std::string> graph_unsupported_reason(const Graph& graph) {
  return engine::unsupported_reason(graph);
}

Engine Engine::create(const Graph& graph, const EngineOptions& options) {
  const Isa isa = choose_isa(options);
  auto impl = std::make_unique<Impl>(isa, thread_count(options), options.max_strip_width,
                                     engine::kStripAlignment);
  impl->kernels = engine::f32_kernels(isa);
  // A QuickSRNet-like chain (ABPN) runs on the band pipeline, every other graph step by step.
  if (std::optional<engine::Plan> chain = engine::make_chain_plan(graph, impl->kernels)) {
    impl->plan = std::move(chain);
    impl->executed_macs_per_pixel = conv3x3_macs(*impl->plan) - winograd_saved_macs(*impl->plan);
    return Engine(std::move(impl));
  }
  impl->graph_plan = engine::make_graph_plan(graph, impl->kernels);
  impl->graph_runner = std::make_unique<engine::GraphRunner>(*impl->graph_plan, impl->kernels,
                                                             options.graph_band_rows);
  impl->graph_band_rows = options.graph_band_rows;
  impl->executed_macs_per_pixel = impl->graph_plan->macs_per_pixel;
  return Engine(std::move(impl));
}

void Engine::run(const float* rgb_in, int width, int height, float* rgb_out) const {
  const int out_width = output_width(width);
  run(RgbView<const float>{rgb_in, 3LL * width, 3, 1, width, height},
      RgbView<float>{rgb_out, 3LL * out_width, 3, 1, out_width, output_height(height)});
}

void Engine::run(const std::uint8_t* rgb_in, int width, int height, std::uint8_t* rgb_out) const {
  const int out_width = output_width(width);
  run(RgbView<const std::uint8_t>{rgb_in, 3LL * width, 3, 1, width, height},
      RgbView<std::uint8_t>{rgb_out, 3LL * out_width, 3, 1, out_width, output_height(height)});
}

namespace {

template <typename T>
void check_sizes(const Engine& engine, const RgbView<const T>& input, const RgbView<T>& output) {
  if (input.width < 1 || input.height < 1) {
    throw Error("engine: image size " + std::to_string(input.width) + "x" +
                std::to_string(input.height) + " is empty");
  }
  const int width = engine.output_width(input.width);
  const int height = engine.output_height(input.height);
  if (output.width != width || output.height != height) {
    throw Error("engine: the output of a " + std::to_string(input.width) + "x" +
                std::to_string(input.height) + " image is " + std::to_string(width) + "x" +
                std::to_string(height) + ", not " + std::to_string(output.width) + "x" +
                std::to_string(output.height));
  }
}

}  // namespace

void Engine::run(const RgbView<const float>& input, const RgbView<float>& output) const {
  check_sizes(*this, input, output);
  impl_->run(input, output);
}

void Engine::run(const RgbView<const std::uint8_t>& input,
                 const RgbView<std::uint8_t>& output) const {
  check_sizes(*this, input, output);
  impl_->run(input, output);
}

Tensor Engine::run(const Tensor& chw) const {
  if (chw.channels != 3 || chw.width < 1 || chw.height < 1) {
    throw Error("engine: expected a 3xHxW RGB tensor, got " + std::to_string(chw.channels) + "x" +
                std::to_string(chw.height) + "x" + std::to_string(chw.width));
  }
  Tensor out(3, output_height(chw.height), output_width(chw.width));
  const RgbView<const float> input{
      chw.data.data(), chw.width, 1, static_cast<std::ptrdiff_t>(chw.width) * chw.height,
      chw.width,       chw.height};
  const RgbView<float> output{
      out.data.data(), out.width, 1, static_cast<std::ptrdiff_t>(out.width) * out.height,
      out.width,       out.height};
  impl_->run(input, output);
  return out;
}

int Engine::output_width(int width) const { return impl_->output_size(width); }
int Engine::output_height(int height) const { return impl_->output_size(height); }
int Engine::threads() const { return impl_->pool.size(); }
Precision Engine::precision() const {
  return impl_->qu8_plan || impl_->qu8_graph_plan ? Precision::kInt8 : Precision::kFp32;
}
Isa Engine::isa() const { return impl_->isa; }
std::string Engine::kernel_names() const {
  if (impl_->qu8_graph_plan) {
    return std::string(impl_->qu8_conv->name) + ", " + impl_->qu8_input_row->name + ", " +
           impl_->qu8_depth_to_space->name + ", " + impl_->qu8_lut->name + ", " +
           impl_->qu8_add->name;
  }
  if (impl_->qu8_plan) {
    // The depth-to-space kernel serves integer scales without an anchor (8-bit output).
    const engine::QU8Plan& plan = *impl_->qu8_plan;
    const bool depth_to_space = !plan.half_scale && !plan.anchor;
    return std::string(impl_->qu8_conv->name) + ", " + impl_->qu8_input_row->name +
           (plan.convs.front().im2col ? std::string(", ") + impl_->qu8_im2col->name : "") +
           (depth_to_space ? std::string(", ") + impl_->qu8_depth_to_space->name : "");
  }
  const engine::F32Kernels& k = impl_->kernels;
  if (impl_->graph_plan) return std::string(k.direct->name) + ", " + k.conv->name;
  return std::string(k.direct->name) + ", " + k.winograd->input_name + ", " + k.winograd->name +
         ", " + k.tail->name;
}

double Engine::executed_macs_per_pixel() const { return impl_->executed_macs_per_pixel; }
std::string Engine::path_name() const {
  return impl_->runs_graph() ? "general-graph path" : "band pipeline";
}

std::size_t Engine::workspace_bytes() const {
  if (impl_->runs_graph()) {
    const std::lock_guard lock(impl_->graph_mutex);
    return impl_->graph_width == 0 ? 0 : workspace_bytes(impl_->graph_width, impl_->graph_height);
  }
  const int strip_width = impl_->runner_strip_width();
  return static_cast<std::size_t>(impl_->pool.size()) *
         (impl_->qu8_plan
              ? engine::QU8BandRunner::workspace_bytes(*impl_->qu8_plan, strip_width)
              : engine::BandRunner::workspace_bytes(*impl_->plan, impl_->kernels, strip_width));
}

// General graphs: every thread's rings (bands of graph_band_rows rows), whatever the height
// (ERFDN: sized for the height, bounded over heights).
std::size_t Engine::workspace_bytes(int width, int height) const {
  if (impl_->graph_plan) {
    return engine::GraphRunner::workspace_bytes(*impl_->graph_plan, width, height,
                                                impl_->graph_band_rows, impl_->pool.size());
  }
  if (impl_->qu8_graph_plan) {
    return engine::QU8GraphRunner::workspace_bytes(*impl_->qu8_graph_plan, width, height,
                                                   impl_->graph_band_rows, impl_->pool.size());
  }
  return workspace_bytes();
}

// What each path's own band loop reads beyond a band: the general graphs' rows derived through
// their steps, the band pipeline's input rows.
int Engine::halo_rows() const {
  if (impl_->graph_plan) return impl_->graph_plan->bands.halo_rows();
  if (impl_->qu8_graph_plan) return impl_->qu8_graph_plan->bands.halo_rows();
  return engine::input_halo_rows(impl_->plan ? impl_->plan->conv_count()
                                             : impl_->qu8_plan->conv_count());
}

}  // namespace quicksr
