// quicksr bench: frames per second of the engine against the FMA peak, oneDNN and the reference
// runtime, all in one process on the same random input; with --precision int8 the INT8 engine
// against the INT8 dot-product peak, oneDNN u8s8, the fp32 engine and the integer reference.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <functional>
#include <iomanip>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <vector>

#include "cli/args.hpp"
#include "cli/commands.hpp"
#include "cli/model_argument.hpp"
#include "engine/fma_peak.hpp"
#include "engine/onednn_int8_network.hpp"
#include "engine/onednn_network.hpp"
#include "quicksr/engine.hpp"
#include "quicksr/error.hpp"
#include "quicksr/quant.hpp"
#include "quicksr/reference.hpp"

namespace quicksr::cli {
namespace {

const CommandSpec kSpec{
    .name = "bench",
    .usage = "[options]",
    .summary =
        "Time the inference engine on one frame size against the FMA peak of the vector width "
        "its kernels use, oneDNN's convolutions (output checked against the engine's) and the "
        "reference runtime (min and median over runs).",
    .options = {{"--model", "FILE", "QuickSRNet .safetensors or .onnx (default: random Small x2)"},
                {"--size", "WxH", "input frame size (default 640x360)"},
                {"--threads", "N", "threads for the engine and oneDNN (default: all cores)"},
                {"--isa", "NAME",
                 "engine kernels: scalar, avx2, avxvnni, avx512 or avx512vnni (default: "
                 "QUICKSR_ISA, else the best this CPU has)"},
                {"--runs", "N", "timed runs after one warm-up (default 10)"},
                {"--reference-runs", "N", "timed runs of the slow reference (default 1, 0: skip)"},
                {"--precision", "fp32|int8",
                 "int8: the INT8 engine on the model quantized per channel with [0,1] "
                 "activation encodings (default fp32)"},
                {"--no-onednn", "", "skip oneDNN (it holds whole feature maps in memory)"},
                {"--json", "", "print one JSON object instead of the table"}},
    .min_positional = 0,
    .max_positional = 0,
};

#ifdef QUICKSR_WITH_ENGINE_BENCH
struct Timing {
  double min_ms = 0.0;
  double median_ms = 0.0;
};

Timing time_runs(int runs, const std::function<void()>& run_once) {
  std::vector<double> ms;
  for (int i = 0; i < runs; ++i) {
    const auto start = std::chrono::steady_clock::now();
    run_once();
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
                     .count());
  }
  std::sort(ms.begin(), ms.end());
  return {ms.front(), ms[ms.size() / 2]};
}

std::pair<int, int> parse_size(const std::string& text) {
  int width = 0;
  int height = 0;
  char x = 0;
  char extra = 0;
  if (std::sscanf(text.c_str(), "%d%c%d%c", &width, &x, &height, &extra) != 3 || x != 'x' ||
      width < 1 || height < 1) {
    throw Error("--size: expected WxH with positive integers, got '" + text + "'");
  }
  return {width, height};
}

QuickSRNet load_network(const ParsedArgs& args) {
  if (!args.has("--model")) {
    return QuickSRNet::initialized(QuickSRNetConfig::small(Scale{2, 1}), 1);
  }
  const std::string path = *args.get("--model");
  Model model = load_model_argument(path);
  if (!model.is_quicksrnet()) throw Error(path + ": bench needs a QuickSRNet model");
  return std::get<QuickSRNet>(model.net);
}

double peak_rss_mib() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss / 1024.0;
}

// Per frame: the work a direct convolution does (what oneDNN runs, the yardstick) and what
// the engine executes (Winograd halves its 3x3 convs' multiply-adds).
struct Work {
  double direct_gflop;
  double executed_gflop;
};

// GFLOP/s and % of `peak` of `gflop` per frame at the best time.
struct Rate {
  double gflops;
  double pct_peak;
};
Rate rate(double gflop, const Timing& t, double peak) {
  const double gflops = gflop / (t.min_ms / 1e3);
  return {gflops, 100.0 * gflops / peak};
}

