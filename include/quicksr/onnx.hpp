#pragma once
// ONNX interchange: import the official QuickSRNet weights and third-party baselines, export
// quicksr models for other runtimes (ONNX Runtime, OpenCV DNN, SNPE, TensorRT...).
#include <filesystem>
#include <map>
#include <string>

#include "quicksr/model.hpp"
#include "quicksr/output.hpp"

namespace quicksr {

// Reads a float32 ONNX model built from Conv (dilation 1), ConvTranspose, Clip, Relu, LeakyRelu,
// PRelu, Sigmoid, Tanh, Add, Sub, Mul, Concat (channel axis), DepthToSpace (CRD/DCR),
// SpaceToDepth, AveragePool, MaxPool, Resize (integer nearest; bilinear to a Shape), Identity and
// Constant (docs/onnx.md has the supported forms). A graph with the QuickSRNet
// structure becomes a QuickSRNet (always CRD: DCR files get their channels re-ordered), anything
// else a Graph whose input is "input" and whose scale is deduced from its depth-to-space,
// space-to-depth and strides. The file's metadata becomes provenance, plus "source" (file name)
// and "conversion". A QDQ file (QuantizeLinear / DequantizeLinear around such a QuickSRNet, as
// export_qdq_onnx writes it) becomes an INT8 QuickSRNet. Throws quicksr::Error naming the file,
// and the node (name and op type) for unsupported or inconsistent nodes.
Model import_onnx(const std::filesystem::path& path);

// What every --model option reads: an .onnx file (any case) imported in memory, anything else
// as a quicksr model file (load_model).
Model load_model_or_onnx(const std::filesystem::path& path);

struct OnnxExportOptions {
  // Depth-to-space in DCR mode (for runtimes without CRD); the convs feeding it are re-ordered so
  // that the image is the same. Only for QuickSRNet models.
  bool dcr = false;
  // Input size fixed in the file; 0 = dynamic height and width (symbolic dimensions).
  int height = 0;
  int width = 0;
  // Batch size fixed in the file; 0 = dynamic (symbolic "batch").
  int batch = 0;
  // ONNX opset, kMinOnnxOpset..kMaxOnnxOpset. Below 11, Clip bounds are attributes and
  // DepthToSpace is DCR only (use `dcr` or `shuffles_as_convs`).
  int opset = 13;
  // Depth-to-space as a ConvTranspose and space-to-depth as a strided Conv, both with 0/1 weights
  // (the same values): for runtimes that implement them only for fixed sizes (OpenCV 4.6 DNN).
  bool shuffles_as_convs = false;
  ExistingFile existing = ExistingFile::kReplace;
};

constexpr int kMinOnnxOpset = 10;
constexpr int kMaxOnnxOpset = 17;

// OpenCV DNN (4.6, Debian 12) reads these files as they are, with dynamic sizes and batch.
OnnxExportOptions opencv_export_options();

// Writes an ONNX file for a QuickSRNet or a Graph, input "input" (Nx3xHxW RGB in [0,1]) and
// output "output", provenance as metadata; an INT8 QuickSRNet as export_qdq_onnx writes it, an
// INT8 graph likewise (a quantizer pair on each u8 tensor of docs/quantization.md "General graphs"
// but the outputs of depth-to-space and space-to-depth, which keep their input's values). The
// result passes onnx::checker. Written atomically; throws quicksr::Error for models ONNX (or the
// chosen opset) cannot express.
void export_onnx(const Model& model, const std::filesystem::path& path,
                 const OnnxExportOptions& options = {});

// Writes an INT8 QuickSRNet as a QDQ ONNX file (the options of export_onnx, opset >= 13):
// QuantizeLinear + DequantizeLinear (u8 with zero point) at every quantizer of
// docs/quantization.md (input, each conv + ReLU1 output, clipped output), and each conv reading
// DequantizeLinear of its s8 weights (zero point 0; per output channel along axis 0, or per
// tensor) and of its s32 bias (scale input_scale * weight_scale). `metadata` becomes
// metadata_props. Runtimes with integer kernels (ONNX Runtime) fuse these into QLinearConv.
void export_qdq_onnx(const QuantizedQuickSRNet& net,
                     const std::map<std::string, std::string>& metadata,
                     const std::filesystem::path& path, const OnnxExportOptions& options = {});

}  // namespace quicksr
