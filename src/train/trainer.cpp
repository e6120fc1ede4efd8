// The training loop: data, optimizer, schedule, logging, validation, checkpoints and export.
#include "train/trainer.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstring>
#include <iostream>
#include <optional>
#include <thread>

#include "common/atomic_file.hpp"
#include "common/file_lock.hpp"
#include "common/progress.hpp"
#include "quicksr/baselines.hpp"
#include "quicksr/error.hpp"
#include "quicksr/eval.hpp"
#include "quicksr/model_io.hpp"
#include "quicksr/quant.hpp"
#include "train/checkpoint.hpp"
#include "train/dataset.hpp"
#include "train/distributed.hpp"
#include "train/graph_net.hpp"
#include "train/prefetcher.hpp"
#include "train/run_log.hpp"
#include "train/torch.hpp"
#include "train/torch_net.hpp"

namespace quicksr::train {
namespace {

namespace fs = std::filesystem;

struct Batch {
  torch::Tensor lr;
  torch::Tensor hr;
  std::vector<std::int64_t> images;  // the pair (TrainingSet::pairs) of each patch
};

// This process's share of the global batch of iteration `k`: samples rank*batch ... so that
// N processes together see exactly the batch one process with N times the batch would see.
Batch make_batch(const TrainingSet& data, const TrainConfig& config, std::int64_t k) {
  const int p = data.lr_patch(), hr_p = data.hr_patch();
  Batch batch{torch::empty({config.batch, 3, p, p}), torch::empty({config.batch, 3, hr_p, hr_p})};
  for (int i = 0; i < config.batch; ++i) {
    const std::size_t image =
        data.sample(config.seed, k, static_cast<std::int64_t>(config.rank) * config.batch + i,
                    batch.lr.data_ptr<float>() + static_cast<std::int64_t>(i) * 3 * p * p,
                    batch.hr.data_ptr<float>() + static_cast<std::int64_t>(i) * 3 * hr_p * hr_p);
    batch.images.push_back(static_cast<std::int64_t>(image));
  }
  batch.lr = batch.lr.contiguous(torch::MemoryFormat::ChannelsLast);
  batch.hr = batch.hr.contiguous(torch::MemoryFormat::ChannelsLast);
  return batch;
}

// What a checkpoint trains; a run may resume it only if this matches. (Keys for the starting
// model and QAT appear only when used, so older checkpoints keep their identity.)
std::string identity(const TrainConfig& config) {
  nlohmann::json id = {{"preset", config.preset},
                       {"scale", config.scale},
                       {"global_batch", config.batch * config.world_size},
                       {"patch", config.patch},
                       {"seed", config.seed},
                       {"data", config.data}};
  if (!config.from.empty()) id["from"] = config.from;
  if (!config.teacher.empty()) id["teacher"] = config.teacher;
  if (config.loss != "l1") id["loss"] = config.loss;
  if (config.image_weight_power != 0) id["image_weight_power"] = config.image_weight_power;
  if (config.hr_target) id["hr_target"] = true;
  if (config.arch != "quicksrnet") id["arch"] = config.arch;
  if (config.degradation != "bicubic") id["degradation"] = config.degradation;
  if (config.scale_augment != 1.0) id["scale_augment"] = config.scale_augment;
  if (config.qat) id["qat"] = config.per_tensor ? "per-tensor" : "per-channel";
  if (config.learn_ranges) id["learn_ranges"] = true;
  if (config.freeze_oscillations > 0) {
    id["freeze_oscillations"] = {config.freeze_oscillations, config.oscillation_momentum};
  }
  if (config.init != "identity") id["init"] = config.init;
  if (config.activation != "relu1") id["activation"] = config.activation;
  return id.dump();
}

// The starting network of a QuickSRNet run: the paper initialisation (--init), or the QuickSRNet
// `model` of --from (which must be the preset, scale and activation of the run).
std::shared_ptr<TrainableNet> initial_quicksrnet(const TrainConfig& config, const Model* model) {
  const QuickSRNetConfig wanted = net_config(config);
  if (!model) {
    return std::make_shared<TorchQuickSRNetImpl>(
        QuickSRNet::initialized(wanted, config.seed, initialization(config)));
  }
  const auto* net = std::get_if<QuickSRNet>(&model->net);
  const auto* int8 = std::get_if<QuantizedQuickSRNet>(&model->net);
  const QuickSRNetConfig* held = net ? &net->config : int8 ? &int8->config : nullptr;
  if (!held || *held != wanted) {
    throw Error(config.from + ": the run trains " + wanted.name() +
                " (--preset, --scale, --activation), but the file holds " + model->name());
  }
  if (net) return std::make_shared<TorchQuickSRNetImpl>(*net);
  if (!config.qat || config.per_tensor == int8->per_channel()) {
    throw Error(config.from + ": an INT8 model (" +
                (int8->per_channel() ? "per channel" : "per tensor") +
                ") starts quantization-aware training only: give --qat" +
                (int8->per_channel() ? "" : " --per-tensor"));
  }
  return std::make_shared<TorchQuickSRNetImpl>(*int8);
}

// The starting network of a baseline run (--arch) or of a graph given by --from: the baseline's
// initial_training_graph from the seed, or the file's graph (of --arch, when given, and the
// run's scale).
std::shared_ptr<TrainableNet> initial_graph(const TrainConfig& config, const Model* model) {
  const Scale scale = Scale::parse(config.scale);
  if (!model) {
    return std::make_shared<TorchGraphNetImpl>(
        initial_training_graph(config.arch, {.scale = scale, .seed = config.seed}));
  }
  const Graph& graph = std::get<Graph>(model->net);
  const bool arch_matches = config.arch == "quicksrnet" || graph.architecture == config.arch ||
                            graph.architecture == training_form(config.arch);
  if (!arch_matches || graph.scale != scale || config.qat) {
    throw Error(config.from + ": the run trains " + config.arch + " x" + config.scale +
                (config.qat ? " with QAT (QuickSRNet only)" : "") + ", but the file holds " +
                model->name());
  }
  return std::make_shared<TorchGraphNetImpl>(graph);
}

// The float model of --teacher (none without it), at the run's scale.
std::shared_ptr<TrainableNet> teacher_net(const TrainConfig& config) {
  if (config.teacher.empty()) return nullptr;
  const Model model = load_model(config.teacher);
  if (model.scale() != Scale::parse(config.scale)) {
    throw Error(config.teacher + ": the teacher holds " + model.name() + ", the run trains x" +
                config.scale);
  }
  if (const auto* net = std::get_if<QuickSRNet>(&model.net)) {
    return std::make_shared<TorchQuickSRNetImpl>(*net);
  }
  if (const auto* graph = std::get_if<Graph>(&model.net)) {
    return std::make_shared<TorchGraphNetImpl>(*graph);
  }
  throw Error(config.teacher + ": the teacher must be a float model, the file holds " +
              model.name());
}

std::shared_ptr<TrainableNet> initial_net(const TrainConfig& config) {
  const std::optional<Model> model =
      config.from.empty() ? std::nullopt : std::optional<Model>(load_model(config.from));
  const bool graph =
      model ? std::holds_alternative<Graph>(model->net) : config.arch != "quicksrnet";
  return graph ? initial_graph(config, model ? &*model : nullptr)
               : initial_quicksrnet(config, model ? &*model : nullptr);
}

// Set by SIGINT / SIGTERM: the loop stops after the current step and writes a checkpoint (in a
// data-parallel run, every process after the step where any of them saw the signal).
volatile std::sig_atomic_t stop_requested = 0;

extern "C" void request_stop(int) { stop_requested = 1; }

// Installs request_stop for SIGINT and SIGTERM while alive.
class StopSignals {
 public:
  StopSignals() {
    stop_requested = 0;
    previous_interrupt_ = std::signal(SIGINT, request_stop);
    previous_terminate_ = std::signal(SIGTERM, request_stop);
  }
  ~StopSignals() {
    std::signal(SIGINT, previous_interrupt_);
    std::signal(SIGTERM, previous_terminate_);
  }
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;

