#pragma once
// The reference runtime: plain, obviously-correct fp32 loops. It is the oracle every fast kernel
// is tested against, so it favours clarity over speed.
#include <functional>

#include "quicksr/model.hpp"
#include "quicksr/tensor.hpp"

namespace quicksr::reference {

Tensor conv2d(const Tensor& input, const Conv2d& conv);
Tensor clip(Tensor x, float lo, float hi);
Tensor add(const Tensor& a, const Tensor& b);
Tensor concat(const std::vector<const Tensor*>& parts);
Tensor depth_to_space(const Tensor& x, int block, ChannelOrder order);
Tensor space_to_depth(const Tensor& x, int block, ChannelOrder order);
// `conv.transposed`: ONNX ConvTranspose (IOHW weights, output_padding at the bottom/right).
Tensor conv_transpose2d(const Tensor& input, const Conv2d& conv);
// Elementwise ops of general graphs (GraphNode documents the broadcasting of mul and sub).
Tensor unary(const Tensor& x, const GraphNode& node, const Graph& graph);
Tensor binary(const Tensor& a, const Tensor& b, OpType op);
Tensor pool(const Tensor& x, const Pool2d& window, OpType op);
Tensor resize_nearest(const Tensor& x, int scale);
// Bilinear with half-pixel centres (PyTorch align_corners=False, ONNX half_pixel), edges clamped.
Tensor resize_bilinear(const Tensor& x, int height, int width);

// While alive, the ops that this thread runs here use at most `threads` threads (0: all cores):
// UpscalerOptions::threads for the graphs that run on the reference runtime.
class ThreadLimit {
 public:
  explicit ThreadLimit(int threads);
  ~ThreadLimit();
  ThreadLimit(const ThreadLimit&) = delete;
  ThreadLimit& operator=(const ThreadLimit&) = delete;

 private:
  int previous_;
};

// 3xHxW RGB in [0,1] to 3x(sH)x(sW). For s = 1.5 odd sizes are edge-padded to even and the output
// cropped to floor(1.5 * size).
Tensor forward(const QuickSRNet& net, const Tensor& input);
Tensor forward(const Graph& graph, const Tensor& input);
// Called with each node's result before later nodes read it; it may record the values
// (calibration) or change them (QuantSim's fake quantizers).
using NodeObserver = std::function<void(const GraphNode& node, Tensor& result)>;
Tensor forward(const Graph& graph, const Tensor& input, const NodeObserver& after_node);
// INT8 models run on the integer reference runtime (quant::forward).
Tensor forward(const Model& model, const Tensor& input);

}  // namespace quicksr::reference
