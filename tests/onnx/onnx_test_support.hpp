#pragma once
// Shared helpers of the ONNX tests: scratch folders, real test images, tiny hand-built ONNX models
// and OpenCV DNN as the independent ONNX runtime.
#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "quicksr/model.hpp"
#include "quicksr/tensor.hpp"
#include "support/temp_dir.hpp"
#include "support/test_name.hpp"

namespace quicksr::onnx_test {

std::filesystem::path shared_path(const std::string& relative);
std::filesystem::path reference_model(const std::string& name);

using test_support::test_name;

// The QuickSRNets every export test covers: Small x2, x3, x4, x1.5 and Large x2, x1.5, each with
// CRD and DCR depth-to-space.
struct ExportCase {
  QuickSRNetConfig config;
  bool dcr;
};
std::vector<ExportCase> export_cases();
// The export cases compared with ONNX Runtime and OpenCV: all of them in Release; Small and ReLU
// under the sanitizers. There Large's export is checked by the round trips and the QDQ structure
// tests, and another runtime's arithmetic gains nothing from them: its comparisons were 24 of
// the sanitized onnx_test's 93 s of CPU (CI's 25-minute budget).
std::vector<ExportCase> comparison_cases();
std::string export_case_name(const ExportCase& export_case);
// export_case_name as the name generator of a suite instantiated over export_cases().
std::string export_case_test_name(const testing::TestParamInfo<ExportCase>& info);

// How far an independent runtime (OpenCV DNN, ONNX Runtime) running an exported float model may be
// from quicksr's reference runtime: the same sums in another order.
inline constexpr float kRuntimeTolerance = 1e-5f;

using test_support::TempDir;

// A height x width crop of Set5 butterfly at (top, left); nullopt when the file is absent.
std::optional<Tensor> butterfly_crop(int top, int left, int height, int width);

// Runs an ONNX model through OpenCV DNN on a 3xHxW tensor. OpenCV 4.6 reads Clip bounds only as
// attributes (opset < 11), so Clip bound inputs are moved into attributes first (same values),
// and the declared input size is set to the tensor's (the official files declare 360x640).
Tensor run_opencv(const std::filesystem::path& onnx_file, const Tensor& input);

// Runs the ONNX file exactly as written through OpenCV DNN on a batch of same-size 3xHxW tensors.
std::vector<Tensor> run_opencv_unmodified(const std::filesystem::path& onnx_file,
                                          const std::vector<Tensor>& batch);

// ONNX Runtime (npm onnxruntime-node, run by node on tests/onnx/ort/run_onnx.js; installed by
// scripts/install_ort.sh). onnxruntime_missing() says why it cannot run here ("" when it can).
std::string onnxruntime_missing();
Tensor run_onnxruntime(const std::filesystem::path& onnx_file, const Tensor& input);
// Several runs in one node process: starting node and loading onnxruntime-node cost more than
// running a small model, so a test with several runs batches them. Outputs in the runs' order.
struct OnnxRuntimeRun {
  std::filesystem::path onnx_file;
  Tensor input;
};
std::vector<Tensor> run_onnxruntime(const std::vector<OnnxRuntimeRun>& runs);

float max_abs_difference(const Tensor& a, const Tensor& b);

// Building blocks of hand-made ONNX models: an opset-`opset` model with one float input
// "image" (1x3xHxW) and output "result".
onnx::ModelProto empty_model(int opset);
onnx::NodeProto& add_node(onnx::ModelProto& model, const std::string& op, const std::string& name,
                          const std::vector<std::string>& inputs, const std::string& output);
void add_initializer(onnx::ModelProto& model, const std::string& name,
                     const std::vector<std::int64_t>& dims, const std::vector<float>& values);
void add_int_attribute(onnx::NodeProto& node, const std::string& name, std::int64_t value);
void add_ints_attribute(onnx::NodeProto& node, const std::string& name,
                        const std::vector<std::int64_t>& values);
void write_model(const onnx::ModelProto& model, const std::filesystem::path& path);
// Nodes of type `op` in the model's graph.
int count_ops(const onnx::ModelProto& model, const std::string& op);
onnx::ModelProto read_model(const std::filesystem::path& path);

}  // namespace quicksr::onnx_test