 private:
  void (*previous_interrupt_)(int);
  void (*previous_terminate_)(int);
};

// `net` as an upscaler of whole images (no gradients).
UpscaleFn upscaler(TrainableNet& net) {
  return [&net](const Tensor& lr) {
    torch::NoGradGuard no_grad;
    const torch::Tensor input =
        torch::from_blob(const_cast<float*>(lr.data.data()), {1, lr.channels, lr.height, lr.width});
    const torch::Tensor output = net.forward(input).contiguous();
    Tensor sr(static_cast<int>(output.size(1)), static_cast<int>(output.size(2)),
              static_cast<int>(output.size(3)));
    std::memcpy(sr.data.data(), output.data_ptr<float>(), sr.data.size() * sizeof(float));
    return sr;
  };
}

EvalResult validate_model(TrainableNet& net, const fs::path& folder, Scale scale,
                          Degradation degradation) {
  EvalProtocol protocol;
  protocol.degradation = degradation;
  return evaluate(upscaler(net), folder, scale, protocol);
}

std::string format(const char* pattern, double value) {
  char text[64];
  std::snprintf(text, sizeof text, pattern, value);
  return text;
}

// The Adam parameter group of the learned activation ranges (--learn-ranges); 0 holds the weights.
constexpr std::size_t kRangeGroup = 1;

class Run {
 public:
  Run(const TrainConfig& config, std::string command)
      : config_(config),
        command_(std::move(command)),
        dir_(config.out),
        lead_(config.rank == 0),
        scale_(Scale::parse(config.scale)),
        averager_(config.world_size, config.rank, config.rendezvous),
        data_(std::vector<fs::path>(config.data.begin(), config.data.end()), scale_, config.patch,
              std::cerr, parse_degradation(config.degradation), scale_augment_factors(config)),
        net_(initial_net(config)),
        teacher_(teacher_net(config)),
        name_(net_->to_model().name()),
        adam_(net_->parameters(), torch::optim::AdamOptions(config.lr).betas({0.9, 0.999})) {}

