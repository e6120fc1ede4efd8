#include "engine/onednn_int8_network.hpp"

#include <omp.h>

#include <dnnl.hpp>
#include <vector>

#include "engine/onednn_network.hpp"
#include "quicksr/error.hpp"
#include "quicksr/quant.hpp"

namespace quicksr::engine {

namespace {

using dnnl::memory;
using Tag = memory::format_tag;
using Type = memory::data_type;

struct ConvStep {
  memory::desc src;  // the layout the primitive chose for its input
  dnnl::convolution_forward primitive;
  memory weights;
  memory bias;
  memory dst;
};

}  // namespace

struct OneDnnInt8Network::Impl {
  int width;
  int height;
  int threads;
  int block;
  ChannelOrder order;
  dnnl::engine engine{dnnl::engine::kind::cpu, 0};
  dnnl::stream stream{engine};
  memory input;      // user memory, NHWC u8 (interleaved RGB)
  memory first_src;  // the first conv's preferred source layout
  std::vector<ConvStep> steps;
  memory output;  // NHWC u8 last-conv output for depth-to-space

  ConvStep make_step(const QConv2d& conv, const ActivationEncoding& in,
                     const ActivationEncoding& out, const memory::desc& src);
};

ConvStep OneDnnInt8Network::Impl::make_step(const QConv2d& conv, const ActivationEncoding& in,
                                            const ActivationEncoding& out,
                                            const memory::desc& src) {
  const memory::dims weight_dims{conv.out_channels, conv.in_channels, 3, 3};
  const memory::desc src_any({1, conv.in_channels, height, width}, Type::u8, Tag::any);
  const memory::desc weights_any(weight_dims, Type::s8, Tag::any);
  const memory::desc bias_md({conv.out_channels}, Type::s32, Tag::x);
  const memory::desc dst_any({1, conv.out_channels, height, width}, Type::u8, Tag::any);
  const dnnl::convolution_forward::desc desc(
      dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct,
      src.get_size() != 0 ? src : src_any, weights_any, bias_md, dst_any, {1, 1}, {1, 1}, {1, 1});
  std::vector<float> scales;
  for (int o = 0; o < conv.out_channels; ++o) {
    scales.push_back(quant::requant_multiplier(in.scale, conv.scale_of(o), out.scale));
  }
  dnnl::primitive_attr attributes;
  attributes.set_output_scales(1 << 1, scales);  // per output channel
  dnnl::post_ops post_ops;
  post_ops.append_eltwise(1.0f, dnnl::algorithm::eltwise_clip, 0.0f,
                          static_cast<float>(quant::relu1_bounds(out).hi));
  attributes.set_post_ops(post_ops);
  const dnnl::convolution_forward::primitive_desc pd(desc, attributes, engine);

  ConvStep step{pd.src_desc(), dnnl::convolution_forward(pd), memory(pd.weights_desc(), engine),
                memory(bias_md, engine), memory(pd.dst_desc(), engine)};
  memory user_weights({weight_dims, Type::s8, Tag::oihw}, engine,
                      const_cast<std::int8_t*>(conv.weight.data()));
  dnnl::reorder(user_weights, step.weights).execute(stream, user_weights, step.weights);
  std::copy(conv.bias.begin(), conv.bias.end(),
            static_cast<std::int32_t*>(step.bias.get_data_handle()));
  return step;
}

OneDnnInt8Network::OneDnnInt8Network(const QuantizedQuickSRNet& net, int width, int height,
                                     int threads)
    : impl_(std::make_unique<Impl>()) {
  net.check();
  if (!net.config.scale.is_integer() || !net.anchor.empty()) {
    throw Error("oneDNN INT8 comparison network: only integer-scale QuickSRNets without anchor");
  }
  bool zero_points = net.input.zero_point == 0 && net.output.zero_point == 0;
  for (const ActivationEncoding& e : net.features) zero_points = zero_points && e.zero_point == 0;
  if (!zero_points) {
    throw Error("oneDNN INT8 comparison network: only activation zero points of 0");
  }
  Impl& m = *impl_;
  m.width = width;
  m.height = height;
  m.threads = threads;
  m.block = net.config.scale.numerator;
  m.order = net.config.order;
  omp_set_num_threads(threads);
  std::vector<const QConv2d*> convs{&net.first};
  std::vector<ActivationEncoding> encodings{net.input};
  for (const QConv2d& conv : net.body) convs.push_back(&conv);
  convs.push_back(&net.last);
  encodings.insert(encodings.end(), net.features.begin(), net.features.end());
  encodings.push_back(net.output);
  memory::desc src;
  for (std::size_t i = 0; i < convs.size(); ++i) {
    m.steps.push_back(m.make_step(*convs[i], encodings[i], encodings[i + 1], src));
    src = m.steps.back().dst.get_desc();
  }
  m.input = memory({{1, 3, height, width}, Type::u8, Tag::nhwc}, m.engine);
  m.first_src = memory(m.steps.front().src, m.engine);
  m.output = memory({{1, net.last.out_channels, height, width}, Type::u8, Tag::nhwc}, m.engine);
}

OneDnnInt8Network::~OneDnnInt8Network() = default;

void OneDnnInt8Network::run(const std::uint8_t* rgb_in, std::uint8_t* rgb_out) {
  Impl& m = *impl_;
  omp_set_num_threads(m.threads);
  m.input.set_data_handle(const_cast<std::uint8_t*>(rgb_in));
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
  depth_to_space_interleaved(static_cast<const std::uint8_t*>(m.output.get_data_handle()), m.width,
                             m.height, m.block, m.order, m.threads, rgb_out);
}

}  // namespace quicksr::engine
