// Training settings: JSON round trip, errors naming the setting, learning-rate schedules against
// hand-computed values.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "quicksr/error.hpp"
#include "support/error_of.hpp"
#include "support/temp_dir.hpp"
#include "train/trainer.hpp"

namespace quicksr::train {
namespace {

TrainConfig valid_config() {
  TrainConfig config;
  config.data = {"/data"};
  config.out = "/run";
  return config;
}

TEST(TrainConfig, JsonRoundTripKeepsEverySetting) {
  TrainConfig config = valid_config();
  config.scale = "1.5";
  config.lr_step = 1234;
  config.seed = 99;
  config.rendezvous = "tcp:localhost:2000";
  config.degradation = "point";
  config.init = "default";
  config.activation = "relu";
  config.arch = "erfdn";
  config.loss = "mse";
  config.learn_ranges = true;
  config.range_lr_factor = 20;
  config.freeze_oscillations = 0.005;
  config.oscillation_momentum = 0.02;
  config.teacher = "teacher.safetensors";
  config.image_weight_power = 0.5;
  config.hr_target = true;
  TrainConfig copy;
  apply_json(copy, to_json(config), "test");
  EXPECT_EQ(to_json(copy), to_json(config));
  EXPECT_EQ(copy.lr_step, 1234);
  EXPECT_EQ(copy.degradation, "point");
  EXPECT_EQ(copy.init, "default");
  EXPECT_EQ(copy.activation, "relu");
  EXPECT_EQ(copy.arch, "erfdn");
  EXPECT_EQ(copy.loss, "mse");
  EXPECT_TRUE(copy.learn_ranges);
  EXPECT_EQ(copy.range_lr_factor, 20);
  EXPECT_EQ(copy.freeze_oscillations, 0.005);
  EXPECT_EQ(copy.oscillation_momentum, 0.02);
  EXPECT_EQ(copy.image_weight_power, 0.5);
  EXPECT_TRUE(copy.hr_target);
  EXPECT_EQ(copy.data, std::vector<std::string>{"/data"});
}

TEST(TrainConfig, JsonErrorsNameTheSourceAndKey) {
  TrainConfig config;
  try {
    apply_json(config, nlohmann::json{{"learning_rate", 0.1}}, "my.json");
    FAIL() << "unknown key accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("my.json"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("learning_rate"), std::string::npos);
  }
  EXPECT_THROW(apply_json(config, nlohmann::json{{"batch", "sixteen"}}, "my.json"), Error);
  // Integer settings take integers that fit (fuzz_train_files: 3e118 was undefined behaviour).
  EXPECT_EQ(test_support::error_of([&] {
              apply_json(config, nlohmann::json::parse(R"({"checkpoint_every": 3e118})"), "f");
            }),
            "f: training setting 'checkpoint_every' is not an integer");
  EXPECT_EQ(test_support::error_of([&] {
              apply_json(config, nlohmann::json::parse(R"({"batch": 99999999999999})"), "f");
            }),
            "f: training setting 'batch' is out of range");
  EXPECT_THROW(apply_json(config, nlohmann::json{{"batch", 2.5}}, "my.json"), Error);
  EXPECT_THROW(apply_json(config, nlohmann::json::array(), "my.json"), Error);
}

// Config files: the object they hold; one error naming the file for anything else.
TEST(TrainConfig, ConfigFilesAreReadOrRefusedNamingTheFile) {
  using test_support::error_of;
  const test_support::TempDir temp;
  const std::filesystem::path& dir = temp.path();
  const auto write = [&](const std::string& name, const std::string& text) {
    std::ofstream(dir / name, std::ios::binary) << text;
    return dir / name;
  };
  EXPECT_EQ(read_config_file(write("ok.json", R"({"batch": 8, "data": ["a", "b"]})")),
            (nlohmann::json{{"batch", 8}, {"data", {"a", "b"}}}));
  const std::filesystem::path bad = write("bad.json", "{\"batch\": ");
  EXPECT_EQ(error_of([&] { read_config_file(bad); }), bad.string() + ": not valid JSON");
  const std::filesystem::path deep = write("deep.json", std::string(100000, '['));
  EXPECT_EQ(error_of([&] { read_config_file(deep); }), deep.string() + ": JSON nested too deeply");
  const std::filesystem::path big = write("big.json", "[" + std::string(2 << 20, ' ') + "]");
  EXPECT_EQ(error_of([&] { read_config_file(big); }),
            big.string() + ": a training config larger than 1 MB");
  EXPECT_NE(error_of([&] { read_config_file(dir); }).find(dir.string()), std::string::npos);
  EXPECT_NE(error_of([&] { read_config_file(dir / "missing.json"); }).find("missing.json"),
            std::string::npos);
}

TEST(TrainConfig, InitAndActivationChooseTheNetwork) {
  TrainConfig config = valid_config();
  EXPECT_EQ(net_config(config), QuickSRNetConfig::small(Scale{2, 1}));
  EXPECT_EQ(initialization(config), QuickSRNet::Initialization::kIdentity);
  config.activation = "relu";
  config.init = "default";
  EXPECT_EQ(net_config(config).activation, Activation::kReLU);
  EXPECT_EQ(initialization(config), QuickSRNet::Initialization::kDefault);
}

TEST(TrainConfig, ValidateRejectsOutOfRangeSettings) {
  EXPECT_NO_THROW(validate(valid_config()));
  auto rejects = [](auto change, const std::string& key) {
    TrainConfig config = valid_config();
    change(config);
    try {
      validate(config);
      ADD_FAILURE() << key << " accepted";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(key), std::string::npos) << e.what();
    }
  };
  rejects([](TrainConfig& c) { c.batch = 0; }, "batch");
  rejects([](TrainConfig& c) { c.scale_augment = 0.05; }, "scale_augment");
  rejects([](TrainConfig& c) { c.scale_augment = 1.5; }, "scale_augment");
  rejects([](TrainConfig& c) { c.patch = 2; }, "patch");
  rejects([](TrainConfig& c) { c.lr = -1; }, "lr");
  rejects([](TrainConfig& c) { c.schedule = "linear"; },
          "schedule = 'linear': expected cosine or step");
  rejects([](TrainConfig& c) { c.loss = "l2"; }, "loss = 'l2': expected l1 or mse");
  rejects([](TrainConfig& c) { c.learn_ranges = true; }, "learn_ranges");  // without --qat
  rejects([](TrainConfig& c) { c.per_tensor = true; },
          "per_tensor applies to quantization-aware training (--qat)");
  rejects([](TrainConfig& c) { c.range_lr_factor = 10; }, "range_lr_factor");  // fixed ranges
  rejects(
      [](TrainConfig& c) {
        c.from = "model.safetensors", c.qat = c.learn_ranges = true, c.range_lr_factor = 0;
      },
      "range_lr_factor");
  rejects([](TrainConfig& c) { c.freeze_oscillations = 0.01; }, "freeze_oscillations");  // no QAT
  rejects(
      [](TrainConfig& c) {
        c.from = "model-int8.safetensors", c.qat = true, c.freeze_oscillations = 1.5;
      },
      "freeze_oscillations");
  rejects([](TrainConfig& c) { c.oscillation_momentum = 0.5; }, "oscillation_momentum");  // unused
  rejects(
      [](TrainConfig& c) {
        c.from = "model-int8.safetensors", c.qat = true, c.freeze_oscillations = 0.01,
        c.oscillation_momentum = 0;
      },
      "oscillation_momentum");
  rejects([](TrainConfig& c) { c.image_weight_power = 1; }, "give --teacher");  // no teacher
  rejects([](TrainConfig& c) { c.teacher = "fp32.safetensors", c.image_weight_power = -1; },
          "image_weight_power = -1 is outside [0, 8]");
  rejects([](TrainConfig& c) { c.teacher = "fp32.safetensors", c.hr_target = true; },
          "give --image-weight-power");  // the teacher would be unused
  rejects([](TrainConfig& c) { c.rank = 1; }, "rank");
  rejects([](TrainConfig& c) { c.checkpoint_every = 150; }, "checkpoint_every");
  rejects([](TrainConfig& c) { c.data.clear(); }, "data");
  rejects([](TrainConfig& c) { c.scale = "1.5", c.patch = 33; }, "patch");
  rejects([](TrainConfig& c) { c.world_size = 2; }, "rendezvous");
  rejects([](TrainConfig& c) { c.degradation = "nearest"; }, "degradation");
  rejects([](TrainConfig& c) { c.init = "xavier"; },
          "init = 'xavier': expected identity or default");
  rejects([](TrainConfig& c) { c.init = "default", c.from = "model.safetensors"; }, "init");
  rejects([](TrainConfig& c) { c.activation = "relu6"; }, "activation");
  rejects([](TrainConfig& c) { c.arch = "srcnn"; }, "arch");
  rejects([](TrainConfig& c) { c.arch = "sesr-m5-expanded"; }, "arch");
  rejects([](TrainConfig& c) { c.arch = "espcn", c.scale = "1.5"; }, "scale");
  rejects([](TrainConfig& c) { c.arch = "xlsr", c.init = "default"; }, "init");
  rejects([](TrainConfig& c) { c.arch = "erfdn", c.patch = 14; }, "patch");
  rejects([](TrainConfig& c) { c.arch = "abpn", c.activation = "relu"; }, "activation");
  rejects([](TrainConfig& c) { c.arch = "fsrcnn", c.qat = true, c.from = "m.safetensors"; }, "qat");
  for (const std::string arch : {"fsrcnn", "sesr-xl", "edsr-baseline"}) {
    TrainConfig baseline = valid_config();
    baseline.arch = arch;
    baseline.scale = "4";
    EXPECT_NO_THROW(validate(baseline)) << arch;
  }
  TrainConfig unknown_scale = valid_config();
  unknown_scale.scale = "5";
  EXPECT_THROW(validate(unknown_scale), Error);
}

// Errors 1, 2, 4: at power 1 the weights are 1/e normalised to mean 1, (1, 1/2, 1/4) * 12/7; at
// power 0.5, (1, 1/sqrt 2, 1/2) / 0.735702; at power 0 all 1.
TEST(ImageLossWeights, AreTheErrorsToMinusThePowerAveragingOne) {
  const std::vector<double> errors = {1, 2, 4};
  const std::vector<double> inverse = image_loss_weights(errors, 1);
  const std::vector<double> root = image_loss_weights(errors, 0.5);
  const std::vector<double> flat = image_loss_weights(errors, 0);
  const double expected_inverse[] = {12.0 / 7, 6.0 / 7, 3.0 / 7};
  const double expected_root[] = {1.3592455, 0.9611317, 0.6796228};
  ASSERT_EQ(inverse.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_NEAR(inverse[i], expected_inverse[i], 1e-12) << i;
    EXPECT_NEAR(root[i], expected_root[i], 1e-7) << i;
    EXPECT_DOUBLE_EQ(flat[i], 1.0) << i;
  }
  // Only ratios matter: errors scaled by 1000 (e.g. MSE on 0..255 rather than 0..1) weigh alike.
  const std::vector<double> scaled = image_loss_weights({1000, 2000, 4000}, 1);
  for (std::size_t i = 0; i < 3; ++i) EXPECT_NEAR(scaled[i], expected_inverse[i], 1e-12) << i;
}

TEST(TrainConfig, ScaleAugmentCountsDownInTenths) {
  TrainConfig config = valid_config();
  EXPECT_TRUE(scale_augment_factors(config).empty());
  config.scale_augment = 0.6;  // VDSR's copies
  EXPECT_EQ(scale_augment_factors(config), (std::vector<double>{0.9, 0.8, 0.7, 0.6}));
  config.scale_augment = 0.9;
  EXPECT_EQ(scale_augment_factors(config), std::vector<double>{0.9});
}

TEST(LearningRate, CosineGoesFromLrToLrMin) {
  TrainConfig config = valid_config();
  config.schedule = "cosine";
  config.iterations = 1000;
  config.lr = 1e-3;
  config.lr_min = 1e-5;
  EXPECT_DOUBLE_EQ(learning_rate(config, 0), 1e-3);
  EXPECT_NEAR(learning_rate(config, 500), (1e-3 + 1e-5) / 2, 1e-15);
  // cos(pi / 4) = sqrt(2) / 2
  EXPECT_NEAR(learning_rate(config, 250), 1e-5 + 0.5 * (1e-3 - 1e-5) * (1 + std::sqrt(0.5)), 1e-15);
  EXPECT_NEAR(learning_rate(config, 1000), 1e-5, 1e-15);
}

TEST(LearningRate, StepHalvesEveryLrStep) {
  TrainConfig config = valid_config();
  config.schedule = "step";
  config.lr = 4e-4;
  config.lr_step = 100;
  config.lr_gamma = 0.5;
  EXPECT_DOUBLE_EQ(learning_rate(config, 0), 4e-4);
  EXPECT_DOUBLE_EQ(learning_rate(config, 99), 4e-4);
  EXPECT_DOUBLE_EQ(learning_rate(config, 100), 2e-4);
  EXPECT_DOUBLE_EQ(learning_rate(config, 250), 1e-4);
}

}  // namespace
}  // namespace quicksr::train