  void train() {
    report_data();
    const bool resuming = fs::exists(checkpoint_path(dir_));
    if (config_.qat && !quicksrnet().fake_quantization()) {  // INT8 --from: enabled already
      // A resumed run loads the encodings with the checkpoint.
      quicksrnet().enable_fake_quantization(
          resuming ? placeholder_encodings() : calibrate(),
          config_.per_tensor ? WeightGranularity::kPerTensor : WeightGranularity::kPerChannel);
    }
    if (config_.learn_ranges) {  // before loading a checkpoint: it holds their Adam state
      // The group after the weights' (kRangeGroup).
      adam_.add_param_group(
          torch::optim::OptimizerParamGroup({quicksrnet().learn_activation_ranges()}));
    }
    if (config_.freeze_oscillations > 0) {  // before loading a checkpoint: it holds the state
      if (!quicksrnet().starts_from_int8()) {
        throw Error(config_.from +
                    ": --freeze-oscillations needs QAT from an INT8 model (its weight scales stay "
                    "fixed), but this is a float model");
      }
      quicksrnet().enable_oscillation_freezing(
          {config_.freeze_oscillations, config_.oscillation_momentum});
    }
    if (resuming) {
      progress_ = load_checkpoint(checkpoint_path(dir_), *net_, adam_, identity(config_));
      net_->use_channels_last();
      std::cerr << "resuming " << dir_.string() << " at iteration " << progress_.iteration << "\n";
    }
    if (config_.image_weight_power != 0) image_weights_ = teacher_image_weights();
    rows_ = read_log(log_path(), progress_.iteration);
    if (lead_) {
      write_bytes_atomically(config_path(dir_), to_json(config_).dump(2) + "\n",
                             ExistingFile::kReplace);
    }
    loop();
    if (stopping_) {
      if (lead_) save_checkpoint(checkpoint_path(dir_), *net_, adam_, progress_, identity(config_));
      if (lead_) export_model(dir_ / "last.safetensors");
      throw Error("stopped by a signal at iteration " + std::to_string(progress_.iteration) +
                  ": checkpoint written to " + checkpoint_path(dir_).string() +
                  "; the same command resumes the run");
    }
    if (lead_) export_model(dir_ / "last.safetensors");
  }

 private:
  fs::path log_path() const { return dir_ / "log.csv"; }

