// quicksr bench: frames per second of the engine against the peak of its instructions, oneDNN and
// the reference runtime, all in one process on the same random frame. fp32: the engine against
// the FMA peak, oneDNN fp32 and quicksr::reference; INT8 (--precision int8 or an INT8 model file):
// the INT8 engine against the INT8 dot-product peak, oneDNN u8s8, the fp32 engine, oneDNN fp32
// and the integer reference.
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
#include <string>
#include <variant>
#include <vector>

#include "cli/args.hpp"
#include "cli/commands.hpp"
#include "cli/model_argument.hpp"
#include "engine/fma_peak.hpp"
#include "engine/onednn_network.hpp"
#include "model/graph_check.hpp"
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
    .options =
        {{"--model", "FILE",
          "QuickSRNet .safetensors (fp32 or INT8), a baseline graph (`quicksr init`) or .onnx "
          "(default: random Small x2)"},
         {"--size", "WxH", "input frame size (default 640x360)"},
         {"--threads", "N", "threads for the engine and oneDNN (default: all cores)"},
         {"--isa", "NAME",
          "engine kernels: scalar, avx2, avxvnni, avx512 or avx512vnni (default: "
          "QUICKSR_ISA, else the best this CPU has)"},
         {"--runs", "N", "timed runs after one warm-up (default 10)"},
         {"--reference-runs", "N", "timed runs of the slow reference (default 1, 0: skip)"},
         {"--precision", "fp32|int8",
          "int8: the INT8 engine, on the model quantized per channel with [0,1] "
          "activation encodings (default: int8 for an INT8 model file, else fp32)"},
         {"--no-onednn", "", "skip oneDNN (it holds whole feature maps in memory)"},
         {"--json", "", "print one JSON object instead of the table"}},
    .min_positional = 0,
    .max_positional = 0,
};

struct Timing {
  double min_ms = 0.0;
  double median_ms = 0.0;
};

// Times each function `runs` times, in turn in blocks of a few runs (a x5, b x5, a x5, ...): load
// that comes and goes then slows them alike, so their ratio is fair, while most runs follow a run
// of the same function (one by one, every INT8 frame started with the caches and the pool's
// worker cold from a longer fp32 frame: 3-5 % slower).
std::vector<Timing> time_alternately(int runs,
                                     const std::vector<std::function<void()>>& functions) {
  constexpr int kBlock = 5;
  std::vector<std::vector<double>> ms(functions.size());
  for (int done = 0; done < runs; done += kBlock) {
    for (std::size_t f = 0; f < functions.size(); ++f) {
      for (int i = done; i < std::min(runs, done + kBlock); ++i) {
        const auto start = std::chrono::steady_clock::now();
        functions[f]();
        ms[f].push_back(
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
                .count());
      }
    }
  }
  std::vector<Timing> timings;
  for (std::vector<double>& times : ms) {
    std::sort(times.begin(), times.end());
    timings.push_back({times.front(), times[times.size() / 2]});
  }
  return timings;
}

Timing time_runs(int runs, const std::function<void()>& run_once) {
  return time_alternately(runs, {run_once}).front();
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

double peak_rss_mib() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss / 1024.0;
}

// The networks to time: the float model, and for INT8 runs the INT8 one.
struct BenchModels {
  QuickSRNet float_net;
  std::optional<QuantizedQuickSRNet> int8_net;
  std::string description;
};

// The model for --precision int8 from a float one: s8 per-channel weights, every activation
// encoding [0, 1] (scale 1/255, zero point 0: what calibration gives ReLU1 outputs that fill their
// range).
QuantizedQuickSRNet quantize_for_bench(const QuickSRNet& net) {
  ActivationEncodings encodings;
  encodings.features.assign(net.config.blocks + 1, ActivationEncoding{});
  return quant::quantize_weights(net, encodings, WeightGranularity::kPerChannel);
}

