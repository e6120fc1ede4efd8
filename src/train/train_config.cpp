// TrainConfig <-> JSON and its validation (LibTorch-free, shared by the CLI and the trainer).
#include <algorithm>
#include <cmath>
#include <fstream>
#include <functional>
#include <initializer_list>
#include <numbers>
#include <sstream>
#include <stdexcept>
#include <type_traits>
#include <utility>

#include "common/input_file.hpp"
#include "model/bounded_json.hpp"
#include "quicksr/baselines.hpp"
#include "quicksr/error.hpp"
#include "quicksr/eval.hpp"
#include "quicksr/model.hpp"
#include "train/trainer.hpp"

namespace quicksr::train {
namespace {

using nlohmann::json;

// One entry per TrainConfig field: its JSON key, how to read it from JSON, how to write it.
struct Field {
  const char* key;
  std::function<void(TrainConfig&, const json&)> read;
  std::function<json(const TrainConfig&)> write;
};

// j as a T; integer settings take integers that fit (nlohmann converts 2.5 or 1e300 to an int
// unchecked: the latter is undefined behaviour).
template <typename T>
T setting_value(const json& j) {
  if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
    if (j.is_number_float()) throw std::out_of_range("is not an integer");
    if (j.is_number_integer() &&
        !(j.is_number_unsigned() ? std::in_range<T>(j.get<std::uint64_t>())
                                 : std::in_range<T>(j.get<std::int64_t>()))) {
      throw std::out_of_range("is out of range");
    }
  }
  return j.get<T>();
}

template <typename T>
Field field(const char* key, T TrainConfig::*member) {
  return Field{key, [member](TrainConfig& c, const json& j) { c.*member = setting_value<T>(j); },
               [member](const TrainConfig& c) { return json(c.*member); }};
}

const std::vector<Field>& fields() {
  static const std::vector<Field> kFields = {
      field("data", &TrainConfig::data),
      field("val", &TrainConfig::val),
      field("out", &TrainConfig::out),
      field("arch", &TrainConfig::arch),
      field("preset", &TrainConfig::preset),
      field("scale", &TrainConfig::scale),
      field("degradation", &TrainConfig::degradation),
      field("init", &TrainConfig::init),
      field("activation", &TrainConfig::activation),
      field("iterations", &TrainConfig::iterations),
      field("batch", &TrainConfig::batch),
      field("patch", &TrainConfig::patch),
      field("scale_augment", &TrainConfig::scale_augment),
      field("lr", &TrainConfig::lr),
      field("schedule", &TrainConfig::schedule),
      field("lr_step", &TrainConfig::lr_step),
      field("lr_gamma", &TrainConfig::lr_gamma),
      field("lr_min", &TrainConfig::lr_min),
      field("seed", &TrainConfig::seed),
      field("threads", &TrainConfig::threads),
      field("log_every", &TrainConfig::log_every),
      field("val_every", &TrainConfig::val_every),
      field("checkpoint_every", &TrainConfig::checkpoint_every),
      field("world_size", &TrainConfig::world_size),
      field("rank", &TrainConfig::rank),
      field("rendezvous", &TrainConfig::rendezvous),
      field("from", &TrainConfig::from),
      field("teacher", &TrainConfig::teacher),
      field("loss", &TrainConfig::loss),
      field("image_weight_power", &TrainConfig::image_weight_power),
      field("hr_target", &TrainConfig::hr_target),
      field("qat", &TrainConfig::qat),
      field("per_tensor", &TrainConfig::per_tensor),
      field("learn_ranges", &TrainConfig::learn_ranges),
      field("range_lr_factor", &TrainConfig::range_lr_factor),
      field("calibration_batches", &TrainConfig::calibration_batches),
      field("freeze_oscillations", &TrainConfig::freeze_oscillations),
      field("oscillation_momentum", &TrainConfig::oscillation_momentum),
  };
  return kFields;
}

// The settings of a baseline run (--arch other than quicksrnet): a baseline's inference name,
// x2..x4, and none of the QuickSRNet-only settings.
void validate_baseline(const TrainConfig& config, Scale scale) {
  const std::vector<std::string> names = baseline_names();
  if (config.arch.ends_with("-expanded") ||
      std::find(names.begin(), names.end(), config.arch) == names.end()) {
    std::string known = "quicksrnet";
    for (const std::string& name : names) {
      if (!name.ends_with("-expanded")) known += ", " + name;
    }
    throw Error("training setting arch = '" + config.arch + "': expected one of " + known +
                " (SESR trains in its expanded form and is saved collapsed)");
  }
  if (!scale.is_integer()) {
    throw Error("training setting scale = " + config.scale + ": baselines train x2, x3 or x4");
  }
  if (config.arch == "erfdn" && config.patch < 15) {  // ESA's strided conv and 7x7 pool
    throw Error("training setting patch = " + std::to_string(config.patch) +
                ": erfdn needs LR patches of at least 15 pixels");
  }
  for (const auto& [key, set] :
       {std::pair{"init", config.init != "identity"},
        std::pair{"activation", config.activation != "relu1"}, std::pair{"qat", config.qat}}) {
    if (set) {
      throw Error(std::string("training setting ") + key +
                  " applies to QuickSRNet (--arch quicksrnet), not to " + config.arch);
    }
  }
}

template <typename T>
void check_range(const char* key, T value, T lo, T hi) {
  if (!(value >= lo && value <= hi)) {
    std::ostringstream message;
    message << "training setting " << key << " = " << value << " is outside [" << lo << ", " << hi
            << "]";
    throw Error(message.str());
  }
}

// A setting with a few allowed values.
void check_choice(const char* key, const std::string& value,
                  std::initializer_list<const char*> allowed) {
  if (std::find(allowed.begin(), allowed.end(), value) != allowed.end()) return;
  std::string expected;
  for (std::size_t i = 0; i < allowed.size(); ++i) {
    if (i > 0) expected += i + 1 == allowed.size() ? " or " : ", ";
    expected += allowed.begin()[i];
  }
  throw Error(std::string("training setting ") + key + " = '" + value + "': expected " + expected);
}

}  // namespace

