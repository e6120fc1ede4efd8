// The LibTorch graph interpreter against the reference runtime (an independent implementation of
// every op) on the same graph: each baseline builder and each graph op; training lowers the loss,
// leaves the fixed convs alone, and a SESR trained expanded collapses to the same function.
#include "train/graph_net.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>

#include "quicksr/baselines.hpp"
#include "quicksr/reference.hpp"
#include "support/graph_op_cases.hpp"
#include "support/random_tensor.hpp"

namespace quicksr::train {
namespace {

torch::Tensor to_torch(const Tensor& x) {
  return torch::from_blob(const_cast<float*>(x.data.data()), {1, x.channels, x.height, x.width})
      .clone();
}

Tensor from_torch(const torch::Tensor& y) {
  const torch::Tensor values = y.detach().contiguous();
  Tensor out(static_cast<int>(values.size(1)), static_cast<int>(values.size(2)),
             static_cast<int>(values.size(3)));
  std::copy(values.data_ptr<float>(), values.data_ptr<float>() + values.numel(), out.data.begin());
  return out;
}

Tensor torch_forward(TorchGraphNet& net, const Tensor& input) {
  torch::NoGradGuard no_grad;
  return from_torch(net->forward(to_torch(input)));
}

// Equal within `tolerance` of the reference output's largest magnitude (fp32 sums in another
// order).
void expect_close(const Tensor& actual, const Tensor& expected, float tolerance,
                  const std::string& what) {
  ASSERT_EQ(actual.channels, expected.channels) << what;
  ASSERT_EQ(actual.height, expected.height) << what;
  ASSERT_EQ(actual.width, expected.width) << what;
  float largest = 1.0f;
  for (const float v : expected.data) largest = std::max(largest, std::abs(v));
  for (std::size_t i = 0; i < expected.data.size(); ++i) {
    ASSERT_NEAR(actual.data[i], expected.data[i], tolerance * largest) << what << " at " << i;
  }
}

// Inputs in [-1, 1) reach every activation's negative branch; 17 x 16 exercises ESA's rounding.
Tensor signed_input(int height, int width, unsigned seed) {
  Tensor x = test_support::random_tensor(3, height, width, seed);
  for (float& v : x.data) v = 2.0f * v - 1.0f;
  return x;
}

struct BaselineCase {
  std::string name;
  int scale;
};

std::vector<BaselineCase> baseline_cases() {
  std::vector<BaselineCase> cases;
  for (const std::string& name : baseline_names()) {
    for (int scale : {2, 3, 4}) cases.push_back({name, scale});
  }
  return cases;
}

class GraphNetBaseline : public testing::TestWithParam<BaselineCase> {};

TEST_P(GraphNetBaseline, MatchesTheReferenceRuntime) {
  const Graph graph = build_baseline(GetParam().name, {.scale = {GetParam().scale, 1}, .seed = 3});
  TorchGraphNet net(graph);
  const Tensor input = signed_input(17, 16, 5);
  expect_close(torch_forward(net, input), reference::forward(graph, input), 2e-5f, GetParam().name);
}

INSTANTIATE_TEST_SUITE_P(Builders, GraphNetBaseline, testing::ValuesIn(baseline_cases()),
                         [](const testing::TestParamInfo<BaselineCase>& info) {
                           std::string name = info.param.name;
                           std::replace(name.begin(), name.end(), '-', '_');
                           return name + "_x" + std::to_string(info.param.scale);
                         });

// The op cases of the ONNX tests, plus the orders and paddings no baseline uses.
std::vector<test_support::OpCase> op_cases() {
  using test_support::make_node;
  std::vector<test_support::OpCase> cases = test_support::op_cases();
  for (const auto& [name, first, second] :
       {std::tuple{"space_to_depth_dcr_depth_to_space_crd", ChannelOrder::kDCR, ChannelOrder::kCRD},
        std::tuple{"space_to_depth_crd_depth_to_space_dcr", ChannelOrder::kCRD,
                   ChannelOrder::kDCR}}) {
    cases.push_back({name, [first, second](Graph& g) {
                       GraphNode down = make_node(OpType::kSpaceToDepth, {"a"}, "d");
                       down.block_size = 2;
                       down.order = first;
                       GraphNode up = make_node(OpType::kDepthToSpace, {"d"});
                       up.block_size = 2;
                       up.order = second;
                       g.nodes.insert(g.nodes.end(), {down, up});
                     }});
  }
  cases.push_back({"conv_asymmetric_pads_clip", [](Graph& g) {
                     std::mt19937_64 engine(5);
                     Conv2d conv = test_support::random_conv(8, 8, 3, engine, 2);
                     conv.pad_top = conv.pad_left = 0;
                     conv.pad_bottom = conv.pad_right = 2;
                     test_support::append_conv(g, "a", "c", conv);
                     GraphNode clip = make_node(OpType::kClip, {"c"});
                     clip.clip_min = -0.25f;
                     clip.clip_max = 0.5f;
                     g.nodes.push_back(clip);
                   }});
  cases.push_back({"average_pool_asymmetric_stride2_resize_nearest", [](Graph& g) {
                     GraphNode pool = make_node(OpType::kAveragePool, {"a"}, "p");
                     pool.pool = {.kernel = 3, .stride = 2, .pad_bottom = 1, .pad_right = 1};
                     GraphNode nearest = make_node(OpType::kResizeNearest, {"p"});
                     nearest.block_size = 2;
                     g.nodes.insert(g.nodes.end(), {pool, nearest});
                   }});
  return cases;
}

class GraphNetOp : public testing::TestWithParam<test_support::OpCase> {};

TEST_P(GraphNetOp, MatchesTheReferenceRuntime) {
  const Graph graph = test_support::op_graph(GetParam());
  TorchGraphNet net(graph);
  for (const auto& [height, width] : {std::pair{16, 18}, std::pair{22, 20}}) {
    const Tensor input = signed_input(height, width, 9);
    expect_close(torch_forward(net, input), reference::forward(graph, input), 1e-5f,
                 GetParam().name);
  }
}

INSTANTIATE_TEST_SUITE_P(Ops, GraphNetOp, testing::ValuesIn(op_cases()),
                         [](const testing::TestParamInfo<test_support::OpCase>& info) {
                           return info.param.name;
                         });

// A fixed batch: random LR patches, their nearest-neighbour upscale as HR (a target every net
// can approach).
struct Batch {
  torch::Tensor lr;
  torch::Tensor hr;
};

Batch fixed_batch(int scale) {
  torch::manual_seed(4);
  const torch::Tensor lr = torch::rand({2, 3, 16, 16});
  return {lr, lr.repeat_interleave(scale, 2).repeat_interleave(scale, 3)};
}

// Adam steps on one batch; the losses before and after.
std::pair<double, double> train_steps(TorchGraphNet& net, const Batch& batch, int steps) {
  torch::optim::Adam adam(net->parameters(), torch::optim::AdamOptions(1e-3));
  double first = 0, last = 0;
  for (int i = 0; i <= steps; ++i) {
    adam.zero_grad();
    torch::Tensor loss = torch::l1_loss(net->forward(batch.lr), batch.hr);
    (i == 0 ? first : last) = loss.item<double>();
    if (i == steps) break;
    loss.backward();
    adam.step();
  }
  return {first, last};
}

TEST(GraphNetTraining, StepsLowerTheLoss) {
  for (const std::string name : {"fsrcnn", "espcn", "xlsr", "sesr-m3-expanded", "abpn", "erfdn"}) {
    TorchGraphNet net(build_baseline(name, {.scale = {2, 1}, .seed = 1}));
    const auto [before, after] = train_steps(net, fixed_batch(2), 10);
    EXPECT_LT(after, 0.9 * before) << name;
  }
}

TEST(GraphNetTraining, FixedConvsStayAndAreNoParameters) {
  for (const std::string name : {"sesr-m3-expanded", "edsr-baseline"}) {
    const Graph start = build_baseline(name, {.scale = {2, 1}, .seed = 1});
    const std::vector<int> fixed = fixed_convs(start);
    ASSERT_EQ(fixed.size(), name == "edsr-baseline" ? 2u : 1u) << name;
    TorchGraphNet net(start);
    std::size_t trainable_values = 0;
    for (const torch::Tensor& parameter : net->parameters()) trainable_values += parameter.numel();
    std::size_t all_values = 0;
    for (const Conv2d& conv : start.convs) all_values += conv.weight.size() + conv.bias.size();
    std::size_t fixed_values = 0;
    for (int i : fixed) fixed_values += start.convs[i].weight.size() + start.convs[i].bias.size();
    EXPECT_EQ(trainable_values, all_values - fixed_values) << name;

    train_steps(net, fixed_batch(2), 3);
    const Graph trained = net->to_graph();
    for (std::size_t i = 0; i < start.convs.size(); ++i) {
      const bool is_fixed =
          std::find(fixed.begin(), fixed.end(), static_cast<int>(i)) != fixed.end();
      EXPECT_EQ(trained.convs[i].weight == start.convs[i].weight, is_fixed)
          << name << " conv " << i;
      if (start.convs[i].bias.empty()) continue;  // SESR's expanding convs have none
      EXPECT_EQ(trained.convs[i].bias == start.convs[i].bias, is_fixed) << name << " conv " << i;
    }
  }
}

TEST(GraphNetTraining, TrainedSesrCollapsesToTheSameOutput) {
  TorchGraphNet net(build_baseline("sesr-m5-expanded", {.scale = {3, 1}, .seed = 2}));
  train_steps(net, fixed_batch(3), 5);
  const Graph expanded = net->to_graph();
  const Model model = net->to_model();
  const Graph& collapsed = std::get<Graph>(model.net);
  EXPECT_EQ(collapsed.architecture, "sesr-m5");
  const Graph built = build_baseline("sesr-m5", {.scale = {3, 1}});
  ASSERT_EQ(collapsed.nodes.size(), built.nodes.size());
  ASSERT_EQ(collapsed.convs.size(), built.convs.size());
  const Tensor input = signed_input(14, 11, 6);
  const Tensor expected = reference::forward(expanded, input);
  expect_close(reference::forward(collapsed, input), expected, 1e-4f, "collapsed");
  expect_close(torch_forward(net, input), expected, 2e-5f, "LibTorch");
}

// Largest |actual - expected| over the largest |expected| (at least 1).
double relative_error(const torch::Tensor& actual, const torch::Tensor& expected) {
  return (actual - expected).abs().max().item<double>() /
         std::max(1.0, expected.abs().max().item<double>());
}

// The loss sum(net(x) * direction) backpropagated: the output, and the gradients of the input and
// of every parameter by name.
struct Backward {
  torch::Tensor output;
  std::map<std::string, torch::Tensor> gradients;
};

Backward run_backward(TorchGraphNet& net, const torch::Tensor& input, unsigned seed) {
  const torch::Tensor x = input.clone().requires_grad_();
  const torch::Tensor y = net->forward(x);
  torch::manual_seed(seed);
  (y * torch::randn(y.sizes())).sum().backward();
  Backward result{y.detach(), {{"input", x.grad()}}};
  for (const auto& parameter : net->named_parameters()) {
    result.gradients[parameter.key()] = parameter.value().grad();
  }
  return result;
}

struct DeconvCase {
  int kernel_h, kernel_w, stride, pad_top, pad_left, output_padding, groups;
};

// ONNX ConvTranspose the direct way: LibTorch's transposed conv over the whole input, the output
// padding appended as zeros at the bottom/right, the pads cropped, the bias added everywhere.
torch::Tensor direct_conv_transpose(const torch::Tensor& x, const torch::Tensor& weight,
                                    const torch::Tensor& bias, const DeconvCase& c) {
  namespace F = torch::nn::functional;
  const torch::Tensor full =
      F::pad(torch::conv_transpose2d(x, weight, {}, c.stride, 0, 0, c.groups),
             F::PadFuncOptions({0, c.output_padding, 0, c.output_padding}));
  return full.slice(2, c.pad_top, c.pad_top + x.size(2) * c.stride)
             .slice(3, c.pad_left, c.pad_left + x.size(3) * c.stride) +
         bias.view({1, -1, 1, 1});
}

// The trainer runs a transposed conv as s^2 phase convs: outputs and gradients (input, weight,
// bias) against the direct transposed conv, for FSRCNN's geometries (9x9, x2..x4), kernels that
// the stride does not divide, asymmetric pads, a non-square kernel and groups.
TEST(GraphNetTraining, TransposedConvMatchesTheDirectOne) {
  for (const DeconvCase& c : {DeconvCase{9, 9, 2, 4, 4, 1, 1}, DeconvCase{9, 9, 3, 4, 4, 2, 1},
                              DeconvCase{9, 9, 4, 4, 4, 3, 1}, DeconvCase{4, 4, 2, 1, 1, 0, 1},
                              DeconvCase{3, 3, 2, 1, 1, 1, 3}, DeconvCase{5, 5, 3, 0, 2, 0, 1},
                              DeconvCase{7, 7, 4, 3, 0, 1, 3}, DeconvCase{2, 2, 2, 0, 0, 0, 1},
                              DeconvCase{6, 6, 4, 1, 3, 2, 1}, DeconvCase{5, 3, 2, 2, 0, 1, 1}}) {
    const std::string what = "kernel " + std::to_string(c.kernel_h) + "x" +
                             std::to_string(c.kernel_w) + " stride " + std::to_string(c.stride) +
                             " pads " + std::to_string(c.pad_top) + "," +
                             std::to_string(c.pad_left) + " groups " + std::to_string(c.groups);
    Graph graph;
    graph.architecture = "op-conv-transpose";
    graph.scale = {c.stride, 1};
    graph.output = "y";
    std::mt19937_64 engine(12);
    Conv2d deconv = test_support::random_conv(3, 3, 1, engine, c.groups);
    deconv.transposed = true;
    deconv.kernel_h = c.kernel_h;
    deconv.kernel_w = c.kernel_w;
    deconv.stride = c.stride;
    deconv.pad_top = c.pad_top;
    deconv.pad_left = c.pad_left;
    deconv.pad_bottom = c.kernel_h + c.output_padding - c.stride - c.pad_top;
    deconv.pad_right = c.kernel_w + c.output_padding - c.stride - c.pad_left;
    deconv.output_padding = c.output_padding;
    allocate_zero_weights(deconv);
    fill_uniform(deconv, engine);
    test_support::append_conv(graph, "input", "y", deconv);
    TorchGraphNet net(graph);
    torch::manual_seed(5);
    const torch::Tensor input = torch::rand({2, 3, 7, 6}) * 2 - 1;
    const Backward phases = run_backward(net, input, 6);

    torch::Tensor weight = net->named_parameters()["conv0_weight"].detach().clone();
    torch::Tensor bias = net->named_parameters()["conv0_bias"].detach().clone();
    const torch::Tensor x = input.clone().requires_grad_();
    weight.requires_grad_();
    bias.requires_grad_();
    const torch::Tensor y = direct_conv_transpose(x, weight, bias, c);
    torch::manual_seed(6);
    (y * torch::randn(y.sizes())).sum().backward();
    ASSERT_EQ(phases.output.sizes(), y.sizes()) << what;
    EXPECT_LT(relative_error(phases.output, y), 1e-6) << what;
    EXPECT_LT(relative_error(phases.gradients.at("input"), x.grad()), 1e-6) << what;
    EXPECT_LT(relative_error(phases.gradients.at("conv0_weight"), weight.grad()), 1e-6) << what;
    EXPECT_LT(relative_error(phases.gradients.at("conv0_bias"), bias.grad()), 1e-6) << what;
  }
}

// A SESR training form runs collapsed in the forward pass: against the same graph run as it is
// (renamed, so that it is not collapsed), the output and the gradient of the input and of every
// expanded parameter agree; the saved model (the fp32 collapse of the parameters) computes what
// the training forward computes.
TEST(GraphNetTraining, SesrRunsCollapsedWithTheExpandedGradients) {
  for (const auto& [name, scale] : {std::pair{"sesr-m3-expanded", 2}, {"sesr-xl-expanded", 4}}) {
    TorchGraphNet start(build_baseline(name, {.scale = {scale, 1}, .seed = 3}));
    train_steps(start, fixed_batch(scale), 1);  // trained values, not only the initialisation
    const Graph trained = start->to_graph();
    Graph as_it_is = trained;
    as_it_is.architecture = "sesr-as-it-is";
    TorchGraphNet collapsed(trained);
    TorchGraphNet reference(as_it_is);
    torch::manual_seed(7);
    const torch::Tensor input = torch::rand({1, 3, 11, 9}) * 2 - 1;
    const Backward actual = run_backward(collapsed, input, 8);
    const Backward expected = run_backward(reference, input, 8);
    EXPECT_LT(relative_error(actual.output, expected.output), 1e-5) << name;
    ASSERT_EQ(actual.gradients.size(), expected.gradients.size()) << name;
    for (const auto& [key, gradient] : expected.gradients) {
      EXPECT_LT(relative_error(actual.gradients.at(key), gradient), 1e-5) << name << " " << key;
    }
    TorchGraphNet saved(std::get<Graph>(collapsed->to_model().net));
    torch::NoGradGuard no_grad;
    EXPECT_LT(relative_error(saved->forward(input), actual.output), 1e-6) << name;
  }
}

TEST(GraphNetTraining, WritesTheTrainedValuesBack) {
  const std::vector<test_support::OpCase> cases = test_support::op_cases();
  const auto prelu = std::find_if(cases.begin(), cases.end(), [](const test_support::OpCase& c) {
    return c.name == "prelu_per_channel";
  });
  ASSERT_NE(prelu, cases.end());
  const Graph graph = test_support::op_graph(*prelu);
  ASSERT_EQ(graph.prelus.size(), 1u);
  TorchGraphNet net(graph);
  train_steps(net, fixed_batch(2), 2);
  const Graph trained = net->to_graph();
  EXPECT_NE(trained.prelus[0].slope, graph.prelus[0].slope);
  EXPECT_NE(trained.convs[0].weight, graph.convs[0].weight);
  TorchGraphNet reloaded(trained);
  const Tensor input = signed_input(12, 10, 8);
  expect_close(torch_forward(reloaded, input), torch_forward(net, input), 0.0f, "reloaded");
  expect_close(reference::forward(trained, input), torch_forward(net, input), 1e-5f, "trained");
}

}  // namespace
}  // namespace quicksr::train