float max_abs_difference(const std::vector<float>& a, const std::vector<float>& b) {
  float worst = 0.0f;
  for (std::size_t i = 0; i < a.size(); ++i) worst = std::max(worst, std::abs(a[i] - b[i]));
  return worst;
}

void print_line(const std::string& name, const Timing& t, int runs, double peak, const Work& work,
                bool executes_winograd) {
  const Rate direct = rate(work.direct_gflop, t, peak);
  std::cout << std::left << std::setw(10) << name << std::right << std::fixed
            << std::setprecision(2) << "min " << std::setw(9) << t.min_ms << " ms  median "
            << std::setw(9) << t.median_ms << " ms  direct-conv " << std::setw(7) << direct.gflops
            << " GFLOP/s " << std::setw(6) << std::setprecision(1) << direct.pct_peak << "%";
  if (executes_winograd) {
    const Rate executed = rate(work.executed_gflop, t, peak);
    std::cout << "  executed " << std::setw(7) << std::setprecision(2) << executed.gflops
              << " GFLOP/s " << std::setw(6) << std::setprecision(1) << executed.pct_peak << "%";
  }
  std::cout << "  (" << runs << " runs)\n";
}

EngineOptions engine_options(const ParsedArgs& args) {
  EngineOptions options{.threads = args.get_int("--threads", 0, 0, 1024)};
  if (args.has("--isa")) options.isa = parse_isa(*args.get("--isa"));
  return options;
}

// The model for --precision int8: s8 per-channel weights, every activation encoding [0, 1] (scale
// 1/255, zero point 0: what calibration gives ReLU1 outputs that fill their range).
QuantizedQuickSRNet quantize_for_bench(const QuickSRNet& net) {
  ActivationEncodings encodings;
  encodings.features.assign(net.config.blocks + 1, ActivationEncoding{});
  return quant::quantize_weights(net, encodings, WeightGranularity::kPerChannel);
}

