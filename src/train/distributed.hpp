#pragma once
// Data-parallel training over c10d's Gloo process group: every process computes the gradient of
// its share of the batch, and the mean over processes replaces each local gradient, so every
// process takes the same optimizer step as one process on the combined batch.
#include <memory>
#include <string>
#include <vector>

#include "train/torch.hpp"

namespace c10d {
class ProcessGroupGloo;
}

namespace quicksr::train {

class GradientAverager {
 public:
  // world_size 1 needs no rendezvous and makes average() a no-op. Otherwise `rendezvous` is
  // "file:PATH" (a file on a filesystem every process sees) or "tcp:HOST:PORT" (rank 0 listens).
  GradientAverager(int world_size, int rank, const std::string& rendezvous);
  ~GradientAverager();

  int world_size() const { return world_size_; }
  // Replaces every gradient of `parameters` and `loss` (a scalar) by its mean over processes.
  // `stop`: this process was asked to stop. Returns whether any process was, so that all of them
  // stop after the same step (one that stopped alone would leave the others in the all-reduce).
  bool average(const std::vector<torch::Tensor>& parameters, torch::Tensor& loss, bool stop);

 private:
  int world_size_;
  c10::intrusive_ptr<c10d::ProcessGroupGloo> group_;
};

}  // namespace quicksr::train