// --model (default: random Small x2) and --precision (default: the model file's). An INT8 file's
// fp32 comparisons run its dequantized weights.
BenchModels load_models(const ParsedArgs& args) {
  const std::optional<std::string> precision = args.get("--precision");
  if (precision && *precision != "fp32" && *precision != "int8") {
    throw Error("--precision: expected fp32 or int8, got '" + *precision + "'");
  }
  BenchModels models;
  if (!args.has("--model")) {
    models.float_net = QuickSRNet::initialized(QuickSRNetConfig::small(Scale{2, 1}), 1);
    models.description = models.float_net.config.name() + " (random weights)";
  } else {
    const std::string path = *args.get("--model");
    Model model = load_model_argument(path);
    if (model.is_quantized()) {
      if (precision == "fp32") {
        throw Error(path + ": an INT8 model; --precision fp32 needs a float model");
      }
      models.int8_net = std::get<QuantizedQuickSRNet>(std::move(model.net));
      models.float_net = quant::dequantize_weights(*models.int8_net);
      models.description = models.int8_net->config.name() + " (INT8 model " + path +
                           "; the fp32 rows run its dequantized weights)";
      return models;
    }
    if (!model.is_quicksrnet()) throw Error(path + ": bench needs a QuickSRNet model");
    models.float_net = std::get<QuickSRNet>(std::move(model.net));
    models.description = models.float_net.config.name() + " (" + path + ")";
  }
  if (precision == "int8") {
    models.int8_net = quantize_for_bench(models.float_net);
    models.description += ", INT8: per-channel s8 weights, [0,1] activation encodings";
  }
  return models;
}

EngineOptions engine_options(const ParsedArgs& args) {
  EngineOptions options{.threads = args.get_int("--threads", 0, 0, 1024)};
  if (args.has("--isa")) options.isa = parse_isa(*args.get("--isa"));
  return options;
}

// One random 8-bit RGB frame, interleaved, and the same frame as floats in [0, 1].
struct Frame {
  int width;
  int height;
  std::vector<std::uint8_t> u8;
  std::vector<float> f32;
};

Frame random_frame(int width, int height) {
  Frame frame{width, height, std::vector<std::uint8_t>(3ull * width * height), {}};
  std::mt19937 rng(7);
  for (std::uint8_t& v : frame.u8) v = static_cast<std::uint8_t>(rng());
  frame.f32.assign(frame.u8.begin(), frame.u8.end());
  for (float& v : frame.f32) v /= 255.0f;
  return frame;
}

// The frame as a planar tensor, for the reference runtimes.
template <typename Tensor3, typename T>
Tensor3 planar(const Frame& frame, const std::vector<T>& interleaved) {
  Tensor3 tensor(3, frame.height, frame.width);
  for (int y = 0; y < frame.height; ++y) {
    for (int x = 0; x < frame.width; ++x) {
      for (int c = 0; c < 3; ++c) {
        tensor.at(c, y, x) = interleaved[(static_cast<std::size_t>(y) * frame.width + x) * 3 + c];
      }
    }
  }
  return tensor;
}

template <typename T>
double max_abs_difference(const std::vector<T>& a, const std::vector<T>& b) {
  double worst = 0.0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    worst = std::max(worst, std::abs(static_cast<double>(a[i]) - static_cast<double>(b[i])));
  }
  return worst;
}

// A timed line of the report. `key` names it in the JSON (`<key>_ms_min`, `speedup_vs_<key>`).
struct Row {
  std::string name;
  std::string key;
  Timing time;
  int runs = 0;
  std::optional<double> executed_gop;  // per frame, when it differs from the direct count
};

// A oneDNN network is timed only after its output was checked against the engine's (itself
// tested against the reference), so the speed-up is against a verified baseline. A network whose
// output differs by more than `tolerance` (e.g. oneDNN's AVX2 u8s8 code, whose 16-bit
// `vpmaddubsw` sums saturate) is still timed, but as `<key>_inexact` with a warning: its speed is
// worth knowing, yet it computes something else. This runs the check (the network once, into
// `output`) and returns the row to time it under.
template <typename T>
Row checked_onednn_row(engine::OneDnnNetwork& network, const std::vector<T>& input,
                       std::vector<T>& output, const std::vector<T>& engine_output,
                       double tolerance, Row row, nlohmann::json& checks) {
  output.resize(engine_output.size());
  network.run(input.data(), output.data());
  const double difference = max_abs_difference(output, engine_output);
  checks[row.key + "_max_abs_diff"] = difference;
  if (difference > tolerance) {
    std::cerr << "quicksr bench: warning: " << row.name << "'s output differs from the engine's by "
              << difference << ": timed as an inexact baseline\n";
    row.name += " (inexact)";
    row.key += "_inexact";
  }
  return row;
}

