#pragma once
// A general graph (quicksr::Graph: the baselines of docs/baselines.md, imported models) as a
// LibTorch module for training: one LibTorch op per graph node, run in the graph's order. The
// graph's conv weights and biases and PReLU slopes are trainable parameters; the convs the
// architecture fixes (fixed_convs: SESR's anchor, EDSR's mean shifts) are buffers, saved in
// checkpoints but never trained. A SESR training form runs collapsed (inference_form): each step
// composes the collapsed weights from the expanded parameters (differentiably, so they train as
// the expanded graph would, up to fp32 rounding) and runs only the collapsed convs.
#include <string>
#include <vector>

#include "quicksr/baselines.hpp"
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
  struct ConvValues {
    torch::Tensor weight;
    torch::Tensor bias;  // undefined without a bias
  };
  // Conv `index` of run_graph_ from the trained values, by its recipe.
  ConvValues run_conv(std::size_t index) const;
  torch::Tensor run_node(const GraphNode& node, const std::vector<torch::Tensor>& inputs,
                         const std::vector<ConvValues>& convs) const;

  Graph graph_;                         // structure; values as given (to_graph() replaces them)
  Graph run_graph_;                     // what forward() runs: inference_form(graph_)'s structure
  std::vector<CollapsedConv> origins_;  // per conv of run_graph_: its recipe from graph_'s convs
  std::vector<torch::Tensor> weights_;  // per conv (parameter, or buffer when fixed)
  std::vector<torch::Tensor> biases_;   // per conv; undefined without a bias
  std::vector<torch::Tensor> slopes_;   // per PReLU
  std::vector<std::vector<std::string>> released_;  // per run_graph_ node: tensors read no more
};
TORCH_MODULE(TorchGraphNet);

}  // namespace quicksr::train
