#include "engine/onednn_network.hpp"

#include <omp.h>

#include <cstring>
#include <dnnl.hpp>
#include <type_traits>
#include <vector>

#include "engine/plan.hpp"
#include "quicksr/error.hpp"
#include "quicksr/quant.hpp"

namespace quicksr::engine {

namespace {

using dnnl::memory;
using Tag = memory::format_tag;
using Type = memory::data_type;

// One 3x3 conv as oneDNN sees it: the data types of the precision, OIHW weights, out_channels
// 4-byte bias values (f32 or s32) and the attributes (output scales, the clip post-op).
struct ConvSpec {
  int in_channels = 0;
  int out_channels = 0;
  Type data = Type::f32;    // source and destination
  Type weight = Type::f32;  // f32 or s8
  Type bias = Type::f32;    // f32 or s32
  const void* weights = nullptr;
  const void* bias_values = nullptr;
  dnnl::primitive_attr attributes;
};

dnnl::primitive_attr clip_attributes(float hi) {
  dnnl::post_ops post_ops;
  post_ops.append_eltwise(1.0f, dnnl::algorithm::eltwise_clip, 0.0f, hi);
  dnnl::primitive_attr attributes;
  attributes.set_post_ops(post_ops);
  return attributes;
}

struct ConvStep {
  memory::desc src;  // the layout the primitive chose for its input
  dnnl::convolution_forward primitive;
  memory weights;
  memory bias;
  memory dst;
};

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
          for (int c = 0; c < 3; ++c) *out++ = pixel[d2s_channel(order, 3, s, c, dy, dx)];
        }
      }
    }
  }
}

}  // namespace

struct OneDnnNetwork::Impl {
  int width = 0;
  int height = 0;
  int threads = 0;
  int block = 0;
  ChannelOrder order = ChannelOrder::kCRD;
  Type data = Type::f32;
  dnnl::engine engine{dnnl::engine::kind::cpu, 0};
  dnnl::stream stream{engine};
  memory input;      // user memory, NHWC (interleaved RGB)
  memory first_src;  // the first conv's preferred source layout
  std::vector<ConvStep> steps;
  memory output;  // NHWC raw last-conv output for depth-to-space

  Impl(const QuickSRNetConfig& config, int w, int h, int thread_count, Type data_type);
  void add_step(const ConvSpec& spec);
  void finish(int out_channels);
  template <typename T>
  void run(const T* rgb_in, T* rgb_out);
};

OneDnnNetwork::Impl::Impl(const QuickSRNetConfig& config, int w, int h, int thread_count,
                          Type data_type)
    : width(w),
      height(h),
      threads(thread_count),
      block(config.scale.numerator),
      order(config.order),
      data(data_type) {
  if (!config.scale.is_integer() || config.anchor) {
    throw Error("oneDNN comparison network: only integer-scale QuickSRNets without anchor");
  }
  if (config.activation != Activation::kReLU1) {  // the clip post-ops are ReLU1's
    throw Error("oneDNN comparison network: only ReLU1 QuickSRNets (this one uses " +
                activation_name(config.activation) + ")");
  }
  omp_set_num_threads(threads);
}

// Chains a conv after the last one, in the layout that one chose for its output.
void OneDnnNetwork::Impl::add_step(const ConvSpec& spec) {
  const memory::dims weight_dims{spec.out_channels, spec.in_channels, 3, 3};
  const memory::desc src_any({1, spec.in_channels, height, width}, data, Tag::any);
  const memory::desc weights_any(weight_dims, spec.weight, Tag::any);
  const memory::desc bias_md({spec.out_channels}, spec.bias, Tag::x);
  const memory::desc dst_any({1, spec.out_channels, height, width}, data, Tag::any);
  const dnnl::convolution_forward::desc desc(dnnl::prop_kind::forward_inference,
                                             dnnl::algorithm::convolution_direct,
                                             steps.empty() ? src_any : steps.back().dst.get_desc(),
                                             weights_any, bias_md, dst_any, {1, 1}, {1, 1}, {1, 1});
  const dnnl::convolution_forward::primitive_desc pd(desc, spec.attributes, engine);
  ConvStep step{pd.src_desc(), dnnl::convolution_forward(pd), memory(pd.weights_desc(), engine),
                memory(bias_md, engine), memory(pd.dst_desc(), engine)};
  memory user_weights({weight_dims, spec.weight, Tag::oihw}, engine,
                      const_cast<void*>(spec.weights));
  dnnl::reorder(user_weights, step.weights).execute(stream, user_weights, step.weights);
  std::memcpy(step.bias.get_data_handle(), spec.bias_values, spec.out_channels * 4);
  steps.push_back(std::move(step));
}