// Checks, then times a oneDNN network on the frame.
template <typename T>
void time_onednn(engine::OneDnnNetwork& network, const std::vector<T>& input,
                 const std::vector<T>& engine_output, double tolerance, Row row,
                 nlohmann::json& checks, std::vector<Row>& rows) {
  std::vector<T> output;
  row = checked_onednn_row(network, input, output, engine_output, tolerance, row, checks);
  row.time = time_runs(row.runs, [&] { network.run(input.data(), output.data()); });
  rows.push_back(row);
}

// What OneDnnNetwork accepts (it throws otherwise); the benchmark skips oneDNN for the rest.
bool onednn_runs(const QuickSRNet& net) {
  return net.config.scale.is_integer() && !net.config.anchor &&
         net.config.activation == Activation::kReLU1;
}
bool onednn_runs(const QuantizedQuickSRNet& net) {
  bool zero_points = net.input.zero_point == 0 && net.output.zero_point == 0;
  for (const ActivationEncoding& e : net.features) zero_points = zero_points && e.zero_point == 0;
  return onednn_runs(QuickSRNet::zeros(net.config)) && zero_points;
}

// Rate (G operations per second) and share of the peak of `gop` per frame at the best time.
double gops(double gop, const Timing& t) { return gop / (t.min_ms / 1e3); }

void print_row(const Row& row, double gop, const std::optional<engine::Peak>& peak,
               const char* unit) {
  const auto rate = [&](double work) {
    std::cout << std::setw(8) << std::setprecision(2) << gops(work, row.time) << " " << unit;
    if (peak) {
      std::cout << " " << std::setw(6) << std::setprecision(1)
                << 100.0 * gops(work, row.time) / peak->gops << "%";
    }
  };
  std::cout << std::left << std::setw(12) << row.name << std::right << std::fixed
            << std::setprecision(2) << "min " << std::setw(9) << row.time.min_ms << " ms  median "
            << std::setw(9) << row.time.median_ms << " ms  direct-conv";
  rate(gop);
  if (row.executed_gop) {
    std::cout << "  executed";
    rate(*row.executed_gop);
  }
  std::cout << "  (" << row.runs << " runs)\n";
}

void print_speedups(const std::vector<Row>& rows) {
  const Row& engine_row = rows.front();
  for (const Row& row : rows) {
    if (&row == &engine_row) continue;
    std::cout << std::setprecision(2) << "engine speed-up vs " << row.name << ": "
              << row.time.min_ms / engine_row.time.min_ms << "x (min), "
              << row.time.median_ms / engine_row.time.median_ms << "x (median)\n";
  }
}

// What bench_graph times: a float graph on the engine (fp32) against the reference runtime, or
// an INT8 graph on the INT8 engine (8-bit RGB in and out) against the integer reference runtime.
struct GraphBench {
  const Graph& graph;  // the structure, for the operation count
  std::string name;
  bool int8 = false;
  std::optional<std::string> unsupported;  // why the engine cannot run it
  std::function<Engine(const EngineOptions&)> make_engine;
  std::function<void(const Frame&)> run_reference;
};

GraphBench float_graph_bench(const ParsedArgs& args, const Graph& graph, const std::string& name) {
  if (args.get("--precision").value_or("fp32") != "fp32") {
    throw Error(name + ": a float graph; quantize it first (quicksr quantize) to bench it in INT8");
  }
  return {graph,
          name,
          false,
          graph_unsupported_reason(graph),
          [&graph](const EngineOptions& options) { return Engine::create(graph, options); },
          [&graph](const Frame& frame) {
            (void)reference::forward(graph, planar<Tensor>(frame, frame.f32));
          }};
}

GraphBench int8_graph_bench(const ParsedArgs& args, const QuantizedGraph& net,
                            const std::string& name) {
  if (args.get("--precision").value_or("int8") != "int8") {
    throw Error(name + ": an INT8 graph; --precision fp32 needs a float model");
  }
  return {
      net.graph,
      name,
      true,
      int8_graph_unsupported_reason(net),
      [&net](const EngineOptions& options) { return Engine::create(net, options); },
      [&net](const Frame& frame) { (void)quant::forward(net, planar<U8Tensor>(frame, frame.u8)); }};
}

