#pragma once
// `quicksr train` without LibTorch in sight: the configuration of a training run and the entry
// point that runs it. Everything LibTorch stays inside src/train.
#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "quicksr/model.hpp"

namespace quicksr::train {

// Every field is also a key of the JSON config file and a command-line option (--lr-step for
// "lr_step"): one name per setting.
struct TrainConfig {
  std::vector<std::string> data;        // folders of HR training images
  std::string val;                      // folder of HR validation images ("" = no validation)
  std::string out;                      // run folder: config.json, log.csv, checkpoints, models
  std::string arch = "quicksrnet";      // quicksrnet (the preset) | a baseline (docs/baselines.md)
  std::string preset = "small";         // small | medium | large | fF-mM[-anchor] (f32-m3)
  std::string scale = "2";              // 2 | 3 | 4 | 1.5
  std::string degradation = "bicubic";  // LR of training and validation: bicubic | point | area
  std::string init = "identity";        // identity (paper Eq. 1-3) | default (PyTorch's alone)
  std::string activation = "relu1";     // relu1 (clamp(x, 0, 1)) | relu (max(x, 0))
  std::int64_t iterations = 300000;
  int batch = 16;  // patches per step (per process when distributed)
  int patch = 64;  // LR patch side in pixels
  // Scale augmentation: copies of every HR image downscaled by 0.9, 0.8, ... down to this
  // factor join the data (VDSR's 0.6 gives 4 copies); 1 = none.
  double scale_augment = 1.0;
  double lr = 1e-3;
  std::string schedule = "cosine";  // cosine | step
  std::int64_t lr_step = 200000;    // step: multiply by lr_gamma every lr_step iterations
  double lr_gamma = 0.5;
  double lr_min = 1e-6;  // cosine: final learning rate
  std::uint64_t seed = 1;
  int threads = 0;               // compute threads (0 = every core)
  std::int64_t log_every = 100;  // iterations per CSV row
  std::int64_t val_every = 5000;
  std::int64_t checkpoint_every = 2000;
  int world_size = 1;  // distributed data-parallel processes
  int rank = 0;
  std::string rendezvous;  // file:PATH or tcp:HOST:PORT when world_size > 1
  std::string from;     // model file to start from instead of the paper initialisation; with --qat
                        // an INT8 model (its encodings and weight scales) or a float one
  std::string teacher;  // float model whose output replaces the HR patch as target (distillation)
  std::string loss = "l1";  // l1 | mse (the mean squared error, what PSNR measures)
  // With --teacher: each patch's loss weighs (e_i / mean e)^-P, e_i the teacher's error on the
  // whole image the patch comes from (image_loss_weights); 0 = every patch alike.
  double image_weight_power = 0;
  // With image_weight_power: the loss compares with the HR patch (the evaluation's target) and the
  // teacher only sets the weights, so the weighted loss is the per-image PSNR objective itself.
  bool hr_target = false;
  bool qat = false;             // quantization-aware training (fake quant, straight-through)
  bool per_tensor = false;      // QAT: s8 weights per tensor instead of per output channel
  bool learn_ranges = false;    // QAT: activation ranges trained (LSQ), not fixed
  double range_lr_factor = 1;   // learn_ranges: the ranges' learning rate as a multiple of lr
  int calibration_batches = 8;  // QAT: batches whose LR patches calibrate the encodings
  // QAT from an INT8 model: freeze weights whose oscillation frequency exceeds this (Nagel et al.
  // 2022; train/oscillation.hpp); 0 = off. The momentum is the frequency's EMA weight.
  double freeze_oscillations = 0;
  double oscillation_momentum = 0.01;
};

// Applies the keys present in `json` (an object with TrainConfig's field names) to `config`;
// throws quicksr::Error naming `source` and the key for unknown keys or wrong types.
void apply_json(TrainConfig& config, const nlohmann::json& json, const std::string& source);
nlohmann::json to_json(const TrainConfig& config);
// The JSON object of a training config file (--config, a run's config.json); throws
// quicksr::Error naming `path` for a file that is not regular, too large or not JSON.
nlohmann::json read_config_file(const std::filesystem::path& path);
// Throws quicksr::Error naming the setting for missing or out-of-range values.
void validate(const TrainConfig& config);

// The QuickSRNet the run trains (--arch quicksrnet): the preset at the run's scale with its
// activation.
QuickSRNetConfig net_config(const TrainConfig& config);
// The run's initialisation (--init).
QuickSRNet::Initialization initialization(const TrainConfig& config);

// The downscaling factors of --scale-augment: 0.9, 0.8, ... down to config.scale_augment.
std::vector<double> scale_augment_factors(const TrainConfig& config);

// The learning rate of the step that follows `iteration` completed steps.
double learning_rate(const TrainConfig& config, std::int64_t iteration);

// The loss weights of --image-weight-power: w_i = errors[i]^-power normalised so that the weights
// average 1, i.e. w_i = (errors[i] / mean error)^-power / mean_j (errors[j] / mean error)^-power.
std::vector<double> image_loss_weights(const std::vector<double>& errors, double power);

// The run folder's files.
std::filesystem::path config_path(const std::filesystem::path& run_dir);      // config.json
std::filesystem::path checkpoint_path(const std::filesystem::path& run_dir);  // checkpoint.pt
// --image-weight-power: image, teacher PSNR (evaluation protocol) and loss weight per training
// pair.
std::filesystem::path image_weights_path(const std::filesystem::path& run_dir);
// QAT writes beside each exported model X.safetensors its INT8 model X-int8.safetensors.
std::filesystem::path int8_path(const std::filesystem::path& model_file);

// Trains (or resumes from checkpoint_path(config.out)) until config.iterations, writing the run
// folder. `command` is recorded in the models' provenance. SIGINT and SIGTERM stop the run after
// the current step: a checkpoint and last.safetensors are written, then quicksr::Error says
// where the run stopped (the same command resumes it).
void run_training(const TrainConfig& config, const std::string& command);

}  // namespace quicksr::train