int bench_int8(const ParsedArgs& args) {
  const auto [width, height] = parse_size(args.get_or("--size", "640x360"));
  const int runs = args.get_int("--runs", 10, 1, 100000);
  const int reference_runs = args.get_int("--reference-runs", 1, 0, 1000);
  const bool json = args.has("--json");
  const QuickSRNet float_net = load_network(args);
  const QuantizedQuickSRNet net = quantize_for_bench(float_net);
  const Engine engine = Engine::create(net, engine_options(args));
  const int threads = engine.threads();
  const double gop = 2.0 * float_net.macs_per_pixel() * width * height / 1e9;

  std::vector<std::uint8_t> input(3ull * width * height);
  std::mt19937 rng(7);
  for (std::uint8_t& v : input) v = static_cast<std::uint8_t>(rng());
  std::vector<std::uint8_t> output(3ull * engine.output_width(width) *
                                   engine.output_height(height));

  std::optional<engine::Peak> peak;
  if (engine.isa() != Isa::kScalar) peak = engine::measure_int8_peak(engine.isa(), threads);
  const auto run_engine = [&] { engine.run(input.data(), width, height, output.data()); };
  run_engine();
  const Timing engine_time = time_runs(runs, run_engine);
  const double engine_rss = peak_rss_mib();

  // The fp32 engine (same ISA level) on the float model and the same frame.
  const Engine fp32_engine = Engine::create(float_net, {.threads = threads, .isa = engine.isa()});
  std::vector<float> float_input(input.begin(), input.end());
  for (float& v : float_input) v /= 255.0f;
  std::vector<float> float_output(output.size());
  const auto run_fp32 = [&] {
    fp32_engine.run(float_input.data(), width, height, float_output.data());
  };
  run_fp32();
  const Timing fp32_time = time_runs(runs, run_fp32);

  std::optional<Timing> onednn_int8_time;
  std::optional<Timing> onednn_time;
  if (!args.has("--no-onednn") && net.config.scale.is_integer() && net.anchor.empty()) {
    engine::OneDnnInt8Network onednn_int8(net, width, height, threads);
    std::vector<std::uint8_t> onednn_output(output.size());
    const auto run_onednn_int8 = [&] { onednn_int8.run(input.data(), onednn_output.data()); };
    run_onednn_int8();
    onednn_int8_time = time_runs(runs, run_onednn_int8);
    engine::OneDnnNetwork onednn(float_net, width, height, threads);
    const auto run_onednn = [&] { onednn.run(float_input.data(), float_output.data()); };
    run_onednn();
    onednn_time = time_runs(runs, run_onednn);
  }

  std::optional<Timing> reference_time;
  if (reference_runs > 0) {
    U8Tensor planar(3, height, width);
    for (int y = 0; y < height; ++y) {
      for (int x = 0; x < width; ++x) {
        for (int c = 0; c < 3; ++c) {
          planar.at(c, y, x) = input[(static_cast<std::size_t>(y) * width + x) * 3 + c];
        }
      }
    }
    reference_time = time_runs(reference_runs, [&] { (void)quant::forward(net, planar); });
  }

  const double engine_gops = gop / (engine_time.min_ms / 1e3);
  const std::string isa(isa_name(engine.isa()));
  if (json) {
    nlohmann::json out{{"size", std::to_string(width) + "x" + std::to_string(height)},
                       {"threads", threads},
                       {"model", net.config.name()},
                       {"precision", "int8"},
                       {"isa", isa},
                       {"kernel", engine.kernel_names()},
                       {"gop_per_frame", gop},
                       {"engine_ms_min", engine_time.min_ms},
                       {"engine_ms_median", engine_time.median_ms},
                       {"engine_gops", engine_gops},
                       {"engine_workspace_mib", engine.workspace_bytes() / 1048576.0},
                       {"peak_rss_mib_after_engine", engine_rss},
                       {"fp32_engine_ms_min", fp32_time.min_ms},
                       {"fp32_engine_ms_median", fp32_time.median_ms},
                       {"speedup_vs_fp32_engine", fp32_time.min_ms / engine_time.min_ms}};
    if (peak) {
      out["peak_kind"] = peak->kind;
      out["peak_gops"] = peak->gops;
      out["engine_pct_peak"] = 100.0 * engine_gops / peak->gops;
    }
    if (onednn_int8_time) {
      out["onednn_int8_ms_min"] = onednn_int8_time->min_ms;
      out["onednn_int8_ms_median"] = onednn_int8_time->median_ms;
      out["speedup_vs_onednn_int8"] = onednn_int8_time->min_ms / engine_time.min_ms;
      out["onednn_ms_min"] = onednn_time->min_ms;
      out["onednn_ms_median"] = onednn_time->median_ms;
    }
    if (reference_time) {
      out["reference_ms_min"] = reference_time->min_ms;
      out["speedup_vs_reference"] = reference_time->min_ms / engine_time.min_ms;
    }
    std::cout << out.dump() << "\n";
    return 0;
  }
  const auto line = [&](const std::string& name, const Timing& t, int n) {
    const double gops = gop / (t.min_ms / 1e3);
    std::cout << std::left << std::setw(13) << name << std::right << std::fixed
              << std::setprecision(2) << "min " << std::setw(9) << t.min_ms << " ms  median "
              << std::setw(9) << t.median_ms << " ms  " << std::setw(7) << gops << " GOP/s";
    if (peak)
      std::cout << "  " << std::setw(5) << std::setprecision(1) << 100.0 * gops / peak->gops
                << "% of peak";
    std::cout << "  (" << n << " runs)\n";
  };
  std::cout << net.config.name() << (args.has("--model") ? "" : " (random weights)")
            << ", INT8 (per-channel s8 weights, [0,1] activation encodings), " << width << "x"
            << height << ", " << threads << " thread(s), " << std::fixed << std::setprecision(3)
            << gop << " GOP per frame (2 per multiply-add)\n"
            << "ISA " << isa << ", kernel " << engine.kernel_names() << "\n";
  if (peak) {
    std::cout << "INT8 peak (" << peak->kind << ", " << threads
              << " threads): " << std::setprecision(1) << peak->gops << " GOP/s\n";
  }
  line("engine", engine_time, runs);
  if (onednn_int8_time) line("oneDNN u8s8", *onednn_int8_time, runs);
  line("fp32 engine", fp32_time, runs);
  if (onednn_time) line("oneDNN fp32", *onednn_time, runs);
  if (reference_time) line("reference", *reference_time, reference_runs);
  std::cout << std::setprecision(2) << "engine workspace " << engine.workspace_bytes() / 1048576.0
            << " MiB, peak RSS after engine runs " << engine_rss << " MiB\n";
  if (onednn_int8_time) {
    std::cout << "engine speed-up vs oneDNN u8s8: " << onednn_int8_time->min_ms / engine_time.min_ms
              << "x (min), " << onednn_int8_time->median_ms / engine_time.median_ms
              << "x (median)\n";
  }
  std::cout << "engine speed-up vs the fp32 engine: " << fp32_time.min_ms / engine_time.min_ms
            << "x (min), " << fp32_time.median_ms / engine_time.median_ms << "x (median)\n";
  if (reference_time) {
    std::cout << "engine speed-up vs reference: " << reference_time->min_ms / engine_time.min_ms
              << "x\n";
  }
  return 0;
}

