// quicksr bench: frames per second of the engine against the peak of its instructions, oneDNN and
// the reference runtime, all in one process on the same random frame. fp32: the engine against
// the FMA peak, oneDNN fp32 and quicksr::reference; INT8 (--precision int8 or an INT8 model file):
// the INT8 engine against the INT8 dot-product peak, oneDNN u8s8, the fp32 engine, oneDNN fp32
// and the integer reference.
#include <sys/resource.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <functional>
#include <iomanip>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "cli/args.hpp"
#include "cli/commands.hpp"
#include "cli/model_argument.hpp"
#include "cli/upscaler_args.hpp"
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

// WxH, each side 1..16384 (an 8K frame is 7680 wide; more would only exhaust the memory).
std::pair<int, int> parse_size(const std::string& text) {
  constexpr int kMaxSide = 16384;
  const auto side = [&](std::string_view digits) {
    int value = 0;
    const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
    const bool whole = error == std::errc() && end == digits.data() + digits.size();
    return whole && value >= 1 && value <= kMaxSide ? value : 0;
  };
  const std::size_t x = text.find('x');
  const int width = x == std::string::npos ? 0 : side(std::string_view(text).substr(0, x));
  const int height = x == std::string::npos ? 0 : side(std::string_view(text).substr(x + 1));
  if (width == 0 || height == 0) {
    throw Error("--size: expected WxH with sides 1.." + std::to_string(kMaxSide) + ", got '" +
                text + "'");
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

// The --model file's net (default: random Small x2) and --precision (default: the model file's).
// An INT8 file's fp32 comparisons run its dequantized weights.
BenchModels load_models(const ParsedArgs& args, std::optional<Model> model) {
  const std::optional<std::string> precision = args.get("--precision");
  if (precision && *precision != "fp32" && *precision != "int8") {
    throw Error("--precision: expected fp32 or int8, got '" + *precision + "'");
  }
  BenchModels models;
  if (!model) {
    models.float_net = QuickSRNet::initialized(QuickSRNetConfig::small(Scale{2, 1}), 1);
    models.description = models.float_net.config.name() + " (random weights)";
  } else {
    const std::string path = *args.get("--model");
    if (model->is_quantized()) {
      if (precision == "fp32") {
        throw Error(path + ": an INT8 model; --precision fp32 needs a float model");
      }
      models.int8_net = std::get<QuantizedQuickSRNet>(std::move(model->net));
      models.float_net = quant::dequantize_weights(*models.int8_net);
      models.description = models.int8_net->config.name() + " (INT8 model " + path +
                           "; the fp32 rows run its dequantized weights)";
      return models;
    }
    if (!model->is_quicksrnet()) throw Error(path + ": bench needs a QuickSRNet model");
    models.float_net = std::get<QuickSRNet>(std::move(model->net));
    models.description = models.float_net.config.name() + " (" + path + ")";
  }
  if (precision == "int8") {
    models.int8_net = quantize_for_bench(models.float_net);
    models.description += ", INT8: per-channel s8 weights, [0,1] activation encodings";
  }
  return models;
}

EngineOptions engine_options(const ParsedArgs& args) {
  EngineOptions options{.threads = threads_from_args(args)};
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

// The frame size and run counts of a bench (--size, --runs, --reference-runs). The reference's
// default is one run, or --runs when it is timed alone (a graph the engine cannot run).
struct BenchRuns {
  int width = 0;
  int height = 0;
  int runs = 0;
  int reference_runs = 0;
};

BenchRuns bench_runs(const ParsedArgs& args, bool reference_alone) {
  const auto [width, height] = parse_size(args.get_or("--size", "640x360"));
  const int runs = args.get_int("--runs", 10, 1, 100000);
  return {width, height, runs,
          args.get_int("--reference-runs", reference_alone ? runs : 1, 0, 1000)};
}

std::string size_text(const BenchRuns& size) {
  return std::to_string(size.width) + "x" + std::to_string(size.height);
}

// Each row's times in the JSON report; with a peak, each row's share of it at `gop` per frame;
// when the engine leads, its speed-ups over the other rows.
void add_rows(nlohmann::json& out, const std::vector<Row>& rows,
              const std::optional<engine::Peak>& peak, double gop) {
  for (const Row& row : rows) {
    out[row.key + "_ms_min"] = row.time.min_ms;
    out[row.key + "_ms_median"] = row.time.median_ms;
    if (peak) out[row.key + "_pct_peak"] = 100.0 * gops(gop, row.time) / peak->gops;
    const Row& lead = rows.front();  // rows is not empty inside the loop
    if (&row == &lead || lead.key != "engine") continue;
    out["speedup_vs_" + row.key] = row.time.min_ms / lead.time.min_ms;
    out["speedup_vs_" + row.key + "_median"] = row.time.median_ms / lead.time.median_ms;
  }
}

// A timed run of the slow reference runtime.
Row reference_row(int runs, const std::function<void()>& run) {
  return {"reference", "reference", time_runs(runs, run), runs, std::nullopt};
}

// A general graph's timed rows: the engine's (unless it cannot run the graph), the reference's.
struct GraphResult {
  const GraphBench& bench;
  BenchRuns size;
  double gop = 0.0;  // per frame, as direct convolutions
  std::optional<Engine> engine;
  std::vector<Row> rows;

  // What ran the first row: the engine's path, or why the reference ran alone.
  std::string runtime() const {
    if (engine) return "engine (" + engine->path_name() + ")";
    return std::string(bench.int8 ? "integer reference" : "reference") +
           " (the engine does not run this graph: " + *bench.unsupported + ")";
  }
};

void print_graph_json(const GraphResult& result) {
  const GraphBench& bench = result.bench;
  nlohmann::json out{{"size", size_text(result.size)},
                     {"model", bench.name},
                     {"precision", bench.int8 ? "int8" : "fp32"},
                     {"runtime", result.runtime()},
                     {bench.int8 ? "gop_per_frame" : "gflop_per_frame", result.gop}};
  if (const std::optional<Engine>& engine = result.engine) {
    out.update({{"threads", engine->threads()},
                {"isa", isa_name(engine->isa())},
                {"kernel", engine->kernel_names()},
                {"engine_workspace_mib", engine->workspace_bytes() / 1048576.0}});
  }
  add_rows(out, result.rows, std::nullopt, result.gop);
  std::cout << out.dump() << "\n";
}

void print_graph_text(const GraphResult& result) {
  const GraphBench& bench = result.bench;
  std::cout << bench.name << " (general graph), " << size_text(result.size) << ", "
            << (bench.int8 ? "int8" : "fp32") << "\nruntime: " << result.runtime() << "\n";
  if (result.engine) {
    std::cout << result.engine->threads() << " engine thread(s), ISA "
              << isa_name(result.engine->isa())
              << "\nengine kernels: " << result.engine->kernel_names() << "\n";
  }
  std::cout << "oneDNN: not timed (its network is built for QuickSRNet only)\n"
            << std::fixed << std::setprecision(3) << (bench.int8 ? "GOP" : "GFLOP")
            << " per frame (2 per multiply-add): " << result.gop << " as direct convolutions\n";
  for (const Row& row : result.rows) {
    print_row(row, result.gop, std::nullopt, bench.int8 ? "GOP/s" : "GFLOP/s");
  }
  if (result.engine) {
    std::cout << std::setprecision(2) << "engine workspace "
              << result.engine->workspace_bytes() / 1048576.0 << " MiB\n";
    print_speedups(result.rows);
  }
}

// A general graph (--model naming a baseline file, float or INT8): the engine (its general-graph
// path, or the band pipeline for a QuickSRNet-like chain such as ABPN) against the reference
// runtime (which runs on all cores); oneDNN is wired for QuickSRNet only. A graph the engine
// cannot run times the reference alone and says why.
int bench_graph(const ParsedArgs& args, const GraphBench& bench) {
  GraphResult result{bench, bench_runs(args, bench.unsupported.has_value())};
  const BenchRuns& size = result.size;
  const GraphWeights weights = bench.int8 ? GraphWeights::kNotLoadedYet : GraphWeights::kChecked;
  result.gop =
      2.0 * graph_macs_per_input_pixel(bench.graph, weights) * size.width * size.height / 1e9;
  const Frame frame = random_frame(size.width, size.height);
  if (!bench.unsupported) {
    result.engine = bench.make_engine(engine_options(args));
    result.rows.push_back(graph_engine_row(bench, *result.engine, frame, size.runs));
  }
  if (size.reference_runs > 0) {
    result.rows.push_back(reference_row(size.reference_runs, [&] { bench.run_reference(frame); }));
  }
  args.has("--json") ? print_graph_json(result) : print_graph_text(result);
  return 0;
}

// The QuickSRNet bench: the fp32 engine and, for INT8, the INT8 engine on the same threads and
// ISA; the peak of the engine's instructions; one frame; the rows timed so far.
struct NetBench {
  NetBench(const ParsedArgs& args, BenchRuns runs, BenchModels bench_models);

  bool int8() const { return models.int8_net.has_value(); }
  const Engine& engine() const { return int8() ? *int8_engine : fp32_engine; }
  void run_int8() { int8_engine->run(frame.u8.data(), size.width, size.height, int8_out.data()); }
  void run_fp32() { fp32_engine.run(frame.f32.data(), size.width, size.height, fp32_out.data()); }
  // The work `e` executes per frame, when it differs from the direct count (Winograd).
  std::optional<double> executed_gop(const Engine& e) const {
    const double work = 2.0 * e.executed_macs_per_pixel() * size.width * size.height / 1e9;
    return work != gop ? std::optional(work) : std::nullopt;
  }

  BenchModels models;
  BenchRuns size;
  Engine fp32_engine;
  std::optional<Engine> int8_engine;
  double gop;  // per frame, as direct convolutions
  std::optional<engine::Peak> peak;
  Frame frame;
  std::vector<std::uint8_t> int8_out;
  std::vector<float> fp32_out;
  std::vector<Row> rows;
  double engine_rss_mib = 0.0;                       // the peak RSS after the engine's warm-up
  nlohmann::json checks = nlohmann::json::object();  // oneDNN's differences from the engine
};

// The peak of the engine's instructions: FMA of its vector width, or its INT8 dot product.
std::optional<engine::Peak> engine_peak(const Engine& engine, bool int8) {
  if (!int8) return engine::measure_f32_peak(engine.isa(), engine.threads());
  if (engine.isa() == Isa::kScalar) return std::nullopt;
  return engine::measure_int8_peak(engine.isa(), engine.threads());
}

NetBench::NetBench(const ParsedArgs& args, BenchRuns runs, BenchModels bench_models)
    : models(std::move(bench_models)),
      size(runs),
      fp32_engine(Engine::create(models.float_net, engine_options(args))),
      gop(2.0 * models.float_net.macs_per_pixel() * size.width * size.height / 1e9),
      frame(random_frame(size.width, size.height)) {
  if (int8()) {
    EngineOptions options = engine_options(args);
    options.threads = fp32_engine.threads();
    options.isa = fp32_engine.isa();
    int8_engine = Engine::create(*models.int8_net, options);
  }
  peak = engine_peak(engine(), int8());
  const std::size_t values =
      3ull * engine().output_width(size.width) * engine().output_height(size.height);
  int8_out.resize(values);
  fp32_out.resize(values);
}

// fp32: the engine alone.
void time_fp32_engine(NetBench& b) {
  const auto run = [&b] { b.run_fp32(); };
  run();
  b.rows.push_back({"engine", "engine", time_runs(b.size.runs, run), b.size.runs,
                    b.executed_gop(b.fp32_engine)});
  b.engine_rss_mib = peak_rss_mib();
}

// INT8: the INT8 engine, the fp32 engine and oneDNN u8s8 run in turn (blocks of runs), for fair
// ratios on a loaded machine; each keeps its workspace from its first run, so the RSS after the
// INT8 warm-up is the INT8 engine's.
void time_int8_engines(NetBench& b, bool onednn) {
  b.run_int8();
  b.engine_rss_mib = peak_rss_mib();
  b.run_fp32();
  const int runs = b.size.runs;
  std::vector<Row> rows = {{"engine", "engine", {}, runs, std::nullopt},
                           {"fp32 engine", "fp32_engine", {}, runs, b.executed_gop(b.fp32_engine)}};
  std::vector<std::function<void()>> timed = {[&b] { b.run_int8(); }, [&b] { b.run_fp32(); }};
  std::optional<engine::OneDnnNetwork> network;
  std::vector<std::uint8_t> output;
  if (onednn && onednn_runs(*b.models.int8_net)) {
    network.emplace(*b.models.int8_net, b.size.width, b.size.height, b.fp32_engine.threads());
    rows.push_back(checked_onednn_row(*network, b.frame.u8, output, b.int8_out, 1.0,
                                      {"oneDNN u8s8", "onednn_int8", {}, runs, std::nullopt},
                                      b.checks));
    timed.push_back([&] { network->run(b.frame.u8.data(), output.data()); });
  }
  const std::vector<Timing> timings = time_alternately(runs, timed);
  for (std::size_t i = 0; i < rows.size(); ++i) {
    rows[i].time = timings[i];
    b.rows.push_back(rows[i]);
  }
}

void time_onednn_fp32(NetBench& b) {
  engine::OneDnnNetwork network(b.models.float_net, b.size.width, b.size.height,
                                b.fp32_engine.threads());
  time_onednn(network, b.frame.f32, b.fp32_out, 1e-4,
              {b.int8() ? "oneDNN fp32" : "oneDNN", "onednn", {}, b.size.runs, std::nullopt},
              b.checks, b.rows);
}

// The reference runtime of the engine's precision (the integer one for INT8).
void time_reference(NetBench& b) {
  std::function<void()> run;
  if (b.int8()) {
    run = [&b, input = planar<U8Tensor>(b.frame, b.frame.u8)] {
      (void)quant::forward(*b.models.int8_net, input);
    };
  } else {
    run = [&b, input = planar<Tensor>(b.frame, b.frame.f32)] {
      (void)reference::forward(b.models.float_net, input);
    };
  }
  b.rows.push_back(reference_row(b.size.reference_runs, run));
}

void print_net_json(const NetBench& b) {
  const Row& lead = b.rows.front();
  const double executed = lead.executed_gop.value_or(b.gop);
  const std::string unit = b.int8() ? "gop" : "gflop";
  nlohmann::json out{{"size", size_text(b.size)},
                     {"threads", b.engine().threads()},
                     {"model", b.models.float_net.config.name()},
                     {"precision", b.int8() ? "int8" : "fp32"},
                     {"isa", isa_name(b.engine().isa())},
                     {"kernel", b.engine().kernel_names()},
                     {unit + "_per_frame", b.gop},
                     {unit + "_executed_per_frame", executed},
                     {"engine_workspace_mib", b.engine().workspace_bytes() / 1048576.0},
                     {"peak_rss_mib_after_engine", b.engine_rss_mib}};
  out.update(b.checks);
  if (b.peak) {
    out["peak_kind"] = b.peak->kind;
    out["peak_threads"] = engine::peak_threads(b.engine().threads());
    out["peak_" + unit + "s"] = b.peak->gops;
    out["engine_pct_peak_executed"] = 100.0 * gops(executed, lead.time) / b.peak->gops;
  }
  out["engine_" + unit + "s"] = gops(b.gop, lead.time);
  out["engine_" + unit + "s_executed"] = gops(executed, lead.time);
  add_rows(out, b.rows, b.peak, b.gop);
  std::cout << out.dump() << "\n";
}

void print_net_text(const NetBench& b) {
  const Engine& engine = b.engine();
  const char* rate_unit = b.int8() ? "GOP/s" : "GFLOP/s";
  std::cout << b.models.description << "\n"
            << size_text(b.size) << ", " << engine.threads() << " thread(s), "
            << (b.int8() ? "INT8" : "fp32") << ", ISA " << isa_name(engine.isa())
            << "\nengine kernels: " << engine.kernel_names() << "\n"
            << std::fixed << std::setprecision(3) << (b.int8() ? "GOP" : "GFLOP")
            << " per frame (2 per multiply-add): " << b.gop << " as direct convolutions (oneDNN)";
  if (const std::optional<double>& executed = b.rows.front().executed_gop) {
    std::cout << ", " << *executed << " executed by the engine (Winograd)";
  }
  std::cout << "\n";
  if (b.peak) {
    std::cout << "peak (" << b.peak->kind << ", " << engine::peak_threads(engine.threads())
              << " threads): " << std::setprecision(1) << b.peak->gops << " " << rate_unit
              << "; direct-conv rate = direct-conv work / time "
              << "(can exceed the peak for Winograd), executed = what really runs\n";
  }
  for (const Row& row : b.rows) print_row(row, b.gop, b.peak, rate_unit);
  std::cout << std::setprecision(2) << "engine workspace " << engine.workspace_bytes() / 1048576.0
            << " MiB, peak RSS after engine runs " << b.engine_rss_mib << " MiB\n";
  for (const auto& [key, difference] : b.checks.items()) {
    std::cout << key << " (vs the engine): " << std::scientific << std::setprecision(1)
              << difference.get<double>() << std::fixed << "\n";
  }
  print_speedups(b.rows);
}

// A QuickSRNet (--model, default random Small x2; fp32 or INT8): the engine against its peak,
// oneDNN (when it runs the net) and the reference runtime.
int bench_net(const ParsedArgs& args, std::optional<Model> model) {
  const BenchRuns size = bench_runs(args, false);
  NetBench b(args, size, load_models(args, std::move(model)));
  const bool onednn = !args.has("--no-onednn") && onednn_runs(b.models.float_net);
  b.int8() ? time_int8_engines(b, onednn) : time_fp32_engine(b);
  if (onednn) time_onednn_fp32(b);
  if (size.reference_runs > 0) time_reference(b);
  args.has("--json") ? print_net_json(b) : print_net_text(b);
  return 0;
}

int bench(const ParsedArgs& args) {
  if (!args.has("--model")) return bench_net(args, std::nullopt);
  Model model = load_model_argument(*args.get("--model"));
  if (const Graph* graph = std::get_if<Graph>(&model.net)) {
    return bench_graph(args, float_graph_bench(args, *graph, model.name()));
  }
  if (const QuantizedGraph* net = std::get_if<QuantizedGraph>(&model.net)) {
    return bench_graph(args, int8_graph_bench(args, *net, model.name()));
  }
  return bench_net(args, std::move(model));
}

}  // namespace

int bench_command(CommandArgs raw) {
  const std::optional<ParsedArgs> args = parse_command(kSpec, raw);
  if (!args) return 0;
  return bench(*args);
}

}  // namespace quicksr::cli
