#pragma once
// Hand-built general graphs for tests: nodes in one call, and the smallest upscaling graph.
#include <string>
#include <utility>
#include <vector>

#include "quicksr/model.hpp"

namespace quicksr::test_support {

// A node; `attribute` is the conv index for kConv and the block size for depth/space shuffles.
inline GraphNode graph_node(OpType op, std::string name, std::vector<std::string> inputs,
                            std::string output, int attribute = 0) {
  GraphNode node;
  node.op = op;
  node.name = std::move(name);
  node.inputs = std::move(inputs);
  node.output = std::move(output);
  if (op == OpType::kConv || op == OpType::kConvTranspose) node.conv = attribute;
  if (op == OpType::kDepthToSpace || op == OpType::kSpaceToDepth) node.block_size = attribute;
  return node;
}

// Conv3x3(3 -> 3 s^2) into "features", depth-to-space(s) into "out"; declared x`declared`.
inline Graph upscaling_graph(int s, Scale declared) {
  Graph graph;
  graph.architecture = "test";
  graph.scale = declared;
  graph.convs = {Conv2d::zeros(3, 3 * s * s, 3)};
  graph.nodes = {graph_node(OpType::kConv, "conv", {"input"}, "features", 0),
                 graph_node(OpType::kDepthToSpace, "shuffle", {"features"}, "out", s)};
  graph.output = "out";
  return graph;
}

}  // namespace quicksr::test_support