int bench(const ParsedArgs& args) {
  const std::string precision = args.get_or("--precision", "fp32");
  if (precision == "int8") return bench_int8(args);
  if (precision != "fp32")
    throw Error("--precision: expected fp32 or int8, got '" + precision + "'");
  const auto [width, height] = parse_size(args.get_or("--size", "640x360"));
  const int runs = args.get_int("--runs", 10, 1, 100000);
  const int reference_runs = args.get_int("--reference-runs", 1, 0, 1000);
  const bool json = args.has("--json");
  const QuickSRNet net = load_network(args);
  const Engine engine = Engine::create(net, engine_options(args));
  const int threads = engine.threads();
  const double pixels = static_cast<double>(width) * height;
  const Work work{2.0 * net.macs_per_pixel() * pixels / 1e9,
                  2.0 * engine.executed_macs_per_pixel() * pixels / 1e9};

  std::vector<float> input(3ull * width * height);
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> uniform(0.0f, 1.0f);
  for (float& v : input) v = uniform(rng);
  std::vector<float> output(3ull * engine.output_width(width) * engine.output_height(height));

  const engine::Peak peak = engine::measure_f32_peak(engine.isa(), threads);
  const auto run_engine = [&] { engine.run(input.data(), width, height, output.data()); };
  run_engine();
  const Timing engine_time = time_runs(runs, run_engine);
  const double engine_rss = peak_rss_mib();

  // oneDNN's output is checked against the engine's (itself tested against the reference), so
  // the speed-up is against a network that computes the same thing.
  std::optional<Timing> onednn_time;
  float onednn_difference = 0.0f;
  if (!args.has("--no-onednn") && net.config.scale.is_integer() && net.anchor.empty()) {
    engine::OneDnnNetwork onednn(net, width, height, threads);
    std::vector<float> onednn_output(output.size());
    const auto run_onednn = [&] { onednn.run(input.data(), onednn_output.data()); };
    run_onednn();
    onednn_difference = max_abs_difference(onednn_output, output);
    if (onednn_difference > 1e-4f) {
      throw Error("oneDNN's output differs from the engine's by " +
                  std::to_string(onednn_difference) + ": no comparable baseline");
    }
    onednn_time = time_runs(runs, run_onednn);
  }

  std::optional<Timing> reference_time;
  if (reference_runs > 0) {
    Tensor planar(3, height, width);
    for (int y = 0; y < height; ++y) {
      for (int x = 0; x < width; ++x) {
        for (int c = 0; c < 3; ++c) {
          planar.at(c, y, x) = input[(static_cast<std::size_t>(y) * width + x) * 3 + c];
        }
      }
    }
    reference_time = time_runs(reference_runs, [&] { (void)reference::forward(net, planar); });
  }

  if (json) {
    const Rate direct = rate(work.direct_gflop, engine_time, peak.gops);
    const Rate executed = rate(work.executed_gflop, engine_time, peak.gops);
    nlohmann::json out{{"size", std::to_string(width) + "x" + std::to_string(height)},
                       {"threads", threads},
                       {"model", net.config.name()},
                       {"precision", "fp32"},
                       {"isa", isa_name(engine.isa())},
                       {"kernel", engine.kernel_names()},
                       {"gflop_per_frame", work.direct_gflop},
                       {"gflop_executed_per_frame", work.executed_gflop},
                       {"peak_kind", peak.kind},
                       {"peak_gflops", peak.gops},
                       {"engine_ms_min", engine_time.min_ms},
                       {"engine_ms_median", engine_time.median_ms},
                       {"engine_gflops", direct.gflops},
                       {"engine_pct_peak", direct.pct_peak},
                       {"engine_gflops_executed", executed.gflops},
                       {"engine_pct_peak_executed", executed.pct_peak},
                       {"engine_workspace_mib", engine.workspace_bytes() / 1048576.0},
                       {"peak_rss_mib_after_engine", engine_rss}};
    if (onednn_time) {
      out["onednn_ms_min"] = onednn_time->min_ms;
      out["onednn_ms_median"] = onednn_time->median_ms;
      out["onednn_pct_peak"] = rate(work.direct_gflop, *onednn_time, peak.gops).pct_peak;
      out["onednn_max_abs_diff"] = onednn_difference;
      out["speedup_vs_onednn"] = onednn_time->min_ms / engine_time.min_ms;
      out["speedup_vs_onednn_median"] = onednn_time->median_ms / engine_time.median_ms;
    }
    if (reference_time) {
      out["reference_ms_min"] = reference_time->min_ms;
      out["speedup_vs_reference"] = reference_time->min_ms / engine_time.min_ms;
    }
    std::cout << out.dump() << "\n";
    return 0;
  }
  std::cout << net.config.name() << (args.has("--model") ? "" : " (random weights)") << ", "
            << width << "x" << height << ", " << threads << " thread(s), fp32, ISA "
            << isa_name(engine.isa()) << "\nengine kernels: " << engine.kernel_names() << "\n"
            << std::fixed << std::setprecision(3) << "GFLOP per frame: " << work.direct_gflop
            << " as direct convolutions (oneDNN), " << work.executed_gflop
            << " executed by the engine (Winograd)\n"
            << "peak (" << peak.kind << ", " << threads << " threads): " << std::setprecision(1)
            << peak.gops << " GFLOP/s; direct-conv GFLOP/s = direct-conv GFLOP / time (can "
            << "exceed the peak for the engine), executed = what really runs\n";
  print_line("engine", engine_time, runs, peak.gops, work, true);
  if (onednn_time) print_line("oneDNN", *onednn_time, runs, peak.gops, work, false);
  if (reference_time)
    print_line("reference", *reference_time, reference_runs, peak.gops, work, false);
  std::cout << std::setprecision(2) << "engine workspace " << engine.workspace_bytes() / 1048576.0
            << " MiB, peak RSS after engine runs " << engine_rss << " MiB\n";
  if (onednn_time) {
    std::cout << "oneDNN output vs engine: max abs difference " << std::scientific
              << std::setprecision(1) << onednn_difference << std::fixed << "\n"
              << std::setprecision(2)
              << "engine speed-up vs oneDNN: " << onednn_time->min_ms / engine_time.min_ms
              << "x (min), " << onednn_time->median_ms / engine_time.median_ms << "x (median)\n";
  }
  if (reference_time) {
    std::cout << "engine speed-up vs reference: " << reference_time->min_ms / engine_time.min_ms
              << "x\n";
  }
  return 0;
}
#endif

}  // namespace

int bench_command(CommandArgs raw) {
  const std::optional<ParsedArgs> args = parse_command(kSpec, raw);
  if (!args) return 0;
#ifdef QUICKSR_WITH_ENGINE_BENCH
  return bench(*args);
#else
  std::cerr << "quicksr bench: error: this quicksr was built without the benchmark support "
               "(oneDNN, OpenMP and an x86 CPU are needed)\n";
  return 1;
#endif
}

}  // namespace quicksr::cli
