// Whole training runs in child processes: a run killed with SIGKILL and resumed continues the loss
// curve of an uninterrupted run, and two data-parallel processes train exactly like one process
// on the combined batch.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>
#include <random>
#include <thread>

#include "quicksr/baselines.hpp"
#include "quicksr/eval.hpp"
#include "quicksr/image.hpp"
#include "quicksr/model_io.hpp"
#include "quicksr/quant.hpp"
#include "quicksr/reference.hpp"
#include "support/temp_dir.hpp"
#include "train/run_log.hpp"
#include "train/trainer.hpp"

namespace quicksr::train {
namespace {

namespace fs = std::filesystem;

// Smooth random colour images: a few random sinusoids per channel.
void write_images(const fs::path& dir, int count, int size, std::uint64_t seed) {
  fs::create_directories(dir);
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> uniform(0.0f, 1.0f);
  for (int n = 0; n < count; ++n) {
    Image image;
    image.width = image.height = size;
    image.rgb.resize(static_cast<std::size_t>(size) * size * 3);
    float fx[3], fy[3], phase[3];
    for (int c = 0; c < 3; ++c) {
      fx[c] = 0.05f + 0.4f * uniform(rng);
      fy[c] = 0.05f + 0.4f * uniform(rng);
      phase[c] = 6.28f * uniform(rng);
    }
    for (int y = 0; y < size; ++y) {
      for (int x = 0; x < size; ++x) {
        for (int c = 0; c < 3; ++c) {
          image.rgb[(static_cast<std::size_t>(y) * size + x) * 3 + c] =
              0.5f + 0.45f * std::sin(fx[c] * x + phase[c]) * std::cos(fy[c] * y);
        }
      }
    }
    write_image(image, dir / ("image" + std::to_string(n) + ".png"));
  }
}

class TrainRunTest : public ::testing::Test {
 protected:
  void SetUp() override {
    write_images(root_ / "train", 4, 40, 1);
    write_images(root_ / "val", 2, 24, 2);
  }

  TrainConfig config(const std::string& run) const {
    TrainConfig c;
    c.data = {(root_ / "train").string()};
    c.out = (root_ / run).string();
    c.iterations = 200;
    c.batch = 2;
    c.patch = 8;
    c.lr = 2e-3;
    c.seed = 5;
    c.threads = 1;
    c.log_every = 1;
    c.val_every = 50;
    c.checkpoint_every = 10;
    return c;
  }

  // Runs the training in a child process (its messages go to RUN_DIR/../<run>.stderr).
  static pid_t start(const TrainConfig& c) {
    const pid_t pid = ::fork();
    if (pid == 0) {
      std::freopen((c.out + ".stderr").c_str(), "a", stderr);
      try {
        run_training(c, "train_run_test");
        ::_exit(0);
      } catch (const std::exception& e) {
        std::cerr << "training failed: " << e.what() << "\n";
        ::_exit(1);
      }
    }
    return pid;
  }

  static int wait_for(pid_t pid) {
    int status = 0;
    ::waitpid(pid, &status, 0);
    return status;
  }