// The engine's timing row on `frame` (interleaved RGB in, the output allocated once, as the
// QuickSRNet rows run): 8-bit for INT8, float otherwise.
Row graph_engine_row(const GraphBench& bench, const Engine& engine, const Frame& frame, int runs) {
  const std::size_t values =
      3ull * engine.output_width(frame.width) * engine.output_height(frame.height);
  std::vector<std::uint8_t> u8_output(bench.int8 ? values : 0);
  std::vector<float> f32_output(bench.int8 ? 0 : values);
  const std::function<void()> run = [&] {
    if (bench.int8) {
      engine.run(frame.u8.data(), frame.width, frame.height, u8_output.data());
    } else {
      engine.run(frame.f32.data(), frame.width, frame.height, f32_output.data());
    }
  };
  run();
  const double executed = 2.0 * engine.executed_macs_per_pixel() * frame.width * frame.height / 1e9;
  return {"engine", "engine", time_runs(runs, run), runs, executed};
}

// A general graph (--model naming a baseline file, float or INT8): the engine (its general-graph
// path, or the band pipeline for a QuickSRNet-like chain such as ABPN) against the reference
// runtime (which runs on all cores); oneDNN is wired for QuickSRNet only. A graph the engine
// cannot run times the reference alone and says why.
int bench_graph(const ParsedArgs& args, const GraphBench& bench) {
  // Copies of the structured binding: lambdas capture them (clang 14 cannot capture a binding).
  const auto [size_width, size_height] = parse_size(args.get_or("--size", "640x360"));
  const int width = size_width;
  const int height = size_height;
  const int runs = args.get_int("--runs", 10, 1, 100000);
  const int reference_runs =
      args.get_int("--reference-runs", bench.unsupported ? runs : 1, 0, 1000);
  const Frame frame = random_frame(width, height);
  const GraphWeights weights = bench.int8 ? GraphWeights::kNotLoadedYet : GraphWeights::kChecked;
  const double gop = 2.0 * graph_macs_per_input_pixel(bench.graph, weights) * width * height / 1e9;
  const char* precision = bench.int8 ? "int8" : "fp32";
  std::vector<Row> rows;
  std::optional<Engine> engine;
  if (!bench.unsupported) {
    engine = bench.make_engine(engine_options(args));
    rows.push_back(graph_engine_row(bench, *engine, frame, runs));
  }
  if (reference_runs > 0) {
    const auto run = [&] { bench.run_reference(frame); };
    rows.push_back(
        {"reference", "reference", time_runs(reference_runs, run), reference_runs, std::nullopt});
  }
  const std::string reference_name = bench.int8 ? "integer reference" : "reference";
  const std::string runtime =
      bench.unsupported
          ? reference_name + " (the engine does not run this graph: " + *bench.unsupported + ")"
          : "engine (" + engine->path_name() + ")";
  if (args.has("--json")) {
    nlohmann::json out{{"size", std::to_string(width) + "x" + std::to_string(height)},
                       {"model", bench.name},
                       {"precision", precision},
                       {"runtime", runtime},
                       {bench.int8 ? "gop_per_frame" : "gflop_per_frame", gop}};
    if (engine) {
      out.update({{"threads", engine->threads()},
                  {"isa", isa_name(engine->isa())},
                  {"kernel", engine->kernel_names()},
                  {"engine_workspace_mib", engine->workspace_bytes() / 1048576.0}});
    }
    for (const Row& row : rows) {
      out[row.key + "_ms_min"] = row.time.min_ms;
      out[row.key + "_ms_median"] = row.time.median_ms;
    }
    if (engine && rows.size() > 1) {
      out["speedup_vs_reference"] = rows[1].time.min_ms / rows[0].time.min_ms;
      out["speedup_vs_reference_median"] = rows[1].time.median_ms / rows[0].time.median_ms;
    }
    std::cout << out.dump() << "\n";
    return 0;
  }
  std::cout << bench.name << " (general graph), " << width << "x" << height << ", " << precision
            << "\nruntime: " << runtime << "\n";
  if (engine) {
    std::cout << engine->threads() << " engine thread(s), ISA " << isa_name(engine->isa())
              << "\nengine kernels: " << engine->kernel_names() << "\n";
  }
  const char* unit = bench.int8 ? "GOP" : "GFLOP";
  std::cout << "oneDNN: not timed (its network is built for QuickSRNet only)\n"
            << std::fixed << std::setprecision(3) << unit
            << " per frame (2 per multiply-add): " << gop << " as direct convolutions\n";
  for (const Row& row : rows) print_row(row, gop, std::nullopt, bench.int8 ? "GOP/s" : "GFLOP/s");
  if (engine) {
    std::cout << std::setprecision(2) << "engine workspace "
              << engine->workspace_bytes() / 1048576.0 << " MiB\n";
    print_speedups(rows);
  }
  return 0;
}

