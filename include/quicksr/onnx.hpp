#pragma once
// ONNX interchange: import the official QuickSRNet weights and third-party baselines, export
// quicksr models for other runtimes (ONNX Runtime, OpenCV DNN, SNPE, TensorRT...).
#include <filesystem>

#include "quicksr/model.hpp"

namespace quicksr {

// Reads a float32 ONNX model built from Conv (dilation 1), Clip, Relu, DepthToSpace (CRD/DCR),
// SpaceToDepth, Add, Concat (channel axis), Identity and Constant. A graph with the QuickSRNet
// structure becomes a QuickSRNet (always CRD: DCR files get their channels re-ordered), anything
// else a Graph whose input is "input" and whose scale is deduced from its depth-to-space,
// space-to-depth and strides. The file's metadata becomes provenance, plus "source" (file name)
// and "conversion". Throws quicksr::Error naming the file, and the node (name and op type) for
// unsupported or inconsistent nodes.
Model import_onnx(const std::filesystem::path& path);

struct OnnxExportOptions {
  // Depth-to-space in DCR mode (for runtimes without CRD); the convs feeding it are re-ordered so
  // that the image is the same. Only for QuickSRNet models.
  bool dcr = false;
  // Input size fixed in the file; 0 = dynamic height and width (symbolic dimensions).
  int height = 0;
  int width = 0;
};

// Writes an ONNX file (opset 13, IR 7) for a QuickSRNet or a Graph, input "input" (1x3xHxW RGB in
// [0,1]) and output "output", provenance as metadata. The result passes onnx::checker. Written
// atomically; throws quicksr::Error for models ONNX cannot express.
void export_onnx(const Model& model, const std::filesystem::path& path,
                 const OnnxExportOptions& options = {});

}  // namespace quicksr
