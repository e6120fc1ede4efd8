#include "engine/onednn_network.hpp"

#include <omp.h>

#include <dnnl.hpp>
#include <vector>

#include "engine/plan.hpp"
#include "quicksr/error.hpp"

namespace quicksr::engine {

namespace {

using dnnl::memory;
using Tag = memory::format_tag;

struct ConvStep {
  memory::desc src;  // the layout the primitive chose for its input
  dnnl::convolution_forward primitive;
  memory weights;
  memory bias;
  memory dst;
};

}  // namespace

struct OneDnnNetwork::Impl {
  int width;
  int height;
  int threads;
  int block;
  ChannelOrder order;
  dnnl::engine engine{dnnl::engine::kind::cpu, 0};
  dnnl::stream stream{engine};
  memory input;      // user memory, NHWC (interleaved RGB)
  memory first_src;  // the first conv's preferred source layout
  std::vector<ConvStep> steps;
  memory output;  // NHWC raw last-conv output for depth-to-space

  ConvStep make_step(const Conv2d& conv, const memory::desc& src);
};

ConvStep OneDnnNetwork::Impl::make_step(const Conv2d& conv, const memory::desc& src) {
  const memory::dims weight_dims{conv.out_channels, conv.in_channels, 3, 3};
  const memory::desc src_any({1, conv.in_channels, height, width}, memory::data_type::f32,
                             Tag::any);
  const memory::desc weights_any(weight_dims, memory::data_type::f32, Tag::any);
  const memory::desc bias_md({conv.out_channels}, memory::data_type::f32, Tag::x);
  const memory::desc dst_any({1, conv.out_channels, height, width}, memory::data_type::f32,
                             Tag::any);
  const dnnl::convolution_forward::desc desc(
      dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct,
      src.get_size() != 0 ? src : src_any, weights_any, bias_md, dst_any, {1, 1}, {1, 1}, {1, 1});
  dnnl::post_ops post_ops;
  post_ops.append_eltwise(1.0f, dnnl::algorithm::eltwise_clip, 0.0f, 1.0f);
  dnnl::primitive_attr attributes;
  attributes.set_post_ops(post_ops);
  const dnnl::convolution_forward::primitive_desc pd(desc, attributes, engine);

  ConvStep step{pd.src_desc(), dnnl::convolution_forward(pd), memory(pd.weights_desc(), engine),
                memory(bias_md, engine), memory(pd.dst_desc(), engine)};
  memory user_weights({weight_dims, memory::data_type::f32, Tag::oihw}, engine,
                      const_cast<float*>(conv.weight.data()));
  dnnl::reorder(user_weights, step.weights).execute(stream, user_weights, step.weights);
  std::vector<float> bias(conv.out_channels, 0.0f);
  if (!conv.bias.empty()) bias = conv.bias;
  std::copy(bias.begin(), bias.end(), static_cast<float*>(step.bias.get_data_handle()));
  return step;
}

OneDnnNetwork::OneDnnNetwork(const QuickSRNet& net, int width, int height, int threads)
    : impl_(std::make_unique<Impl>()) {
  net.check();
  if (!net.config.scale.is_integer() || !net.anchor.empty()) {
    throw Error("oneDNN comparison network: only integer-scale QuickSRNets without anchor");
  }
  Impl& m = *impl_;
  m.width = width;
  m.height = height;
  m.threads = threads;
  m.block = net.config.scale.numerator;
  m.order = net.config.order;
  omp_set_num_threads(threads);
  std::vector<const Conv2d*> convs{&net.first};
  for (const Conv2d& conv : net.body) convs.push_back(&conv);
  convs.push_back(&net.last);
  memory::desc src;
  for (std::size_t i = 0; i < convs.size(); ++i) {
    m.steps.push_back(m.make_step(*convs[i], src));
    src = m.steps.back().dst.get_desc();
  }
  m.input = memory({{1, 3, height, width}, memory::data_type::f32, Tag::nhwc}, m.engine);
  m.first_src = memory(m.steps.front().src, m.engine);
  m.output = memory({{1, net.last.out_channels, height, width}, memory::data_type::f32, Tag::nhwc},
                    m.engine);
}

OneDnnNetwork::~OneDnnNetwork() = default;

void OneDnnNetwork::run(const float* rgb_in, float* rgb_out) {
  Impl& m = *impl_;
  omp_set_num_threads(m.threads);
  m.input.set_data_handle(const_cast<float*>(rgb_in));
  dnnl::reorder(m.input, m.first_src).execute(m.stream, m.input, m.first_src);
  memory* src = &m.first_src;
  for (ConvStep& step : m.steps) {
    step.primitive.execute(m.stream, {{DNNL_ARG_SRC, *src},
                                      {DNNL_ARG_WEIGHTS, step.weights},
                                      {DNNL_ARG_BIAS, step.bias},
                                      {DNNL_ARG_DST, step.dst}});
    src = &step.dst;
  }
  dnnl::reorder(*src, m.output).execute(m.stream, *src, m.output);
  m.stream.wait();
  depth_to_space_interleaved(static_cast<const float*>(m.output.get_data_handle()), m.width,
                             m.height, m.block, m.order, m.threads, rgb_out);
}

namespace {

template <typename T>
void depth_to_space(const T* nhwc, int width, int height, int block, ChannelOrder order,
                    int threads, T* rgb_out) {
  const int s = block;
  const int channels = 3 * s * s;
  const int out_width = width * s;
#pragma omp parallel for num_threads(threads)
  for (int y = 0; y < height; ++y) {
    for (int dy = 0; dy < s; ++dy) {
      T* out = rgb_out + static_cast<std::size_t>(y * s + dy) * out_width * 3;
      for (int x = 0; x < width; ++x) {
        const T* pixel = nhwc + (static_cast<std::size_t>(y) * width + x) * channels;
        for (int dx = 0; dx < s; ++dx) {
          for (int c = 0; c < 3; ++c) {
            *out++ = pixel[d2s_channel(order, 3, s, c, dy, dx)];
          }
        }
      }
    }
  }
}

}  // namespace

void depth_to_space_interleaved(const float* nhwc, int width, int height, int block,
                                ChannelOrder order, int threads, float* rgb_out) {
  depth_to_space(nhwc, width, height, block, order, threads, rgb_out);
}

void depth_to_space_interleaved(const std::uint8_t* nhwc, int width, int height, int block,
                                ChannelOrder order, int threads, std::uint8_t* rgb_out) {
  depth_to_space(nhwc, width, height, block, order, threads, rgb_out);
}

}  // namespace quicksr::engine