void apply_json(TrainConfig& config, const json& object, const std::string& source) {
  if (!object.is_object()) throw Error(source + ": expected a JSON object of training settings");
  for (const auto& item : object.items()) {
    const std::string& key = item.key();  // a named variable: clang 14 cannot capture bindings
    auto it = std::find_if(fields().begin(), fields().end(),
                           [&](const Field& f) { return key == f.key; });
    if (it == fields().end()) throw Error(source + ": unknown training setting '" + key + "'");
    try {
      it->read(config, item.value());
    } catch (const json::exception& e) {
      throw Error(source + ": training setting '" + key + "' has the wrong type (" + e.what() +
                  ")");
    } catch (const std::out_of_range& e) {
      throw Error(source + ": training setting '" + key + "' " + e.what());
    }
  }
}

json read_config_file(const std::filesystem::path& path) {
  constexpr std::uintmax_t kMaxConfigBytes = 1 << 20;  // settings and folder names: a few kB
  const std::string name = path.string();
  check_regular_file(path);
  std::error_code error;
  if (std::filesystem::file_size(path, error) > kMaxConfigBytes) {
    throw Error(name + ": a training config larger than 1 MB");
  }
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  if (!in) throw Error(name + ": cannot read the training config");
  const std::string bytes = text.str();
  json config;
  try {
    config = parse_bounded_json(bytes.begin(), bytes.end());
  } catch (const Error& e) {
    throw Error(name + ": " + e.what());
  }
  if (config.is_discarded()) throw Error(name + ": not valid JSON");
  return config;
}

