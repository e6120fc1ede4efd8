#pragma once
// The resumable checkpoint: weights, Adam state, iteration and the best validation score. The
// data order needs no saved state (batches are a function of seed and iteration).
#include <cstdint>
#include <filesystem>
#include <string>

#include "train/torch.hpp"

namespace quicksr::train {

struct Progress {
  std::int64_t iteration = 0;  // optimizer steps taken
  double best_psnr = -1;       // best validation PSNR so far (-1: none yet)
  std::int64_t best_iteration = 0;
};

// `identity` names what the checkpoint trains (architecture, scale, batch layout, seed): loading
// it into a run with another identity is an error rather than a silently different run.
void save_checkpoint(const std::filesystem::path& path, torch::nn::Module& net,
                     torch::optim::Adam& optimizer, const Progress& progress,
                     const std::string& identity);
Progress load_checkpoint(const std::filesystem::path& path, torch::nn::Module& net,
                         torch::optim::Adam& optimizer, const std::string& identity);

}  // namespace quicksr::train