  // wait_for, but a process still running after `limit` is killed (its status then says so).
  static int wait_within(pid_t pid, std::chrono::seconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    int status = 0;
    while (::waitpid(pid, &status, WNOHANG) == 0) {
      if (std::chrono::steady_clock::now() > deadline) {
        ::kill(pid, SIGKILL);
        return wait_for(pid);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return status;
  }

  // Every conv of a QuickSRNet or a graph, in order.
  static std::vector<Conv2d> convs_of(const Model& model) {
    if (const auto* graph = std::get_if<Graph>(&model.net)) return graph->convs;
    const QuickSRNet& net = std::get<QuickSRNet>(model.net);
    std::vector<Conv2d> convs = {net.first, net.last};
    convs.insert(convs.end(), net.body.begin(), net.body.end());
    return convs;
  }

  static void expect_same_weights(const fs::path& a, const fs::path& b, float tolerance) {
    const std::vector<Conv2d> convs_a = convs_of(load_model(a));
    const std::vector<Conv2d> convs_b = convs_of(load_model(b));
    ASSERT_EQ(convs_a.size(), convs_b.size());
    for (std::size_t k = 0; k < convs_a.size(); ++k) {
      const Conv2d* x = &convs_a[k];
      const Conv2d* y = &convs_b[k];
      ASSERT_EQ(x->weight.size(), y->weight.size());
      for (std::size_t i = 0; i < x->weight.size(); ++i) {
        ASSERT_NEAR(x->weight[i], y->weight[i], tolerance) << "weight " << i;
      }
      for (std::size_t i = 0; i < x->bias.size(); ++i) {
        ASSERT_NEAR(x->bias[i], y->bias[i], tolerance) << "bias " << i;
      }
    }
  }

  // Runs `straight` uninterrupted and `interrupted` killed (SIGKILL) after its first checkpoint
  // and resumed: the resumed run continues the loss curve, validation scores and weights.
  void expect_exact_resume(const TrainConfig& straight, const TrainConfig& interrupted) {
    ASSERT_EQ(wait_for(start(straight)), 0) << "see " << straight.out << ".stderr";
    const pid_t victim = start(interrupted);
    const fs::path checkpoint = checkpoint_path(interrupted.out);
    while (!fs::exists(checkpoint)) std::this_thread::sleep_for(std::chrono::microseconds(200));
    ::kill(victim, SIGKILL);
    const int status = wait_for(victim);
    ASSERT_TRUE(WIFSIGNALED(status)) << "the run ended before the kill";
    const auto iterations = static_cast<std::size_t>(straight.iterations);
    const std::size_t logged_before_kill =
        read_log(fs::path(interrupted.out) / "log.csv", 1 << 30).size();
    ASSERT_LT(logged_before_kill, iterations);

    ASSERT_EQ(wait_for(start(interrupted)), 0) << "see " << interrupted.out << ".stderr";
    const auto expected = read_log(fs::path(straight.out) / "log.csv", 1 << 30);
    const auto actual = read_log(fs::path(interrupted.out) / "log.csv", 1 << 30);
    ASSERT_EQ(expected.size(), iterations);
    ASSERT_EQ(actual.size(), iterations);
    for (std::size_t i = 0; i < expected.size(); ++i) {
      EXPECT_EQ(actual[i].iteration, expected[i].iteration);
      EXPECT_NEAR(actual[i].loss, expected[i].loss, 1e-6 * expected[i].loss) << "row " << i;
      EXPECT_DOUBLE_EQ(actual[i].lr, expected[i].lr);
      ASSERT_EQ(actual[i].val_psnr.has_value(), expected[i].val_psnr.has_value()) << "row " << i;
      if (expected[i].val_psnr) {
        EXPECT_NEAR(*actual[i].val_psnr, *expected[i].val_psnr, 1e-4);
      }
    }
    expect_same_weights(fs::path(straight.out) / "last.safetensors",
                        fs::path(interrupted.out) / "last.safetensors", 1e-6f);
    // The losses fell: the run trained rather than replaying constants.
    EXPECT_LT(expected.back().loss, expected.front().loss);
  }

  // A trained Small x2 to start from (a short ordinary run).
  fs::path trained_model() {
    TrainConfig base = config("base");
    base.iterations = 30;
    EXPECT_EQ(wait_for(start(base)), 0) << "see " << base.out << ".stderr";
    return fs::path(base.out) / "last.safetensors";
  }

  // The INT8 export of a short calibrated QAT run from `fp32`: a start for QAT from an INT8 model.
  fs::path calibrated_int8_model(const fs::path& fp32) {
    TrainConfig calibrated = config("qat-calibrated");
    calibrated.from = fp32.string();
    calibrated.qat = true;
    calibrated.calibration_batches = 2;
    calibrated.iterations = 10;
    EXPECT_EQ(wait_for(start(calibrated)), 0) << "see " << calibrated.out << ".stderr";
    return int8_path(fs::path(calibrated.out) / "last.safetensors");
  }

  // A run `run` of one step at a learning rate that barely moves the weights.
  TrainConfig one_tiny_step(const std::string& run) const {
    TrainConfig c = config(run);
    c.iterations = 1;
    c.lr = 1e-9;
    c.lr_min = 0;
    return c;
  }

  // Runs `c`, which must succeed, and returns its first logged loss.
  static double first_logged_loss(const TrainConfig& c) {
    EXPECT_EQ(wait_for(start(c)), 0) << "see " << c.out << ".stderr";
    return read_log(fs::path(c.out) / "log.csv", 1).at(0).loss;
  }

  // A training folder `name` holding two copies of one image (so per-image weights are 1).
  fs::path copies_of_one_image(const std::string& name) const {
    const fs::path dir = root_ / name;
    fs::create_directories(dir);
    for (const char* copy : {"a.png", "b.png"}) {
      fs::copy_file(root_ / "train" / "image0.png", dir / copy);
    }
    return dir;
  }

  // Runs `c`, which must fail, and returns what it wrote to stderr.
  static std::string failure_message(const TrainConfig& c) {
    EXPECT_NE(wait_for(start(c)), 0);
    std::ifstream messages(c.out + ".stderr");
    return std::string(std::istreambuf_iterator<char>(messages), {});
  }

  test_support::TempDir temp_;
  const fs::path root_ = temp_.path();
};

TEST_F(TrainRunTest, KilledRunResumesOnTheUninterruptedLossCurve) {
  TrainConfig straight = config("straight");
  straight.val = (root_ / "val").string();
  TrainConfig interrupted = config("interrupted");
  interrupted.val = straight.val;
  expect_exact_resume(straight, interrupted);
}

// A QAT run's X-int8.safetensors: the INT8 model of X.safetensors at the run's granularity, every
// s8 weight the round-to-nearest of the float weight on its scale max|w| / 127 (the fake
// quantizer's rule, recomputed here).
void expect_int8_beside(const fs::path& fp32_file, bool per_tensor) {
  const fs::path int8_file = int8_path(fp32_file);
  ASSERT_TRUE(fs::exists(int8_file)) << int8_file;
  const Model int8 = load_model(int8_file);
  ASSERT_TRUE(int8.is_quantized());
  const auto& q = std::get<QuantizedQuickSRNet>(int8.net);
  EXPECT_EQ(q.per_channel(), !per_tensor);
  EXPECT_EQ(int8.provenance.at("fp32_model"), fp32_file.filename().string());
  const QuickSRNet fp32 = std::get<QuickSRNet>(load_model(fp32_file).net);
  const Conv2d& conv = fp32.body[0];
  const std::size_t per_channel = conv.weight.size() / static_cast<std::size_t>(conv.out_channels);
  float largest = 0.0f;
  for (const float w : conv.weight) largest = std::max(largest, std::abs(w));
  for (std::size_t i = 0; i < conv.weight.size(); ++i) {
    float scale = largest / 127.0f;
    if (!per_tensor) {
      scale = 0.0f;
      const std::size_t begin = i / per_channel * per_channel;
      for (std::size_t k = begin; k < begin + per_channel; ++k) {
        scale = std::max(scale, std::abs(conv.weight[k]) / 127.0f);
      }
    }
    EXPECT_NEAR(q.body[0].weight[i], conv.weight[i] / scale, 0.5001f) << "weight " << i;
  }
}

TEST_F(TrainRunTest, KilledQuantizationAwareRunResumesExactly) {
  const fs::path from = trained_model();
  for (bool per_tensor : {false, true}) {
    const std::string suffix = per_tensor ? "-per-tensor" : "-per-channel";
    TrainConfig straight = config("qat-straight" + suffix);
    straight.val = (root_ / "val").string();
    straight.from = from.string();
    straight.qat = true;
    straight.per_tensor = per_tensor;
    straight.calibration_batches = 2;
    straight.iterations = 60;
    TrainConfig interrupted = straight;
    interrupted.out = (root_ / ("qat-interrupted" + suffix)).string();
    expect_exact_resume(straight, interrupted);
    expect_int8_beside(fs::path(straight.out) / "last.safetensors", per_tensor);
  }
}

// Every s8 weight, scale, s32 bias and encoding of two INT8 model files.
void expect_same_int8(const fs::path& a, const fs::path& b) {
  const auto qa = std::get<QuantizedQuickSRNet>(load_model(a).net);
  const auto qb = std::get<QuantizedQuickSRNet>(load_model(b).net);
  EXPECT_EQ(quant::encodings_of(qa), quant::encodings_of(qb));
  std::vector<const QConv2d*> convs_a = {&qa.first, &qa.last}, convs_b = {&qb.first, &qb.last};
  for (const QConv2d& conv : qa.body) convs_a.push_back(&conv);
  for (const QConv2d& conv : qb.body) convs_b.push_back(&conv);
  ASSERT_EQ(convs_a.size(), convs_b.size());
  for (std::size_t k = 0; k < convs_a.size(); ++k) {
    EXPECT_EQ(convs_a[k]->weight, convs_b[k]->weight) << "conv " << k;
    EXPECT_EQ(convs_a[k]->weight_scale, convs_b[k]->weight_scale) << "conv " << k;
    EXPECT_EQ(convs_a[k]->bias, convs_b[k]->bias) << "conv " << k;
  }
}

// QAT from an INT8 model (here the INT8 export of a first QAT run), distilled from the float
// model: a step too small to move any weight across a rounding boundary exports the starting
// file bit for bit, and a killed run resumes exactly.
TEST_F(TrainRunTest, QuantizationAwareRunFromAnInt8ModelStartsThereAndResumesExactly) {
  const fs::path fp32 = trained_model();
  const fs::path int8 = calibrated_int8_model(fp32);

  TrainConfig tiny = one_tiny_step("qat-from-int8-tiny");
  tiny.from = int8.string();
  tiny.qat = true;
  tiny.teacher = fp32.string();
  ASSERT_EQ(wait_for(start(tiny)), 0) << "see " << tiny.out << ".stderr";
  expect_same_int8(int8, int8_path(fs::path(tiny.out) / "last.safetensors"));

  TrainConfig straight = config("qat-from-int8-straight");
  straight.val = (root_ / "val").string();
  straight.from = int8.string();
  straight.qat = true;
  straight.teacher = fp32.string();
  straight.lr = 1e-4;
  straight.iterations = 60;
  TrainConfig interrupted = straight;
  interrupted.out = (root_ / "qat-from-int8-interrupted").string();
  expect_exact_resume(straight, interrupted);

  // Learned ranges (LSQ, at their own learning rate): they move, stay within ReLU1's [0, 1], are
  // the export's encodings, and a killed run resumes exactly (the ranges and their Adam state are
  // in the checkpoint).
  TrainConfig learned = straight;
  learned.out = (root_ / "qat-learned-ranges-straight").string();
  learned.learn_ranges = true;
  learned.range_lr_factor = 10;
  learned.iterations = 30;
  learned.val_every = 30;
  TrainConfig learned_interrupted = learned;
  learned_interrupted.out = (root_ / "qat-learned-ranges-interrupted").string();
  expect_exact_resume(learned, learned_interrupted);
  const auto start_model = std::get<QuantizedQuickSRNet>(load_model(int8).net);
  const auto learned_model = std::get<QuantizedQuickSRNet>(
      load_model(int8_path(fs::path(learned.out) / "last.safetensors")).net);
  std::size_t moved = 0;
  for (std::size_t i = 0; i < start_model.features.size(); ++i) {
    moved += learned_model.features[i].scale != start_model.features[i].scale;
    EXPECT_LE(learned_model.features[i].scale * (255 - learned_model.features[i].zero_point), 1.0f);
  }
  EXPECT_GT(moved, 0u);

  TrainConfig float_start = tiny;  // an INT8 model starts QAT only
  float_start.out = (root_ / "int8-without-qat").string();
  float_start.qat = false;
  float_start.teacher.clear();
  const std::string text = failure_message(float_start);
  EXPECT_NE(text.find("starts quantization-aware training only"), std::string::npos) << text;
}

// The frozen weights a QAT run's INT8 export reports ("...frozen (...): N of M").
long frozen_in(const fs::path& int8_file) {
  const std::string text = load_model(int8_file).provenance.at("quantization");
  const std::size_t at = text.find("): ", text.find("oscillating weights frozen ("));
  return at == std::string::npos ? -1 : std::stol(text.substr(at + 3));
}

// --freeze-oscillations at a constant, large step: weights freeze within the first 10 steps (a
// 10-step run's export counts them), and a run killed after its first checkpoint resumes
// exactly, so the tracking state (frozen weights, their values, frequencies) is in the
// checkpoint; without it the resumed run would let the frozen weights move again.
TEST_F(TrainRunTest, KilledRunWithFrozenWeightsResumesExactly) {
  const fs::path fp32 = trained_model();
  TrainConfig straight = config("qat-frozen-straight");
  straight.from = calibrated_int8_model(fp32).string();
  straight.qat = true;
  straight.teacher = fp32.string();
  straight.lr = straight.lr_min = 1e-3;
  straight.iterations = 40;
  straight.freeze_oscillations = 0.005;
  TrainConfig first_ten = straight;
  first_ten.out = (root_ / "qat-frozen-10").string();
  first_ten.iterations = 10;
  ASSERT_EQ(wait_for(start(first_ten)), 0) << "see " << first_ten.out << ".stderr";
  EXPECT_GT(frozen_in(int8_path(fs::path(first_ten.out) / "last.safetensors")), 0);

  TrainConfig interrupted = straight;
  interrupted.out = (root_ / "qat-frozen-interrupted").string();
  expect_exact_resume(straight, interrupted);
  EXPECT_GE(frozen_in(int8_path(fs::path(straight.out) / "last.safetensors")),
            frozen_in(int8_path(fs::path(first_ten.out) / "last.safetensors")));

  TrainConfig float_start = first_ten;  // the scales of a float start are not fixed
  float_start.out = (root_ / "frozen-from-float").string();
  float_start.from = fp32.string();
  const std::string text = failure_message(float_start);
  EXPECT_NE(text.find(fp32.string() + ": --freeze-oscillations needs QAT from an INT8 model"),
            std::string::npos)
      << text;
}

// The rows of a run's image_weights.csv: image, teacher PSNR, weight.
struct ImageWeightRow {
  std::string image;
  double teacher_psnr = 0;
  double weight = 0;
};

std::vector<ImageWeightRow> read_image_weights(const fs::path& run_dir) {
  std::ifstream in(image_weights_path(run_dir));
  std::vector<ImageWeightRow> rows;
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    const std::size_t weight_at = line.rfind(',');
    const std::size_t psnr_at = line.rfind(',', weight_at - 1);
    rows.push_back({line.substr(0, psnr_at), std::stod(line.substr(psnr_at + 1)),
                    std::stod(line.substr(weight_at + 1))});
  }
  return rows;
}

// --image-weight-power 1: each training image's weight is 1 / (its teacher MSE), normalised to
// mean 1; the expected values come from the reference runtime's forward of the teacher and the
// protocol's PSNR (MSE = peak^2 10^(-PSNR/10), so 1/MSE is proportional to 10^(PSNR/10)). The
// first logged loss then differs from the unweighted one; on two copies of one image (weights 1)
// it is the unweighted loss; at power 0 it is the run without the option.
TEST_F(TrainRunTest, ImageWeightsAreTheTeachersInverseErrorPerImage) {
  const fs::path teacher = trained_model();
  const auto first_loss = [this, &teacher](const std::string& run, const fs::path& data,
                                           double power) {
    TrainConfig c = one_tiny_step(run);
    c.data = {data.string()};
    c.teacher = teacher.string();
    c.loss = "mse";
    c.image_weight_power = power;
    return first_logged_loss(c);
  };
  const double weighted = first_loss("iw-weighted", root_ / "train", 1);

  const Model model = load_model(teacher);
  const Scale x2{2, 1};
  std::vector<double> inverse_errors, psnrs;
  for (const fs::path& file : image_files(root_ / "train")) {
    const Tensor hr = crop_to_multiple(to_tensor(read_image(file)), x2);
    psnrs.push_back(psnr(reference::forward(model, make_lr(hr, x2)), hr));
    inverse_errors.push_back(std::pow(10.0, psnrs.back() / 10));
  }
  double mean_inverse = 0;
  for (const double v : inverse_errors) mean_inverse += v / static_cast<double>(psnrs.size());
  const std::vector<ImageWeightRow> rows = read_image_weights(root_ / "iw-weighted");
  ASSERT_EQ(rows.size(), psnrs.size());
  double lightest = 1e9, heaviest = 0;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    EXPECT_EQ(fs::path(rows[i].image).filename(), "image" + std::to_string(i) + ".png");
    EXPECT_NEAR(rows[i].teacher_psnr, psnrs[i], 1e-3) << rows[i].image;
    EXPECT_NEAR(rows[i].weight, inverse_errors[i] / mean_inverse, 1e-4) << rows[i].image;
    lightest = std::min(lightest, rows[i].weight);
    heaviest = std::max(heaviest, rows[i].weight);
  }
  EXPECT_GT(heaviest, 1.1 * lightest);  // the images differ, so do their weights