json to_json(const TrainConfig& config) {
  json object = json::object();
  for (const Field& f : fields()) object[f.key] = f.write(config);
  return object;
}

namespace {

// What the run trains: the net, its scale and initialisation, and the data's degradation.
void validate_net(const TrainConfig& config, Scale scale) {
  if (scale != Scale{2, 1} && scale != Scale{3, 1} && scale != Scale{4, 1} &&
      scale != Scale{3, 2}) {
    throw Error("training setting scale = " + config.scale +
                ": QuickSRNet trains x2, x3, x4 or x1.5");
  }
  QuickSRNetConfig::preset(config.preset, scale);  // throws for unknown presets or scales
  if (config.arch != "quicksrnet") validate_baseline(config, scale);
  try {
    parse_degradation(config.degradation);
    parse_activation(config.activation);
  } catch (const Error& e) {
    throw Error(std::string("training setting ") + e.what());
  }
  check_choice("init", config.init, {"identity", "default"});
  if (config.init != "identity" && !config.from.empty()) {
    throw Error("training setting init applies to training from scratch, not to --from MODEL");
  }
}

// How it trains: batches, patches, loss, the teacher's weights and the learning-rate schedule.
void validate_optimisation(const TrainConfig& config, Scale scale) {
  check_range<std::int64_t>("iterations", config.iterations, 1, 100'000'000);
  check_range("batch", config.batch, 1, 4096);
  check_range("patch", config.patch, 4, 1024);
  if (!scale.is_integer() && config.patch % 2 != 0) {
    throw Error("training setting patch must be even for x1.5 (pixel-unshuffle by 2)");
  }
  check_range("scale_augment", config.scale_augment, 0.1, 1.0);
  check_range("lr", config.lr, 1e-9, 1.0);
  check_choice("loss", config.loss, {"l1", "mse"});
  check_range("image_weight_power", config.image_weight_power, 0.0, 8.0);
  if (config.image_weight_power != 0 && config.teacher.empty()) {
    throw Error(
        "training setting image_weight_power weighs each patch by the teacher's error on its "
        "image: give --teacher MODEL");
  }
  if (config.hr_target && config.image_weight_power == 0) {
    throw Error(
        "training setting hr_target keeps the teacher only for image_weight_power's weights: give "
        "--image-weight-power P (without it, train without --teacher)");
  }
  check_choice("schedule", config.schedule, {"cosine", "step"});
  check_range<std::int64_t>("lr_step", config.lr_step, 1, 100'000'000);
  check_range("lr_gamma", config.lr_gamma, 1e-6, 1.0);
  check_range("lr_min", config.lr_min, 0.0, config.lr);
  check_range("threads", config.threads, 0, 1024);
}

// The log, validation and checkpoint periods.
void validate_periods(const TrainConfig& config) {
  check_range<std::int64_t>("log_every", config.log_every, 1, 100'000'000);
  check_range<std::int64_t>("val_every", config.val_every, 1, 100'000'000);
  check_range<std::int64_t>("checkpoint_every", config.checkpoint_every, 1, 100'000'000);
  for (const auto& [key, every] : {std::pair{"val_every", config.val_every},
                                   std::pair{"checkpoint_every", config.checkpoint_every}}) {
    if (every % config.log_every != 0) {  // so that the log rows are the same after a resume
      throw Error(std::string("training setting ") + key + " = " + std::to_string(every) +
                  " is not a multiple of log_every = " + std::to_string(config.log_every));
    }
  }
}

// Quantization-aware training's settings, each only with the setting it refines.
void validate_qat(const TrainConfig& config) {
  check_range("calibration_batches", config.calibration_batches, 1, 100'000);
  if (config.qat && config.from.empty()) {
    throw Error("quantization-aware training fine-tunes a trained model: give --from MODEL");
  }
  const auto needs_qat = [&](bool set, const char* key) {
    if (set && !config.qat) {
      throw Error(std::string("training setting ") + key +
                  " applies to quantization-aware training (--qat)");
    }
  };
  needs_qat(config.per_tensor, "per_tensor");
  needs_qat(config.learn_ranges, "learn_ranges");
  check_range("range_lr_factor", config.range_lr_factor, 1e-3, 1e4);
  if (config.range_lr_factor != 1 && !config.learn_ranges) {
    throw Error("training setting range_lr_factor applies to learned ranges (--learn-ranges)");
  }
  check_range("freeze_oscillations", config.freeze_oscillations, 0.0, 1.0);
  needs_qat(config.freeze_oscillations > 0, "freeze_oscillations");
  check_range("oscillation_momentum", config.oscillation_momentum, 1e-6, 1.0);
  if (config.oscillation_momentum != TrainConfig{}.oscillation_momentum &&
      config.freeze_oscillations == 0) {
    throw Error("training setting oscillation_momentum applies to --freeze-oscillations");
  }
}

void validate_distributed(const TrainConfig& config) {
  check_range("world_size", config.world_size, 1, 1024);
  check_range("rank", config.rank, 0, config.world_size - 1);
  if (config.world_size > 1 && !config.rendezvous.starts_with("file:") &&
      !config.rendezvous.starts_with("tcp:")) {
    throw Error("distributed training needs --rendezvous file:PATH or tcp:HOST:PORT");
  }
}

}  // namespace

void validate(const TrainConfig& config) {
  if (config.data.empty()) throw Error("no training data: give at least one --data folder");
  if (config.out.empty()) throw Error("no run folder: give --out RUN_DIR");
  const Scale scale = Scale::parse(config.scale);
  validate_net(config, scale);
  validate_optimisation(config, scale);
  validate_periods(config);
  validate_qat(config);
  validate_distributed(config);
}

std::vector<double> scale_augment_factors(const TrainConfig& config) {
  std::vector<double> factors;
  // Tenths counted in integers: 0.6 must include 0.6 whatever its binary rounding.
  for (int tenths = 9; tenths >= std::lround(config.scale_augment * 10); --tenths) {
    factors.push_back(tenths / 10.0);
  }
  return factors;
}

QuickSRNetConfig net_config(const TrainConfig& config) {
  QuickSRNetConfig net = QuickSRNetConfig::preset(config.preset, Scale::parse(config.scale));
  net.activation = parse_activation(config.activation);
  return net;
}

QuickSRNet::Initialization initialization(const TrainConfig& config) {
  return config.init == "default" ? QuickSRNet::Initialization::kDefault
                                  : QuickSRNet::Initialization::kIdentity;
}

double learning_rate(const TrainConfig& config, std::int64_t iteration) {
  if (config.schedule == "step") {
    return config.lr * std::pow(config.lr_gamma, static_cast<double>(iteration / config.lr_step));
  }
  const double progress = static_cast<double>(iteration) / static_cast<double>(config.iterations);
  return config.lr_min +
         0.5 * (config.lr - config.lr_min) * (1 + std::cos(std::numbers::pi * progress));
}

std::filesystem::path config_path(const std::filesystem::path& run_dir) {
  return run_dir / "config.json";
}

std::filesystem::path checkpoint_path(const std::filesystem::path& run_dir) {
  return run_dir / "checkpoint.pt";
}

std::filesystem::path image_weights_path(const std::filesystem::path& run_dir) {
  return run_dir / "image_weights.csv";
}

std::vector<double> image_loss_weights(const std::vector<double>& errors, double power) {
  std::vector<double> weights;
  double sum = 0;
  for (const double error : errors) sum += weights.emplace_back(std::pow(error, -power));
  for (double& weight : weights) weight *= static_cast<double>(weights.size()) / sum;
  return weights;
}

std::filesystem::path int8_path(const std::filesystem::path& model_file) {
  return model_file.parent_path() / (model_file.stem().string() + "-int8.safetensors");
}

}  // namespace quicksr::train
