#include "quicksr/engine.hpp"

#include <algorithm>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "engine/band_runner.hpp"
#include "engine/kernels/kernels.hpp"
#include "engine/plan.hpp"
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

struct Engine::Impl {
  engine::Plan plan;
  Isa isa;
  engine::F32Kernels kernels;
  int max_strip_width;
  double executed_macs_per_pixel;
  mutable engine::ThreadPool pool;

  Impl(const QuickSRNet& net, Isa chosen, int threads, int strip_width)
      : isa(chosen),
        kernels(engine::f32_kernels(chosen)),
        max_strip_width(strip_width),
        executed_macs_per_pixel(net.macs_per_pixel()),
        pool(threads) {
    plan = engine::make_plan(net, kernels);
    for (const engine::PackedConv3x3& conv : plan.convs) {
      if (conv.algorithm == engine::ConvAlgorithm::kWinogradF43) {
        executed_macs_per_pixel -= 9.0 / 2.0 * conv.in_channels * conv.out_channels;
      }
    }
  }

  void run(const engine::RgbView<const float>& input, const engine::RgbView<float>& output) const;

  // Band workspaces are kept between runs (at most one per worker): allocating and clearing them
  // for every frame costs page faults, ~10 % of a 960x540 frame on a virtual machine.
  std::unique_ptr<engine::BandRunner> take_workspace() const;
  void keep_workspace(std::unique_ptr<engine::BandRunner> runner) const;
  mutable std::mutex workspace_mutex;
  mutable std::vector<std::unique_ptr<engine::BandRunner>> idle_workspaces;
};

std::unique_ptr<engine::BandRunner> Engine::Impl::take_workspace() const {
  {
    std::lock_guard lock(workspace_mutex);
    if (!idle_workspaces.empty()) {
      std::unique_ptr<engine::BandRunner> runner = std::move(idle_workspaces.back());
      idle_workspaces.pop_back();
      return runner;
    }
  }
  return std::make_unique<engine::BandRunner>(plan, kernels,
                                              max_strip_width + engine::kStripAlignment);
}

void Engine::Impl::keep_workspace(std::unique_ptr<engine::BandRunner> runner) const {
  std::lock_guard lock(workspace_mutex);
  idle_workspaces.push_back(std::move(runner));
}

// One job per (band, strip): one band per thread keeps the recomputed row halo to a minimum.
void Engine::Impl::run(const engine::RgbView<const float>& input,
                       const engine::RgbView<float>& output) const {
  const int net_width = plan.net_size(input.width);
  const int net_height = plan.net_size(input.height);
  const int row_align = plan.half_scale ? 2 : 1;
  const int bands = std::min(pool.size(), (net_height + row_align - 1) / row_align);
  const int strips = (net_width + max_strip_width - 1) / max_strip_width;
  pool.run(bands * strips, [&](int job) {
    const int band = job / strips;
    const int strip = job % strips;
    engine::Region region;
    region.row_begin = split_point(net_height, bands, band, row_align);
    region.row_end = split_point(net_height, bands, band + 1, row_align);
    region.col_begin = split_point(net_width, strips, strip, engine::kStripAlignment);
    region.col_end = split_point(net_width, strips, strip + 1, engine::kStripAlignment);
    if (region.row_begin >= region.row_end || region.col_begin >= region.col_end) return;
    std::unique_ptr<engine::BandRunner> runner = take_workspace();
    runner->run(input, output, region);
    keep_workspace(std::move(runner));
  });
}

Engine::Engine(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Engine::~Engine() = default;
Engine::Engine(Engine&&) noexcept = default;
Engine& Engine::operator=(Engine&&) noexcept = default;

Engine Engine::create(const QuickSRNet& net, const EngineOptions& options) {
  const Isa isa = choose_isa(options);
  if (options.threads < 0) throw Error("engine: thread count must be >= 0");
  if (options.max_strip_width < engine::kStripAlignment) {
    throw Error("engine: max_strip_width must be at least " +
                std::to_string(engine::kStripAlignment));
  }
  const int threads = options.threads > 0
                          ? options.threads
                          : std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  return Engine(std::make_unique<Impl>(net, isa, threads, options.max_strip_width));
}

void Engine::run(const float* rgb_in, int width, int height, float* rgb_out) const {
  if (width < 1 || height < 1) {
    throw Error("engine: image size " + std::to_string(width) + "x" + std::to_string(height) +
                " is empty");
  }
  const int out_width = output_width(width);
  const engine::RgbView<const float> input{rgb_in, 3LL * width, 3, 1, width, height};
  const engine::RgbView<float> output{rgb_out, 3LL * out_width, 3,
                                      1,       out_width,       output_height(height)};
  impl_->run(input, output);
}

Tensor Engine::run(const Tensor& chw) const {
  if (chw.channels != 3 || chw.width < 1 || chw.height < 1) {
    throw Error("engine: expected a 3xHxW RGB tensor, got " + std::to_string(chw.channels) + "x" +
                std::to_string(chw.height) + "x" + std::to_string(chw.width));
  }
  Tensor out(3, output_height(chw.height), output_width(chw.width));
  const engine::RgbView<const float> input{
      chw.data.data(), chw.width, 1, static_cast<std::ptrdiff_t>(chw.width) * chw.height,
      chw.width,       chw.height};
  const engine::RgbView<float> output{
      out.data.data(), out.width, 1, static_cast<std::ptrdiff_t>(out.width) * out.height,
      out.width,       out.height};
  impl_->run(input, output);
  return out;
}

int Engine::output_width(int width) const { return impl_->plan.output_size(width); }
int Engine::output_height(int height) const { return impl_->plan.output_size(height); }
int Engine::threads() const { return impl_->pool.size(); }
Isa Engine::isa() const { return impl_->isa; }
std::string Engine::kernel_names() const {
  const engine::F32Kernels& k = impl_->kernels;
  return std::string(k.direct->name) + ", " + k.winograd->input_name + ", " + k.winograd->name +
         ", " + k.tail->name;
}

double Engine::executed_macs_per_pixel() const { return impl_->executed_macs_per_pixel; }

std::size_t Engine::workspace_bytes() const {
  return static_cast<std::size_t>(impl_->pool.size()) *
         engine::BandRunner::workspace_bytes(impl_->plan, impl_->kernels,
                                             impl_->max_strip_width + engine::kStripAlignment);
}

}  // namespace quicksr