  // QAT runs train a QuickSRNet (validate() and initial_graph() refuse QAT of graphs).
  TorchQuickSRNetImpl& quicksrnet() const { return dynamic_cast<TorchQuickSRNetImpl&>(*net_); }

  // QAT: activation encodings by min/max ("tf") of each quantizer's input (a ReLU1 or clip
  // output) over the LR patches of the first batches, seen through the float net.
  ActivationEncodings calibrate() {
    std::vector<torch::Tensor> lr;
    for (int k = 0; k < config_.calibration_batches; ++k) {
      lr.push_back(make_batch(data_, config_, k).lr);
    }
    const ActivationEncodings encodings = quicksrnet().calibrate_encodings(torch::cat(lr));
    if (lead_) {
      std::cerr << "QAT: encodings calibrated (min/max) on " << config_.calibration_batches
                << " batches of LR patches\n";
    }
    return encodings;
  }

  ActivationEncodings placeholder_encodings() const {
    ActivationEncodings encodings;
    encodings.features.resize(net_config(config_).blocks + 1);
    return encodings;
  }

  // --image-weight-power: the loss weight of every training pair from the teacher's error on the
  // whole image (the evaluation protocol's Y PSNR; the error is the MSE over the peak squared),
  // recomputed identically at every start so that a resumed run continues exactly.
  torch::Tensor teacher_image_weights() const {
    const UpscaleFn teacher = upscaler(*teacher_);
    std::vector<double> psnrs, errors;
    for (const TrainingPair& pair : data_.pairs()) {
      psnrs.push_back(psnr(teacher(pair.lr), pair.hr));
      errors.push_back(std::pow(10.0, -psnrs.back() / 10));
    }
    const std::vector<double> weights = image_loss_weights(errors, config_.image_weight_power);
    if (lead_) {
      std::string csv = "image,teacher_psnr,weight\n";
      for (std::size_t i = 0; i < weights.size(); ++i) {
        csv += data_.pairs()[i].name + "," + format("%.6f", psnrs[i]) + "," +
               format("%.6g", weights[i]) + "\n";
      }
      write_bytes_atomically(image_weights_path(dir_), csv, ExistingFile::kReplace);
      const auto [lightest, heaviest] = std::minmax_element(weights.begin(), weights.end());
      std::cerr << "image weights (teacher error ^ -" << config_.image_weight_power
                << "): " << format("%.3g", *lightest) << " to " << format("%.3g", *heaviest)
                << ", written to " << image_weights_path(dir_).string() << "\n";
    }
    std::vector<float> values(weights.begin(), weights.end());
    return torch::tensor(values);
  }

  void report_data() const {
    if (!lead_) return;
    const LoadSummary& s = data_.summary();
    std::cerr << "training images: " << s.loaded << " used, " << s.unreadable << " unreadable, "
              << s.too_small << " smaller than the patch";
    if (s.scaled_copies > 0) std::cerr << ", " << s.scaled_copies << " scaled copies";
    std::cerr << "\n";
  }

  void loop() {
    Prefetcher<Batch> batches(
        progress_.iteration, config_.iterations,
        [this](std::int64_t k) { return make_batch(data_, config_, k); }, 4);
    ProgressBar bar("train " + name_, config_.iterations);
    const auto start = std::chrono::steady_clock::now();
    const std::int64_t first = progress_.iteration;
    while (progress_.iteration < config_.iterations && !stopping_) {
      const double lr = learning_rate(config_, progress_.iteration);
      step(batches.next(), lr);
      after_step(lr);
      bar.update(progress_.iteration, status());
    }
    bar.finish(status());
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (progress_.iteration > first) {
      std::cerr << "mean step time: "
                << format("%.1f", 1000 * seconds / static_cast<double>(progress_.iteration - first))
                << " ms\n";
    }
  }

  void step(const Batch& batch, double lr) {
    auto& groups = adam_.param_groups();
    for (std::size_t g = 0; g < groups.size(); ++g) {
      const double factor = g == kRangeGroup ? config_.range_lr_factor : 1.0;
      static_cast<torch::optim::AdamOptions&>(groups[g].options()).lr(lr * factor);
    }
    adam_.zero_grad();
    torch::Tensor loss = loss_of(net_->forward(batch.lr), target(batch), batch.images);
    loss.backward();
    stopping_ = averager_.average(net_->parameters(), loss, stop_requested != 0);
    adam_.step();
    if (config_.learn_ranges) quicksrnet().clamp_activation_ranges();
    if (config_.freeze_oscillations > 0) quicksrnet().freeze_oscillating_weights();
    ++progress_.iteration;
    loss_sum_ += loss.item<double>();
    ++loss_count_;
  }