int bench(const ParsedArgs& args) {
  if (args.has("--model")) {
    const Model model = load_model_argument(*args.get("--model"));
    if (const Graph* graph = std::get_if<Graph>(&model.net)) {
      return bench_graph(args, float_graph_bench(args, *graph, model.name()));
    }
    if (const QuantizedGraph* net = std::get_if<QuantizedGraph>(&model.net)) {
      return bench_graph(args, int8_graph_bench(args, *net, model.name()));
    }
  }
  // Plain ints, not structured bindings: lambdas below capture them (clang 14 cannot).
  const auto [size_width, size_height] = parse_size(args.get_or("--size", "640x360"));
  const int width = size_width;
  const int height = size_height;
  const int runs = args.get_int("--runs", 10, 1, 100000);
  const int reference_runs = args.get_int("--reference-runs", 1, 0, 1000);
  const BenchModels models = load_models(args);
  const bool int8 = models.int8_net.has_value();
  EngineOptions options = engine_options(args);
  const Engine fp32_engine = Engine::create(models.float_net, options);
  options.threads = fp32_engine.threads();
  options.isa = fp32_engine.isa();
  const int threads = options.threads;
  const std::optional<Engine> int8_engine =
      int8 ? std::optional<Engine>(Engine::create(*models.int8_net, options)) : std::nullopt;
  const Engine& engine = int8 ? *int8_engine : fp32_engine;
  const double pixels = static_cast<double>(width) * height;
  const double gop = 2.0 * models.float_net.macs_per_pixel() * pixels / 1e9;
  const auto executed = [&](const Engine& e) -> std::optional<double> {
    const double work = 2.0 * e.executed_macs_per_pixel() * pixels / 1e9;
    return work != gop ? std::optional(work) : std::nullopt;
  };

  // The peak of the engine's instructions: FMA of its vector width, or its INT8 dot product.
  std::optional<engine::Peak> peak;
  if (!int8) {
    peak = engine::measure_f32_peak(engine.isa(), threads);
  } else if (engine.isa() != Isa::kScalar) {
    peak = engine::measure_int8_peak(engine.isa(), threads);
  }

  const Frame frame = random_frame(width, height);
  const std::size_t output_values =
      3ull * engine.output_width(width) * engine.output_height(height);
  std::vector<std::uint8_t> int8_output(output_values);
  std::vector<float> fp32_output(output_values);
  std::vector<Row> rows;
  double engine_rss = 0.0;
  const auto run_fp32 = [&] {
    fp32_engine.run(frame.f32.data(), width, height, fp32_output.data());
  };
  nlohmann::json checks = nlohmann::json::object();
  const bool onednn = !args.has("--no-onednn") && onednn_runs(models.float_net);
  if (int8) {
    // The INT8 engine, the fp32 engine and oneDNN u8s8 run in turn (blocks of runs), for fair
    // ratios on a loaded machine; each keeps its workspace from its first run, so the RSS after
    // the INT8 warm-up is the INT8 engine's.
    const auto run = [&] { int8_engine->run(frame.u8.data(), width, height, int8_output.data()); };
    run();
    engine_rss = peak_rss_mib();
    run_fp32();
    std::vector<Row> timed_rows = {{"engine", "engine", {}, runs, std::nullopt},
                                   {"fp32 engine", "fp32_engine", {}, runs, executed(fp32_engine)}};
    std::vector<std::function<void()>> timed = {run, run_fp32};
    std::optional<engine::OneDnnNetwork> onednn_int8;
    std::vector<std::uint8_t> onednn_int8_output;
    if (onednn && onednn_runs(*models.int8_net)) {
      onednn_int8.emplace(*models.int8_net, width, height, threads);
      timed_rows.push_back(
          checked_onednn_row(*onednn_int8, frame.u8, onednn_int8_output, int8_output, 1.0,
                             {"oneDNN u8s8", "onednn_int8", {}, runs, std::nullopt}, checks));
      timed.push_back([&] { onednn_int8->run(frame.u8.data(), onednn_int8_output.data()); });
    }
    const std::vector<Timing> timings = time_alternately(runs, timed);
    for (std::size_t i = 0; i < timed_rows.size(); ++i) {
      timed_rows[i].time = timings[i];
      rows.push_back(timed_rows[i]);
    }
  } else {
    run_fp32();
    rows.push_back({"engine", "engine", time_runs(runs, run_fp32), runs, executed(fp32_engine)});
    engine_rss = peak_rss_mib();
  }

  if (onednn) {
    engine::OneDnnNetwork network(models.float_net, width, height, threads);
    time_onednn(network, frame.f32, fp32_output, 1e-4,
                {int8 ? "oneDNN fp32" : "oneDNN", "onednn", {}, runs, std::nullopt}, checks, rows);
  }
  if (reference_runs > 0) {
    std::function<void()> run_reference;
    if (int8) {
      run_reference = [&, input = planar<U8Tensor>(frame, frame.u8)] {
        (void)quant::forward(*models.int8_net, input);
      };
    } else {
      run_reference = [&, input = planar<Tensor>(frame, frame.f32)] {
        (void)reference::forward(models.float_net, input);
      };
    }
    rows.push_back({"reference", "reference", time_runs(reference_runs, run_reference),
                    reference_runs, std::nullopt});
  }

  const Row& engine_row = rows.front();
  const std::string unit = int8 ? "gop" : "gflop";
  if (args.has("--json")) {
    nlohmann::json out{{"size", std::to_string(width) + "x" + std::to_string(height)},
                       {"threads", threads},
                       {"model", models.float_net.config.name()},
                       {"precision", int8 ? "int8" : "fp32"},
                       {"isa", isa_name(engine.isa())},
                       {"kernel", engine.kernel_names()},
                       {unit + "_per_frame", gop},
                       {unit + "_executed_per_frame", engine_row.executed_gop.value_or(gop)},
                       {"engine_workspace_mib", engine.workspace_bytes() / 1048576.0},
                       {"peak_rss_mib_after_engine", engine_rss}};
    out.update(checks);
    if (peak) {
      out["peak_kind"] = peak->kind;
      out["peak_" + unit + "s"] = peak->gops;
      out["engine_pct_peak_executed"] =
          100.0 * gops(engine_row.executed_gop.value_or(gop), engine_row.time) / peak->gops;
    }
    out["engine_" + unit + "s"] = gops(gop, engine_row.time);
    out["engine_" + unit + "s_executed"] =
        gops(engine_row.executed_gop.value_or(gop), engine_row.time);
    for (const Row& row : rows) {
      out[row.key + "_ms_min"] = row.time.min_ms;
      out[row.key + "_ms_median"] = row.time.median_ms;
      if (peak) out[row.key + "_pct_peak"] = 100.0 * gops(gop, row.time) / peak->gops;
      if (&row == &engine_row) continue;
      out["speedup_vs_" + row.key] = row.time.min_ms / engine_row.time.min_ms;
      out["speedup_vs_" + row.key + "_median"] = row.time.median_ms / engine_row.time.median_ms;
    }
    std::cout << out.dump() << "\n";
    return 0;
  }

  const char* rate_unit = int8 ? "GOP/s" : "GFLOP/s";
  std::cout << models.description << "\n"
            << width << "x" << height << ", " << threads << " thread(s), "
            << (int8 ? "INT8" : "fp32") << ", ISA " << isa_name(engine.isa())
            << "\nengine kernels: " << engine.kernel_names() << "\n"
            << std::fixed << std::setprecision(3) << (int8 ? "GOP" : "GFLOP")
            << " per frame (2 per multiply-add): " << gop << " as direct convolutions (oneDNN)";
  if (engine_row.executed_gop) {
    std::cout << ", " << *engine_row.executed_gop << " executed by the engine (Winograd)";
  }
  std::cout << "\n";
  if (peak) {
    std::cout << "peak (" << peak->kind << ", " << threads << " threads): " << std::setprecision(1)
              << peak->gops << " " << rate_unit << "; direct-conv rate = direct-conv work / time "
              << "(can exceed the peak for Winograd), executed = what really runs\n";
  }
  for (const Row& row : rows) print_row(row, gop, peak, rate_unit);
  std::cout << std::setprecision(2) << "engine workspace " << engine.workspace_bytes() / 1048576.0
            << " MiB, peak RSS after engine runs " << engine_rss << " MiB\n";
  for (const auto& [key, difference] : checks.items()) {
    std::cout << key << " (vs the engine): " << std::scientific << std::setprecision(1)
              << difference.get<double>() << std::fixed << "\n";
  }
  print_speedups(rows);
  return 0;
}

}  // namespace

int bench_command(CommandArgs raw) {
  const std::optional<ParsedArgs> args = parse_command(kSpec, raw);
  if (!args) return 0;
  return bench(*args);
}

}  // namespace quicksr::cli
