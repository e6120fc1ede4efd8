#include "onnx/onnx_test_support.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <opencv2/dnn.hpp>
#include <stdexcept>

#include "quicksr/image.hpp"
#include "support/sanitizer.hpp"

namespace quicksr::onnx_test {

std::filesystem::path shared_path(const std::string& relative) {
  return std::filesystem::path(QUICKSR_SHARED_DIR) / relative;
}

std::filesystem::path reference_model(const std::string& name) {
  return shared_path("models/reference/" + name);
}

std::vector<ExportCase> export_cases() {
  std::vector<ExportCase> cases;
  for (bool dcr : {false, true}) {
    for (Scale scale : {Scale{2, 1}, Scale{3, 1}, Scale{4, 1}, Scale{3, 2}}) {
      cases.push_back({QuickSRNetConfig::small(scale), dcr});
    }
    cases.push_back({QuickSRNetConfig::large(Scale{2, 1}), dcr});  // Large: its anchor
    cases.push_back({QuickSRNetConfig::large(Scale{3, 2}), dcr});
    for (Scale scale : {Scale{2, 1}, Scale{3, 2}}) {  // ReLU (Relu nodes), the paper's ablation
      QuickSRNetConfig relu = QuickSRNetConfig::small(scale);
      relu.activation = Activation::kReLU;
      cases.push_back({relu, dcr});
    }
  }
  return cases;
}

std::vector<ExportCase> comparison_cases() {
  std::vector<ExportCase> cases = export_cases();
#ifdef QUICKSR_TEST_ASAN
  std::erase_if(cases, [](const ExportCase& c) { return c.config.anchor; });
#endif
  return cases;
}

std::string export_case_name(const ExportCase& export_case) {
  return test_name(export_case.config.name() + (export_case.dcr ? "_dcr" : "_crd"));
}

std::string export_case_test_name(const testing::TestParamInfo<ExportCase>& info) {
  return export_case_name(info.param);
}

std::optional<Tensor> butterfly_crop(int top, int left, int height, int width) {
  const std::filesystem::path file = shared_path("data/benchmarks/Set5/HR/butterfly.png");
  if (!std::filesystem::exists(file)) return std::nullopt;
  const Tensor full = to_tensor(read_image(file));
  Tensor crop(3, height, width);
  for (int c = 0; c < 3; ++c) {
    for (int y = 0; y < height; ++y) {
      for (int x = 0; x < width; ++x) crop.at(c, y, x) = full.at(c, top + y, left + x);
    }
  }
  return crop;
}

namespace {

float scalar_initializer(const onnx::GraphProto& graph, const std::string& name) {
  for (const auto& tensor : graph.initializer()) {
    if (tensor.name() != name) continue;
    if (tensor.float_data_size() == 1) return tensor.float_data(0);
    float value = 0;
    std::memcpy(&value, tensor.raw_data().data(), sizeof value);
    return value;
  }
  throw std::runtime_error("Clip bound " + name + " is not an initializer");
}

void move_clip_bounds_to_attributes(onnx::GraphProto& graph) {
  for (auto& node : *graph.mutable_node()) {
    if (node.op_type() != "Clip") continue;
    for (int index : {1, 2}) {
      if (index >= node.input_size() || node.input(index).empty()) continue;
      auto& attribute = *node.add_attribute();
      attribute.set_name(index == 1 ? "min" : "max");
      attribute.set_type(onnx::AttributeProto::FLOAT);
      attribute.set_f(scalar_initializer(graph, node.input(index)));
    }
    node.mutable_input()->DeleteSubrange(1, node.input_size() - 1);
  }
}

void set_input_size(onnx::GraphProto& graph, int height, int width) {
  auto& dims = *graph.mutable_input(0)
                    ->mutable_type()
                    ->mutable_tensor_type()
                    ->mutable_shape()
                    ->mutable_dim();
  dims[2].set_dim_value(height);
  dims[3].set_dim_value(width);
  auto& out = *graph.mutable_output(0)->mutable_type()->mutable_tensor_type()->mutable_shape();
  out.mutable_dim(2)->set_dim_param("output_height");
  out.mutable_dim(3)->set_dim_param("output_width");
}

}  // namespace

Tensor run_opencv(const std::filesystem::path& onnx_file, const Tensor& input) {
  onnx::ModelProto model = read_model(onnx_file);
  move_clip_bounds_to_attributes(*model.mutable_graph());
  set_input_size(*model.mutable_graph(), input.height, input.width);
  std::string bytes;
  model.SerializeToString(&bytes);
  cv::dnn::Net net = cv::dnn::readNetFromONNX(bytes.data(), bytes.size());
  const int shape[] = {1, input.channels, input.height, input.width};
  cv::Mat blob(4, shape, CV_32F, const_cast<float*>(input.data.data()));
  net.setInput(blob);
  const cv::Mat out = net.forward();
  if (out.dims != 4 || out.size[0] != 1) throw std::runtime_error("unexpected OpenCV output shape");
  Tensor result(out.size[1], out.size[2], out.size[3]);
  std::copy_n(out.ptr<float>(), result.data.size(), result.data.begin());
  return result;
}

std::vector<Tensor> run_opencv_unmodified(const std::filesystem::path& onnx_file,
                                          const std::vector<Tensor>& batch) {
  cv::dnn::Net net = cv::dnn::readNetFromONNX(onnx_file.string());
  const Tensor& first = batch.at(0);
  const int shape[] = {static_cast<int>(batch.size()), first.channels, first.height, first.width};
  cv::Mat blob(4, shape, CV_32F);
  for (std::size_t n = 0; n < batch.size(); ++n) {
    std::copy(batch[n].data.begin(), batch[n].data.end(),
              blob.ptr<float>() + n * first.data.size());
  }
  net.setInput(blob);
  const cv::Mat out = net.forward();
  if (out.dims != 4 || out.size[0] != shape[0]) {
    throw std::runtime_error("unexpected OpenCV output shape");
  }
  std::vector<Tensor> results;
  for (int n = 0; n < shape[0]; ++n) {
    Tensor result(out.size[1], out.size[2], out.size[3]);
    std::copy_n(out.ptr<float>() + n * result.data.size(), result.data.size(), result.data.begin());
    results.push_back(std::move(result));
  }
  return results;
}

namespace {

const std::filesystem::path kOrtDir = QUICKSR_ORT_DIR;

std::string quoted(const std::filesystem::path& path) { return "'" + path.string() + "'"; }

}  // namespace

std::string onnxruntime_missing() {
  if (std::system("command -v node > /dev/null 2>&1") != 0) {
    return "node is not installed (Debian package nodejs)";
  }
  if (!std::filesystem::exists(kOrtDir / "node_modules/onnxruntime-node/package.json")) {
    return "onnxruntime-node is not installed in " + kOrtDir.string() +
           " (run scripts/install_ort.sh)";
  }
  return "";
}

Tensor run_onnxruntime(const std::filesystem::path& onnx_file, const Tensor& input) {
  return run_onnxruntime({{onnx_file, input}}).front();
}

std::vector<Tensor> run_onnxruntime(const std::vector<OnnxRuntimeRun>& runs) {
  TempDir dir;
  const std::filesystem::path list = dir / "runs.tsv", dims = dir / "dims.jsonl",
                              log = dir / "log.txt";
  const auto input_file = [&](std::size_t i) { return dir / ("input" + std::to_string(i)); };
  const auto output_file = [&](std::size_t i) { return dir / ("output" + std::to_string(i)); };
  {
    std::ofstream lines(list);
    for (std::size_t i = 0; i < runs.size(); ++i) {
      const Tensor& input = runs[i].input;
      std::ofstream file(input_file(i), std::ios::binary);
      file.write(reinterpret_cast<const char*>(input.data.data()),
                 static_cast<std::streamsize>(input.data.size() * sizeof(float)));
      lines << runs[i].onnx_file.string() << '\t' << input_file(i).string() << '\t'
            << input.channels << '\t' << input.height << '\t' << input.width << '\t'
            << output_file(i).string() << '\n';
    }
  }
  const std::string command = "node " + quoted(kOrtDir / "run_onnx.js") + " " + quoted(list) +
                              " > " + quoted(dims) + " 2> " + quoted(log);
  if (std::system(command.c_str()) != 0) {
    std::ifstream message(log);
    throw std::runtime_error("ONNX Runtime failed: " +
                             std::string(std::istreambuf_iterator<char>(message), {}));
  }
  std::ifstream shapes(dims);
  std::vector<Tensor> results;
  for (std::size_t i = 0; i < runs.size(); ++i) {
    int n = 0, c = 0, h = 0, w = 0;
    char ignore = 0;
    if (!(shapes >> ignore >> n >> ignore >> c >> ignore >> h >> ignore >> w >> ignore) || n != 1) {
      throw std::runtime_error("unexpected ONNX Runtime output shape of " +
                               runs[i].onnx_file.string());
    }
    Tensor result(c, h, w);
    std::ifstream data(output_file(i), std::ios::binary);
    data.read(reinterpret_cast<char*>(result.data.data()),
              static_cast<std::streamsize>(result.data.size() * sizeof(float)));
    if (!data)
      throw std::runtime_error("short ONNX Runtime output of " + runs[i].onnx_file.string());
    results.push_back(std::move(result));
  }
  return results;
}

float max_abs_difference(const Tensor& a, const Tensor& b) {
  if (a.channels != b.channels || a.height != b.height || a.width != b.width) return INFINITY;
  float worst = 0.0f;
  for (std::size_t i = 0; i < a.data.size(); ++i) {
    worst = std::max(worst, std::abs(a.data[i] - b.data[i]));
  }
  return worst;
}

onnx::ModelProto empty_model(int opset) {
  onnx::ModelProto model;
  model.set_ir_version(opset >= 13 ? 7 : 3);
  model.add_opset_import()->set_version(opset);
  onnx::GraphProto& graph = *model.mutable_graph();
  graph.set_name("test");
  const auto describe_image = [](onnx::ValueInfoProto& value, const std::string& name) {
    value.set_name(name);
    auto* type = value.mutable_type()->mutable_tensor_type();
    type->set_elem_type(onnx::TensorProto::FLOAT);
    auto* shape = type->mutable_shape();
    shape->add_dim()->set_dim_value(1);
    shape->add_dim()->set_dim_value(3);
    shape->add_dim()->set_dim_param("h");
    shape->add_dim()->set_dim_param("w");
  };
  describe_image(*graph.add_input(), "image");
  describe_image(*graph.add_output(), "result");
  return model;
}

onnx::NodeProto& add_node(onnx::ModelProto& model, const std::string& op, const std::string& name,
                          const std::vector<std::string>& inputs, const std::string& output) {
  onnx::NodeProto& node = *model.mutable_graph()->add_node();
  node.set_op_type(op);
  node.set_name(name);
  for (const std::string& input : inputs) node.add_input(input);
  node.add_output(output);
  return node;
}

void add_initializer(onnx::ModelProto& model, const std::string& name,
                     const std::vector<std::int64_t>& dims, const std::vector<float>& values) {
  onnx::TensorProto& tensor = *model.mutable_graph()->add_initializer();
  tensor.set_name(name);
  tensor.set_data_type(onnx::TensorProto::FLOAT);
  for (std::int64_t dim : dims) tensor.add_dims(dim);
  for (float value : values) tensor.add_float_data(value);
}

void add_int_attribute(onnx::NodeProto& node, const std::string& name, std::int64_t value) {
  onnx::AttributeProto& attribute = *node.add_attribute();
  attribute.set_name(name);
  attribute.set_type(onnx::AttributeProto::INT);
  attribute.set_i(value);
}

void add_ints_attribute(onnx::NodeProto& node, const std::string& name,
                        const std::vector<std::int64_t>& values) {
  onnx::AttributeProto& attribute = *node.add_attribute();
  attribute.set_name(name);
  attribute.set_type(onnx::AttributeProto::INTS);
  for (const std::int64_t value : values) attribute.add_ints(value);
}

int count_ops(const onnx::ModelProto& model, const std::string& op) {
  int count = 0;
  for (const auto& node : model.graph().node()) count += node.op_type() == op;
  return count;
}

void write_model(const onnx::ModelProto& model, const std::filesystem::path& path) {
  std::ofstream out(path, std::ios::binary);
  if (!model.SerializeToOstream(&out)) throw std::runtime_error("cannot write " + path.string());
}

onnx::ModelProto read_model(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  onnx::ModelProto model;
  if (!model.ParseFromIstream(&in)) throw std::runtime_error("cannot parse " + path.string());
  return model;
}

}  // namespace quicksr::onnx_test