  torch::Tensor loss_of(const torch::Tensor& output, const torch::Tensor& target,
                        const std::vector<std::int64_t>& images) const {
    if (!image_weights_.defined()) {
      return config_.loss == "mse" ? torch::mse_loss(output, target)
                                   : torch::l1_loss(output, target);
    }
    const torch::Tensor difference = output - target;
    const torch::Tensor per_patch =
        (config_.loss == "mse" ? difference.square() : difference.abs()).mean({1, 2, 3});
    return (per_patch * image_weights_.index_select(0, torch::tensor(images))).mean();
  }

  // The HR patches, or with --teacher (and no --hr-target) the teacher's output on the LR patches.
  torch::Tensor target(const Batch& batch) const {
    if (!teacher_ || config_.hr_target) return batch.hr;
    torch::NoGradGuard no_grad;
    return teacher_->forward(batch.lr);
  }

  void after_step(double lr) {
    const std::int64_t k = progress_.iteration;
    const bool last = k == config_.iterations;
    if (k % config_.log_every != 0 && !last) return;
    LogRow row{k, loss_sum_ / static_cast<double>(loss_count_), lr, {}, {}};
    loss_sum_ = 0;
    loss_count_ = 0;
    const bool new_best = lead_ && !config_.val.empty() && (k % config_.val_every == 0 || last) &&
                          run_validation(row);
    rows_.push_back(row);
    if (!lead_) return;
    write_log(rows_, log_path());
    // A new best is checkpointed before it is written, so best.safetensors never holds a state
    // past the checkpoint: one that a run resumed after a kill would not retrace.
    if (k % config_.checkpoint_every == 0 || last || new_best) {
      save_checkpoint(checkpoint_path(dir_), *net_, adam_, progress_, identity(config_));
      export_model(dir_ / "last.safetensors");
    }
    if (new_best) export_model(dir_ / "best.safetensors");
  }

  // Scores the net on --val into `row`; true when it is the best score so far.
  bool run_validation(LogRow& row) {
    const EvalResult result =
        validate_model(*net_, config_.val, scale_, parse_degradation(config_.degradation));
    row.val_psnr = result.mean_psnr;
    row.val_ssim = result.mean_ssim;
    last_val_ = result;
    write_psnr_plot(rows_with(row),
                    name_ + ": validation PSNR (" + fs::path(config_.val).filename().string() + ")",
                    dir_ / "val_psnr.svg");
    if (result.mean_psnr <= progress_.best_psnr) return false;
    progress_.best_psnr = result.mean_psnr;
    progress_.best_iteration = row.iteration;
    return true;
  }

  std::vector<LogRow> rows_with(const LogRow& row) const {
    std::vector<LogRow> rows = rows_;
    rows.push_back(row);
    return rows;
  }

  std::string status() const {
    if (rows_.empty()) return "";
    const LogRow& row = rows_.back();
    std::string text = "loss " + format("%.5f", row.loss) + " lr " + format("%.2e", row.lr);
    if (progress_.best_psnr > 0) text += " best val " + format("%.3f dB", progress_.best_psnr);
    if (config_.freeze_oscillations > 0) {
      text += " frozen " + std::to_string(quicksrnet().frozen_weights());
    }
    return text;
  }