  const double plain = first_loss("iw-plain", root_ / "train", 0);
  EXPECT_GT(std::abs(weighted - plain), 1e-3 * plain);
  const fs::path copies = copies_of_one_image("copies");
  EXPECT_NEAR(first_loss("iw-copies-weighted", copies, 1), first_loss("iw-copies-plain", copies, 0),
              1e-6 * plain);
  TrainConfig without = one_tiny_step("iw-without");  // the option absent: its default, 0
  without.teacher = teacher.string();
  without.loss = "mse";
  EXPECT_EQ(first_logged_loss(without), plain);
  EXPECT_FALSE(fs::exists(image_weights_path(without.out)));
}

// --hr-target: the weighted loss compares with the HR patch. On two copies of one image (weights
// 1) it is the loss of a run without a teacher; on distinct images it differs from it and from the
// weighted distillation loss.
TEST_F(TrainRunTest, HrTargetWeighsTheLossAgainstTheHrPatches) {
  const fs::path teacher = trained_model();
  const auto first_loss = [this, &teacher](const std::string& run, const fs::path& data,
                                           bool with_teacher, bool hr_target) {
    TrainConfig c = one_tiny_step(run);
    c.data = {data.string()};
    c.loss = "mse";
    if (with_teacher) c.teacher = teacher.string(), c.image_weight_power = 1;
    c.hr_target = hr_target;
    return first_logged_loss(c);
  };
  const fs::path copies = copies_of_one_image("hr-copies");
  const double no_teacher = first_loss("hr-copies-plain", copies, false, false);
  EXPECT_NEAR(first_loss("hr-copies-weighted", copies, true, true), no_teacher, 1e-6 * no_teacher);

  const double weighted_hr = first_loss("hr-weighted", root_ / "train", true, true);
  const double plain_hr = first_loss("hr-plain", root_ / "train", false, false);
  const double weighted_teacher = first_loss("hr-distilled", root_ / "train", true, false);
  EXPECT_GT(std::abs(weighted_hr - plain_hr), 1e-3 * plain_hr);
  EXPECT_GT(std::abs(weighted_hr - weighted_teacher), 1e-3 * weighted_teacher);
}

// A distilled run with per-image loss weights, killed and resumed, continues exactly (the weights
// are recomputed identically at the start).
TEST_F(TrainRunTest, KilledImageWeightedRunResumesExactly) {
  const fs::path teacher = trained_model();
  TrainConfig straight = config("iw-straight");
  straight.val = (root_ / "val").string();
  straight.teacher = teacher.string();
  straight.loss = "mse";
  straight.image_weight_power = 1;
  straight.iterations = 60;
  TrainConfig interrupted = straight;
  interrupted.out = (root_ / "iw-interrupted").string();
  expect_exact_resume(straight, interrupted);
}

// --range-lr-factor: Adam's first step moves each parameter by its learning rate times
// g / (|g| + eps), i.e. by +-lr, so one step from the same start and batch at factors 1 and 10
// leaves the weights the same and each learned range top 9 lr apart (unless clamped at 1).
TEST_F(TrainRunTest, RangeLearningRateFactorScalesTheRangesStepAlone) {
  const fs::path fp32 = trained_model();
  const double lr = 1e-4;
  std::vector<fs::path> runs;
  for (const double factor : {1.0, 10.0}) {
    TrainConfig c = config("ranges-lr-x" + std::to_string(static_cast<int>(factor)));
    c.from = fp32.string();
    c.qat = true;
    c.calibration_batches = 2;
    c.learn_ranges = true;
    c.range_lr_factor = factor;
    c.iterations = 1;
    c.lr = c.lr_min = lr;
    ASSERT_EQ(wait_for(start(c)), 0) << "see " << c.out << ".stderr";
    runs.push_back(fs::path(c.out) / "last.safetensors");
  }
  expect_same_weights(runs[0], runs[1], 0.0f);
  const auto range_tops = [](const fs::path& run) {
    const ActivationEncodings encodings =
        quant::encodings_of(std::get<QuantizedQuickSRNet>(load_model(int8_path(run)).net));
    std::vector<double> tops;
    for (const ActivationEncoding& e : encodings.features)
      tops.push_back(e.scale * (255 - e.zero_point));
    tops.push_back(encodings.output.scale * (255 - encodings.output.zero_point));
    return tops;
  };
  const std::vector<double> slow = range_tops(runs[0]);
  const std::vector<double> fast = range_tops(runs[1]);
  ASSERT_EQ(slow.size(), fast.size());
  int checked = 0;
  for (std::size_t i = 0; i < slow.size(); ++i) {
    if (std::max(slow[i], fast[i]) > 1 - 1e-6) continue;  // clamped to ReLU1's [0, 1]
    EXPECT_NEAR(std::abs(fast[i] - slow[i]), 9 * lr, 1e-6) << "quantizer " << i;
    ++checked;
  }
  EXPECT_GT(checked, 0);
}

// The same first batch and weights under --loss l1 and mse: the logged losses are mean |d| and
// mean d^2 of the same differences d in (-1, 1), so l1^2 <= mse < l1 (Jensen; |d| < 1).
TEST_F(TrainRunTest, MseLossIsTheMeanSquareOfTheSameDifferences) {
  TrainConfig l1 = one_tiny_step("loss-l1");
  TrainConfig mse = one_tiny_step("loss-mse");
  mse.loss = "mse";
  ASSERT_EQ(wait_for(start(l1)), 0) << "see " << l1.out << ".stderr";
  ASSERT_EQ(wait_for(start(mse)), 0) << "see " << mse.out << ".stderr";
  const double mean_abs = read_log(fs::path(l1.out) / "log.csv", 1).at(0).loss;
  const double mean_square = read_log(fs::path(mse.out) / "log.csv", 1).at(0).loss;
  EXPECT_GE(mean_square, mean_abs * mean_abs * (1 - 1e-5));
  EXPECT_LT(mean_square, 0.9 * mean_abs);
}

TEST_F(TrainRunTest, SigtermStopsWithACheckpointThatResumes) {
  TrainConfig c = config("sigterm");
  c.iterations = 1'000'000;
  c.checkpoint_every = 1'000'000;  // no periodic checkpoint: only the one the signal writes
  c.val_every = 1'000'000;
  const pid_t pid = start(c);
  const fs::path log = fs::path(c.out) / "log.csv";
  while (read_log(log, 1 << 30).size() < 3) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  ::kill(pid, SIGTERM);
  const int status = wait_for(pid);
  ASSERT_TRUE(WIFEXITED(status)) << "the run died of the signal instead of stopping";
  EXPECT_EQ(WEXITSTATUS(status), 1) << "an interrupted run reports it";
  ASSERT_TRUE(fs::exists(checkpoint_path(c.out)));
  ASSERT_TRUE(fs::exists(fs::path(c.out) / "last.safetensors"));
  const std::size_t stopped_at = read_log(log, 1 << 30).size();
  ASSERT_GE(stopped_at, 3u);

  c.iterations = static_cast<std::int64_t>(stopped_at) + 2;
  ASSERT_EQ(wait_for(start(c)), 0) << "see " << c.out << ".stderr";
  std::ifstream messages(c.out + ".stderr");
  const std::string text(std::istreambuf_iterator<char>(messages), {});
  EXPECT_NE(text.find("resuming " + c.out + " at iteration " + std::to_string(stopped_at)),
            std::string::npos)
      << text;
  EXPECT_EQ(read_log(log, 1 << 30).size(), stopped_at + 2);
}

TEST_F(TrainRunTest, FromStartsAtTheModelsWeights) {
  const fs::path from = root_ / "from.safetensors";
  save_model(Model{QuickSRNet::initialized(QuickSRNetConfig::small(Scale{2, 1}), 99), {}}, from);
  TrainConfig c = one_tiny_step("from");
  c.from = from.string();
  ASSERT_EQ(wait_for(start(c)), 0) << "see " << c.out << ".stderr";
  expect_same_weights(from, fs::path(c.out) / "last.safetensors", 1e-6f);

  TrainConfig wrong = config("from-medium");
  wrong.from = from.string();
  wrong.preset = "medium";
  const std::string text = failure_message(wrong);
  EXPECT_NE(text.find("holds quicksrnet-small-x2"), std::string::npos) << text;
}

// --init default --activation relu: the run starts from QuickSRNet's default (identity-free)
// initialisation of its seed, and its model files are ReLU models; a --from model of the other
// activation is refused.
TEST_F(TrainRunTest, InitAndActivationReachTheModel) {
  TrainConfig c = one_tiny_step("relu");
  c.init = "default";
  c.activation = "relu";
  ASSERT_EQ(wait_for(start(c)), 0) << "see " << c.out << ".stderr";
  const fs::path last = fs::path(c.out) / "last.safetensors";
  const QuickSRNet trained = std::get<QuickSRNet>(load_model(last).net);
  EXPECT_EQ(trained.config.activation, Activation::kReLU);
  QuickSRNetConfig expected_config = QuickSRNetConfig::small(Scale{2, 1});
  expected_config.activation = Activation::kReLU;
  const fs::path start_file = root_ / "default-init.safetensors";
  save_model(
      Model{QuickSRNet::initialized(expected_config, c.seed, QuickSRNet::Initialization::kDefault),
            {}},
      start_file);
  expect_same_weights(start_file, last, 1e-6f);

  TrainConfig wrong = config("relu1-from-relu");
  wrong.from = last.string();
  const std::string text = failure_message(wrong);
  EXPECT_NE(text.find("holds quicksrnet-small-x2-relu"), std::string::npos) << text;
}

// A baseline graph run (FSRCNN: convs and a transposed conv) resumes exactly too.
TEST_F(TrainRunTest, KilledGraphRunResumesOnTheUninterruptedLossCurve) {
  TrainConfig straight = config("graph-straight");
  straight.arch = "fsrcnn";
  straight.val = (root_ / "val").string();
  TrainConfig interrupted = straight;
  interrupted.out = (root_ / "graph-interrupted").string();
  expect_exact_resume(straight, interrupted);
  EXPECT_EQ(load_model(fs::path(straight.out) / "best.safetensors").name(), "fsrcnn-x2");
}

// --arch sesr-m3 trains the expanded form and saves the collapsed graph; --from a graph file
// starts from its weights (one step at lr 1e-9 barely moves them).
TEST_F(TrainRunTest, SesrTrainsExpandedAndSavesCollapsed) {
  TrainConfig c = config("sesr");
  c.arch = "sesr-m3";
  c.iterations = 2;
  ASSERT_EQ(wait_for(start(c)), 0) << "see " << c.out << ".stderr";
  const fs::path last = fs::path(c.out) / "last.safetensors";
  const Model model = load_model(last);
  EXPECT_EQ(model.name(), "sesr-m3-x2");
  const Graph& graph = std::get<Graph>(model.net);
  EXPECT_EQ(graph.convs.size(), build_baseline("sesr-m3", {.scale = {2, 1}}).convs.size());

  TrainConfig from = one_tiny_step("sesr-from");
  from.from = last.string();
  ASSERT_EQ(wait_for(start(from)), 0) << "see " << from.out << ".stderr";
  expect_same_weights(last, fs::path(from.out) / "last.safetensors", 1e-6f);

  TrainConfig wrong = config("sesr-from-x3");
  wrong.from = last.string();
  wrong.scale = "3";
  const std::string text = failure_message(wrong);
  EXPECT_NE(text.find("holds sesr-m3-x2"), std::string::npos) << text;
}

TEST_F(TrainRunTest, TwoProcessesTrainLikeOneOnTheCombinedBatch) {
  TrainConfig single = config("single");
  single.iterations = 8;
  single.batch = 4;
  single.checkpoint_every = 8;
  ASSERT_EQ(wait_for(start(single)), 0) << "see " << single.out << ".stderr";

  TrainConfig parallel = config("parallel");
  parallel.iterations = 8;
  parallel.checkpoint_every = 8;
  parallel.world_size = 2;
  parallel.rendezvous = "file:" + (root_ / "rendezvous").string();
  std::vector<pid_t> ranks;
  for (int rank = 0; rank < 2; ++rank) {
    parallel.rank = rank;
    ranks.push_back(start(parallel));
  }
  for (pid_t pid : ranks) ASSERT_EQ(wait_for(pid), 0) << "see " << parallel.out << ".stderr";

  const auto expected = read_log(fs::path(single.out) / "log.csv", 1 << 30);
  const auto actual = read_log(fs::path(parallel.out) / "log.csv", 1 << 30);
  ASSERT_EQ(expected.size(), 8u);
  ASSERT_EQ(actual.size(), 8u);
  for (std::size_t i = 0; i < expected.size(); ++i) {
    EXPECT_NEAR(actual[i].loss, expected[i].loss, 1e-5 * expected[i].loss) << "row " << i;
  }
  expect_same_weights(fs::path(single.out) / "last.safetensors",
                      fs::path(parallel.out) / "last.safetensors", 1e-5f);
}

// A new best validation score is checkpointed before best.safetensors is written: a run killed
// between periodic checkpoints resumes at or past the best model's iteration, never before it
// (where it could retrace the lost steps differently and keep a best model off its own log).
TEST_F(TrainRunTest, BestModelIsNeverAheadOfTheCheckpoint) {
  TrainConfig c = config("best-kill");
  c.val = (root_ / "val").string();
  c.iterations = 1'000'000;
  c.checkpoint_every = 1'000'000;
  c.val_every = 3;
  const pid_t pid = start(c);
  const fs::path best = fs::path(c.out) / "best.safetensors";
  while (!fs::exists(best)) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  ::kill(pid, SIGKILL);
  wait_for(pid);
  ASSERT_TRUE(fs::exists(checkpoint_path(c.out))) << "killed after best.safetensors appeared";
  const long best_at = std::stol(load_model(best).provenance.at("iterations"));

  c.iterations = best_at + 30;
  ASSERT_EQ(wait_for(start(c)), 0) << "see " << c.out << ".stderr";
  std::ifstream messages(c.out + ".stderr");
  const std::string text(std::istreambuf_iterator<char>(messages), {});
  const std::string resuming = "resuming " + c.out + " at iteration ";
  const std::size_t at = text.find(resuming);
  ASSERT_NE(at, std::string::npos) << text;
  EXPECT_GE(std::stol(text.substr(at + resuming.size())), best_at) << text;
}

// SIGTERM reaching one process of a data-parallel run (here rank 1, which writes nothing) stops
// every process after the same step, with a checkpoint from which the same launch resumes.
TEST_F(TrainRunTest, SigtermToOneProcessStopsEveryProcessOfAParallelRun) {
  TrainConfig parallel = config("parallel-stop");
  parallel.iterations = 1'000'000;
  parallel.checkpoint_every = 1'000'000;  // no periodic checkpoint: only the one the signal writes
  parallel.val_every = 1'000'000;
  parallel.world_size = 2;
  const auto launch = [&](const std::string& rendezvous) {
    parallel.rendezvous = "file:" + (root_ / rendezvous).string();
    std::vector<pid_t> ranks;
    for (int rank = 0; rank < 2; ++rank) {
      parallel.rank = rank;
      ranks.push_back(start(parallel));
    }
    return ranks;
  };
  const std::vector<pid_t> ranks = launch("rendezvous-1");
  const fs::path log = fs::path(parallel.out) / "log.csv";
  while (read_log(log, 1 << 30).size() < 3) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  ::kill(ranks[1], SIGTERM);
  for (const pid_t pid : ranks) {
    const int status = wait_within(pid, std::chrono::seconds(120));
    ASSERT_TRUE(WIFEXITED(status)) << "a process did not stop; see " << parallel.out << ".stderr";
    EXPECT_EQ(WEXITSTATUS(status), 1) << "an interrupted run reports it";
  }
  ASSERT_TRUE(fs::exists(checkpoint_path(parallel.out))) << "see " << parallel.out << ".stderr";
  const std::size_t stopped_at = read_log(log, 1 << 30).size();

  parallel.iterations = static_cast<std::int64_t>(stopped_at) + 2;
  for (const pid_t pid : launch("rendezvous-2")) {
    ASSERT_EQ(wait_within(pid, std::chrono::seconds(120)), 0)
        << "see " << parallel.out << ".stderr";
  }
  EXPECT_EQ(read_log(log, 1 << 30).size(), stopped_at + 2);
}

}  // namespace
}  // namespace quicksr::train