void OneDnnNetwork::Impl::finish(int out_channels) {
  input = memory({{1, 3, height, width}, data, Tag::nhwc}, engine);
  first_src = memory(steps.front().src, engine);
  output = memory({{1, out_channels, height, width}, data, Tag::nhwc}, engine);
}

template <typename T>
void OneDnnNetwork::Impl::run(const T* rgb_in, T* rgb_out) {
  if (data != (std::is_same_v<T, float> ? Type::f32 : Type::u8)) {
    throw Error("oneDNN comparison network: run() with the other precision's pixels");
  }
  omp_set_num_threads(threads);
  input.set_data_handle(const_cast<T*>(rgb_in));
  dnnl::reorder(input, first_src).execute(stream, input, first_src);
  memory* src = &first_src;
  for (ConvStep& step : steps) {
    step.primitive.execute(stream, {{DNNL_ARG_SRC, *src},
                                    {DNNL_ARG_WEIGHTS, step.weights},
                                    {DNNL_ARG_BIAS, step.bias},
                                    {DNNL_ARG_DST, step.dst}});
    src = &step.dst;
  }
  dnnl::reorder(*src, output).execute(stream, *src, output);
  stream.wait();
  depth_to_space(static_cast<const T*>(output.get_data_handle()), width, height, block, order,
                 threads, rgb_out);
}

OneDnnNetwork::OneDnnNetwork(const QuickSRNet& net, int width, int height, int threads)
    : impl_(std::make_unique<Impl>(net.config, width, height, threads, Type::f32)) {
  net.check();
  std::vector<const Conv2d*> convs{&net.first};
  for (const Conv2d& conv : net.body) convs.push_back(&conv);
  convs.push_back(&net.last);
  for (const Conv2d* conv : convs) {
    std::vector<float> bias(conv->out_channels, 0.0f);
    if (!conv->bias.empty()) bias = conv->bias;
    impl_->add_step({conv->in_channels, conv->out_channels, Type::f32, Type::f32, Type::f32,
                     conv->weight.data(), bias.data(), clip_attributes(1.0f)});
  }
  impl_->finish(net.last.out_channels);
}

OneDnnNetwork::OneDnnNetwork(const QuantizedQuickSRNet& net, int width, int height, int threads)
    : impl_(std::make_unique<Impl>(net.config, width, height, threads, Type::u8)) {
  net.check();
  bool zero_points = net.input.zero_point == 0 && net.output.zero_point == 0;
  for (const ActivationEncoding& e : net.features) zero_points = zero_points && e.zero_point == 0;
  if (!zero_points) {
    throw Error("oneDNN INT8 comparison network: only activation zero points of 0");
  }
  std::vector<const QConv2d*> convs{&net.first};
  std::vector<ActivationEncoding> encodings{net.input};
  for (const QConv2d& conv : net.body) convs.push_back(&conv);
  convs.push_back(&net.last);
  encodings.insert(encodings.end(), net.features.begin(), net.features.end());
  encodings.push_back(net.output);
  for (std::size_t i = 0; i < convs.size(); ++i) {
    const QConv2d& conv = *convs[i];
    std::vector<float> scales;
    for (int o = 0; o < conv.out_channels; ++o) {
      scales.push_back(
          quant::requant_multiplier(encodings[i].scale, conv.scale_of(o), encodings[i + 1].scale));
    }
    dnnl::primitive_attr attributes =
        clip_attributes(static_cast<float>(quant::relu1_bounds(encodings[i + 1]).hi));
    attributes.set_output_scales(1 << 1, scales);  // per output channel
    impl_->add_step({conv.in_channels, conv.out_channels, Type::u8, Type::s8, Type::s32,
                     conv.weight.data(), conv.bias.data(), attributes});
  }
  impl_->finish(net.last.out_channels);
}

OneDnnNetwork::~OneDnnNetwork() = default;

void OneDnnNetwork::run(const float* rgb_in, float* rgb_out) { impl_->run(rgb_in, rgb_out); }
void OneDnnNetwork::run(const std::uint8_t* rgb_in, std::uint8_t* rgb_out) {
  impl_->run(rgb_in, rgb_out);
}

}  // namespace quicksr::engine