  void export_model(const fs::path& path) const {
    Model model = net_->to_model();
    std::string data;
    for (const auto& folder : config_.data) data += (data.empty() ? "" : ", ") + folder;
    model.provenance = {
        {"trainer", "quicksr train (LibTorch " TORCH_VERSION ")"},
        {"data", data},
        {"data_images", std::to_string(data_.summary().loaded)},
        {"command", command_},
        {"config", to_json(config_).dump()},
        {"iterations", std::to_string(progress_.iteration)},
        {"batch", std::to_string(config_.batch * config_.world_size)},
        {"lr_patch", std::to_string(config_.patch)},
        {"seed", std::to_string(config_.seed)},
        {"degradation", config_.degradation},
    };
    if (last_val_) {
      model.provenance["validation"] = config_.val;
      model.provenance["validation_psnr"] = format("%.4f", last_val_->mean_psnr);
      model.provenance["validation_ssim"] = format("%.4f", last_val_->mean_ssim);
    }
    save_model(model, path);
    if (!config_.qat) return;
    if (quicksrnet().fake_quantization()) {
      save_model(int8_model(model, path.filename().string()), int8_path(path));
    }
  }

  std::string range_lr_note() const {
    if (config_.range_lr_factor == 1) return "";
    return ", learning rate " + format("%g", config_.range_lr_factor) + " x the weights'";
  }

  std::string frozen_note() const {
    if (config_.freeze_oscillations == 0) return "";
    return ", oscillating weights frozen (threshold " + format("%g", config_.freeze_oscillations) +
           ", momentum " + format("%g", config_.oscillation_momentum) +
           "): " + std::to_string(quicksrnet().frozen_weights()) + " of " +
           std::to_string(quicksrnet().quantized_weights());
  }

  // QAT: the INT8 model the fake-quantized net stands for (TorchQuickSRNet::to_quantized).
  Model int8_model(const Model& fp32, const std::string& fp32_file) const {
    const WeightGranularity granularity =
        config_.per_tensor ? WeightGranularity::kPerTensor : WeightGranularity::kPerChannel;
    Model int8{quicksrnet().to_quantized(granularity), fp32.provenance};
    int8.provenance["fp32_model"] = fp32_file;
    const bool from_int8 = quicksrnet().starts_from_int8();
    int8.provenance["quantization"] =
        std::string("quicksr train --qat ") + (config_.per_tensor ? "per-tensor" : "per-channel") +
        (from_int8 ? " from the INT8 model " + config_.from + " (its encodings and weight scales)"
                   : " (tf encodings calibrated on " + std::to_string(config_.calibration_batches) +
                         " batches of LR patches)") +
        (config_.learn_ranges ? ", activation ranges learned (LSQ" + range_lr_note() + ")" : "") +
        frozen_note();
    if (!config_.teacher.empty()) int8.provenance["teacher"] = config_.teacher;
    return int8;
  }

  TrainConfig config_;
  std::string command_;
  fs::path dir_;
  bool lead_;
  Scale scale_;
  GradientAverager averager_;
  TrainingSet data_;
  std::shared_ptr<TrainableNet> net_;
  std::shared_ptr<TrainableNet> teacher_;  // --teacher, or null
  torch::Tensor image_weights_;            // --image-weight-power: per pair; undefined without
  std::string name_;  // the model's name, e.g. quicksrnet-small-x2 or fsrcnn-x2
  torch::optim::Adam adam_;
  Progress progress_;
  std::vector<LogRow> rows_;
  std::optional<EvalResult> last_val_;
  double loss_sum_ = 0;
  std::int64_t loss_count_ = 0;
  bool stopping_ = false;  // a signal reached this process (or, data-parallel, any process)
};

}  // namespace

void run_training(const TrainConfig& config, const std::string& command) {
  validate(config);
  torch::set_num_threads(config.threads > 0
                             ? config.threads
                             : static_cast<int>(std::max(1u, std::thread::hardware_concurrency())));
  std::error_code ec;
  const bool created = fs::create_directories(config.out, ec);
  if (ec) throw Error(config.out + ": cannot create the run folder: " + ec.message());
  const StopSignals signals;
  const fs::path lock = fs::path(config.out) / ".lock";
  try {
    // One run at a time writes a folder (ranks > 0 share the lead's and write nothing).
    std::optional<FileLock> held;
    if (config.rank == 0) {
      held.emplace(lock, config.out + ": another quicksr train uses this run folder");
    }
    Run(config, command).train();
  } catch (...) {
    // A run refused before it wrote anything (no usable image, a bad --from) leaves no folder.
    if (created) {
      fs::remove(lock, ec);
      if (fs::is_empty(config.out, ec)) fs::remove(config.out, ec);
    }
    throw;
  }
}

}  // namespace quicksr::train
