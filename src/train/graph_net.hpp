#pragma once
// A general graph (quicksr::Graph: the baselines of docs/baselines.md, imported models) as a
// LibTorch module for training: one LibTorch op per graph node, run in the graph's order. The
// graph's conv weights and biases and PReLU slopes are trainable parameters; the convs the
// architecture fixes (fixed_convs: SESR's anchor, EDSR's mean shifts) are buffers, saved in
// checkpoints but never trained.
#include <string>
#include <vector>

#include "quicksr/model.hpp"
#include "train/torch.hpp"
#include "train/torch_net.hpp"

namespace quicksr::train {

class TorchGraphNetImpl : public TrainableNet {
 public:
  // Copies the graph's values in; throws quicksr::Error when check_graph rejects it.
  explicit TorchGraphNetImpl(Graph graph);

  torch::Tensor forward(torch::Tensor lr) override;

  // The graph with the current values written back (the form it trains in).
  Graph to_graph() const;
  // What inference runs: inference_form(to_graph()) (a SESR training form collapsed).
  Model to_model() const override;

 private:
  torch::Tensor run_node(const GraphNode& node, const std::vector<torch::Tensor>& inputs) const;

  Graph graph_;                         // structure; values as given (to_graph() replaces them)
  std::vector<torch::Tensor> weights_;  // per conv (parameter, or buffer when fixed)
  std::vector<torch::Tensor> biases_;   // per conv; undefined without a bias
  std::vector<torch::Tensor> slopes_;   // per PReLU
  std::vector<std::vector<std::string>> released_;  // per node: tensors no later node reads
};
TORCH_MODULE(TorchGraphNet);

}  // namespace quicksr::train
