#include "quicksr/reference.hpp"

#include <algorithm>
#include <cmath>
#include <exception>
#include <limits>
#include <map>
#include <mutex>
#include <string>
#include <system_error>
#include <thread>
#include <type_traits>
#include <utility>

#include "model/graph_check.hpp"
#include "model/layout.hpp"
#include "model/op_values.hpp"
#include "model/reshuffle.hpp"
#include "quicksr/error.hpp"
#include "quicksr/quant.hpp"

namespace quicksr::reference {

namespace {

std::string shape_text(const Tensor& x) {
  return std::to_string(x.channels) + "x" + std::to_string(x.height) + "x" +
         std::to_string(x.width);
}

// The outputs x in [begin, end) of `count` whose input position x * stride + offset lies in
// [0, size).
std::pair<int, int> inside_range(int count, int stride, int offset, int size) {
  int begin = 0;
  while (begin < count && begin * stride + offset < 0) ++begin;
  int end = begin;
  while (end < count && end * stride + offset < size) ++end;
  return {begin, end};
}

void check_conv(const Tensor& input, const Conv2d& conv) {
  if (input.channels != conv.in_channels) {
    throw Error("conv expects " + std::to_string(conv.in_channels) + " input channels, got " +
                shape_text(input));
  }
  if (conv.groups < 1 || conv.in_channels % conv.groups != 0 ||
      conv.out_channels % conv.groups != 0 || conv.stride < 1) {
    throw Error("conv has invalid groups or stride");
  }
  const std::size_t weights = static_cast<std::size_t>(conv.out_channels) *
                              (conv.in_channels / conv.groups) * conv.kernel_h * conv.kernel_w;
  if (conv.weight.size() != weights ||
      (!conv.bias.empty() && conv.bias.size() != static_cast<std::size_t>(conv.out_channels))) {
    throw Error("conv weights do not match its geometry");
  }
  if (input.height + conv.pad_top + conv.pad_bottom < conv.kernel_h ||
      input.width + conv.pad_left + conv.pad_right < conv.kernel_w) {
    throw Error("conv kernel is larger than the padded input " + shape_text(input));
  }
}

// This thread's ThreadLimit (0: none).
thread_local int thread_limit = 0;

// Runs body(0) ... body(count - 1) on all cores (or ThreadLimit's): worker t takes t, t + workers,
// ... (interleaved, so the work stays balanced when it grows with the index). The calling thread
// is worker 0: one thread fewer to start per op (thread starts are costly under ASan, and on small
// images). Workers that cannot start (a process's thread limit) are run by the calling thread.
template <typename Body>
void parallel_for(int count, const Body& body) {
  const int cores = thread_limit > 0
                        ? thread_limit
                        : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const int workers = std::min(count, cores);
  std::exception_ptr failure;
  std::mutex failure_mutex;
  const auto work = [&](int t) {
    try {
      for (int index = t; index < count; index += workers) body(index);
    } catch (...) {
      const std::lock_guard lock(failure_mutex);
      failure = std::current_exception();
    }
  };
  std::vector<std::thread> threads;
  int started = 1;
  try {
    for (; started < workers; ++started) threads.emplace_back(work, started);
  } catch (const std::system_error&) {
    // Fewer threads: the calling thread does the rest (below).
  }
  for (int t = started; t < workers; ++t) work(t);
  work(0);
  for (std::thread& thread : threads) thread.join();
  if (failure) std::rethrow_exception(failure);
}

// Output plane `o` of the conv, one output row at a time: the row starts at the bias, and every
// weight adds w * (its input row, shifted by the tap) over the outputs whose input pixel is inside
// the image (outside is zero padding, contributing nothing). The row stays in L1 cache and, for
// stride 1, the innermost loop is a contiguous fp32 axpy that the compiler vectorises.
void conv_output_plane(const Tensor& input, const Conv2d& conv, int o, Tensor& output) {
  const int in_per_group = conv.in_channels / conv.groups;
  const int first_in = (o / (conv.out_channels / conv.groups)) * in_per_group;
  std::vector<std::pair<int, int>> inside_x_of_tap;  // per kx
  for (int kx = 0; kx < conv.kernel_w; ++kx) {
    inside_x_of_tap.push_back(
        inside_range(output.width, conv.stride, kx - conv.pad_left, input.width));
  }
  for (int y = 0; y < output.height; ++y) {
    float* sum = output.plane(o) + static_cast<std::size_t>(y) * output.width;
    std::fill_n(sum, output.width, conv.bias.empty() ? 0.0f : conv.bias[o]);
    for (int i = 0; i < in_per_group; ++i) {
      for (int ky = 0; ky < conv.kernel_h; ++ky) {
        const int iy = y * conv.stride + ky - conv.pad_top;
        if (iy < 0 || iy >= input.height) continue;
        const float* row = input.plane(first_in + i) + static_cast<std::size_t>(iy) * input.width;
        for (int kx = 0; kx < conv.kernel_w; ++kx) {
          const float w = conv.w(o, i, ky, kx);
          const auto [x_begin, x_end] = inside_x_of_tap[kx];
          const int offset = kx - conv.pad_left;
          if (conv.stride == 1) {
            for (int x = x_begin; x < x_end; ++x) sum[x] += w * row[x + offset];
          } else {
            for (int x = x_begin; x < x_end; ++x) sum[x] += w * row[x * conv.stride + offset];
          }
        }
      }
    }
  }
}

}  // namespace

ThreadLimit::ThreadLimit(int threads) : previous_(thread_limit) {
  if (threads < 0) throw ArgumentError("thread count must be >= 0");
  thread_limit = threads;
}

ThreadLimit::~ThreadLimit() { thread_limit = previous_; }

Tensor conv2d(const Tensor& input, const Conv2d& conv) {
  check_conv(input, conv);
  const int out_h =
      (input.height + conv.pad_top + conv.pad_bottom - conv.kernel_h) / conv.stride + 1;
  const int out_w =
      (input.width + conv.pad_left + conv.pad_right - conv.kernel_w) / conv.stride + 1;
  Tensor output(conv.out_channels, out_h, out_w);
  // Output planes are independent: each worker writes only its own.
  parallel_for(conv.out_channels, [&](int o) { conv_output_plane(input, conv, o, output); });
  return output;
}

namespace {

// Applies `function` to every value of `x`, one channel plane per task.
template <typename Function>
Tensor map_values(Tensor x, const Function& function) {
  const std::size_t area = static_cast<std::size_t>(x.height) * x.width;
  parallel_for(x.channels, [&](int c) {
    float* values = x.plane(c);
    for (std::size_t i = 0; i < area; ++i) values[i] = function(values[i], c);
  });
  return x;
}

}  // namespace

Tensor clip(Tensor x, float lo, float hi) {
  return map_values(std::move(x), [lo, hi](float v, int) { return std::clamp(v, lo, hi); });
}

Tensor add(const Tensor& a, const Tensor& b) {
  if (a.channels != b.channels || a.height != b.height || a.width != b.width) {
    throw Error("add of tensors with different shapes " + shape_text(a) + " and " + shape_text(b));
  }
  return binary(a, b, OpType::kAdd);
}

Tensor binary(const Tensor& a, const Tensor& b, OpType op) {
  const bool broadcast = op != OpType::kAdd && (a.channels == 1 || b.channels == 1);
  if (a.height != b.height || a.width != b.width || (a.channels != b.channels && !broadcast)) {
    throw Error(std::string(graph_op_name(op)) + " of tensors with shapes " + shape_text(a) +
                " and " + shape_text(b));
  }
  Tensor result(std::max(a.channels, b.channels), a.height, a.width);
  const std::size_t area = static_cast<std::size_t>(a.height) * a.width;
  parallel_for(result.channels, [&](int c) {
    const float* x = a.plane(a.channels == 1 ? 0 : c);
    const float* y = b.plane(b.channels == 1 ? 0 : c);
    float* out = result.plane(c);
    for (std::size_t i = 0; i < area; ++i) {
      out[i] = op == OpType::kAdd ? x[i] + y[i] : op == OpType::kSub ? x[i] - y[i] : x[i] * y[i];
    }
  });
  return result;
}

Tensor unary(const Tensor& x, const GraphNode& node, const Graph& graph) {
  switch (node.op) {
    case OpType::kRelu:
      return clip(x, 0.0f, std::numeric_limits<float>::infinity());
    case OpType::kClip:
      return clip(x, node.clip_min, node.clip_max);
    case OpType::kLeakyRelu:
    case OpType::kSigmoid:
    case OpType::kTanh:
      return map_values(x, [&](float v, int) { return table_activation_value(node, v); });
    case OpType::kPRelu: {
      const PRelu& prelu = graph.prelus.at(static_cast<std::size_t>(node.prelu));
      if (prelu.channels != 1 && prelu.channels != x.channels) {
        throw Error("prelu slopes do not match " + shape_text(x));
      }
      return map_values(x, [&](float v, int c) {
        return v < 0.0f ? v * prelu.slope[prelu.channels == 1 ? 0 : c] : v;
      });
    }
    default:
      throw Error(std::string(graph_op_name(node.op)) + " is not an elementwise op");
  }
}

// Each output pixel of a transposed conv gathers the input pixels whose kernel footprint covers
// it: output y = iy * stride + ky - pad_top.
Tensor conv_transpose2d(const Tensor& input, const Conv2d& conv) {
  const std::size_t weights = static_cast<std::size_t>(conv.in_channels) *
                              (conv.out_channels / conv.groups) * conv.kernel_h * conv.kernel_w;
  if (!conv.transposed || input.channels != conv.in_channels || conv.weight.size() != weights ||
      (!conv.bias.empty() && conv.bias.size() != static_cast<std::size_t>(conv.out_channels))) {
    throw Error("transposed conv does not match its input " + shape_text(input));
  }
  const auto out_size = [&](int n, int kernel, int pads) {
    return static_cast<long long>(n - 1) * conv.stride - pads + kernel + conv.output_padding;
  };
  const long long out_h = out_size(input.height, conv.kernel_h, conv.pad_top + conv.pad_bottom);
  const long long out_w = out_size(input.width, conv.kernel_w, conv.pad_left + conv.pad_right);
  if (out_h < 1 || out_w < 1 || out_h > std::numeric_limits<int>::max() / conv.stride ||
      out_w > std::numeric_limits<int>::max() / conv.stride) {
    throw Error("transposed conv output size is invalid for " + shape_text(input));
  }
  Tensor output(conv.out_channels, static_cast<int>(out_h), static_cast<int>(out_w));
  const int out_per_group = conv.out_channels / conv.groups;
  const int in_per_group = conv.in_channels / conv.groups;
  parallel_for(conv.out_channels, [&](int o) {
    const int group = o / out_per_group;
    float* out = output.plane(o);
    std::fill_n(out, output.height * output.width, conv.bias.empty() ? 0.0f : conv.bias[o]);
    for (int i = group * in_per_group; i < (group + 1) * in_per_group; ++i) {
      const float* in = input.plane(i);
      const float* kernel =
          conv.weight.data() + (static_cast<std::size_t>(i) * out_per_group + o % out_per_group) *
                                   conv.kernel_h * conv.kernel_w;
      for (int iy = 0; iy < input.height; ++iy) {
        for (int ky = 0; ky < conv.kernel_h; ++ky) {
          const int y = iy * conv.stride + ky - conv.pad_top;
          if (y < 0 || y >= output.height) continue;
          for (int ix = 0; ix < input.width; ++ix) {
            const float value = in[static_cast<std::size_t>(iy) * input.width + ix];
            for (int kx = 0; kx < conv.kernel_w; ++kx) {
              const int x = ix * conv.stride + kx - conv.pad_left;
              if (x < 0 || x >= output.width) continue;
              out[static_cast<std::size_t>(y) * output.width + x] +=
                  value * kernel[ky * conv.kernel_w + kx];
            }
          }
        }
      }
    }
  });
  return output;
}

Tensor pool(const Tensor& x, const Pool2d& window, OpType op) {
  const PlaneSize out = pooled_size(x.height, x.width, window, graph_op_name(op));
  Tensor result(x.channels, out.height, out.width);
  parallel_for(x.channels, [&](int c) {
    for_each_pool_window(
        x.height, x.width, window, [&](int y, int xo, int top, int bottom, int left, int right) {
          float max = -std::numeric_limits<float>::infinity();
          float sum = 0.0f;
          for (int iy = top; iy < bottom; ++iy) {
            for (int ix = left; ix < right; ++ix) {
              const float value = x.at(c, iy, ix);
              max = std::max(max, value);
              sum += value;
            }
          }
          const int divisor = window.count_include_pad ? window.kernel * window.kernel
                                                       : (bottom - top) * (right - left);
          result.at(c, y, xo) = op == OpType::kMaxPool ? max : sum / static_cast<float>(divisor);
        });
  });
  return result;
}

Tensor resize_nearest(const Tensor& x, int scale) {
  if (scale < 1 || x.height > std::numeric_limits<int>::max() / scale ||
      x.width > std::numeric_limits<int>::max() / scale) {
    throw Error("resize_nearest(" + std::to_string(scale) + ") of " + shape_text(x));
  }
  Tensor result(x.channels, x.height * scale, x.width * scale);
  parallel_for(x.channels, [&](int c) {
    for (int y = 0; y < result.height; ++y) {
      for (int xo = 0; xo < result.width; ++xo)
        result.at(c, y, xo) = x.at(c, y / scale, xo / scale);
    }
  });
  return result;
}

Tensor resize_bilinear(const Tensor& x, int height, int width) {
  const std::vector<BilinearTap> rows = bilinear_taps(x.height, height);
  const std::vector<BilinearTap> columns = bilinear_taps(x.width, width);
  Tensor result(x.channels, height, width);
  parallel_for(x.channels, [&](int c) {
    for (int y = 0; y < height; ++y) {
      const BilinearTap& row = rows[y];
      for (int xo = 0; xo < width; ++xo) {
        const BilinearTap& column = columns[xo];
        const float top = x.at(c, row.lower, column.lower) * (1.0f - column.weight) +
                          x.at(c, row.lower, column.upper) * column.weight;
        const float bottom = x.at(c, row.upper, column.lower) * (1.0f - column.weight) +
                             x.at(c, row.upper, column.upper) * column.weight;
        result.at(c, y, xo) = top * (1.0f - row.weight) + bottom * row.weight;
      }
    }
  });
  return result;
}

Tensor concat(const std::vector<const Tensor*>& parts) {
  if (parts.empty()) throw Error("concat of no tensors");
  long long channels = 0;
  for (const Tensor* part : parts) {
    if (part->height != parts.front()->height || part->width != parts.front()->width) {
      throw Error("concat of tensors with different sizes " + shape_text(*parts.front()) + " and " +
                  shape_text(*part));
    }
    channels += part->channels;
    if (channels > std::numeric_limits<int>::max()) throw Error("concat of too many channels");
  }
  Tensor result(static_cast<int>(channels), parts.front()->height, parts.front()->width);
  auto out = result.data.begin();
  for (const Tensor* part : parts) out = std::copy(part->data.begin(), part->data.end(), out);
  return result;
}

Tensor depth_to_space(const Tensor& x, int block, ChannelOrder order) {
  if (block < 1 || x.channels % (block * block) != 0) {
    throw Error("depth_to_space(" + std::to_string(block) + ") of " + shape_text(x));
  }
  return depth_to_space_values(x, block, order);
}

Tensor space_to_depth(const Tensor& x, int block, ChannelOrder order) {
  if (block < 1 || x.height % block != 0 || x.width % block != 0) {
    throw Error("space_to_depth(" + std::to_string(block) + ") of " + shape_text(x));
  }
  return space_to_depth_values(x, block, order);
}

namespace {

Tensor forward_even(const QuickSRNet& net, const Tensor& input) {
  const float upper = activation_upper_bound(net.config.activation);
  Tensor features = clip(conv2d(input, net.first), 0.0f, upper);
  for (const Conv2d& conv : net.body) features = clip(conv2d(features, conv), 0.0f, upper);
  const ChannelOrder order = net.config.order;
  const int out_block = net.config.scale.is_integer() ? net.config.scale.numerator : 3;
  if (!net.config.scale.is_integer()) features = space_to_depth(features, 2, order);
  Tensor residual = conv2d(features, net.last);
  if (!net.anchor.empty()) residual = add(residual, conv2d(input, net.anchor.front()));
  return depth_to_space(clip(std::move(residual), 0.0f, 1.0f), out_block, order);
}

}  // namespace

Tensor forward(const QuickSRNet& net, const Tensor& input) {
  net.check();
  if (input.channels != 3 || input.height < 1 || input.width < 1) {
    throw Error("QuickSRNet expects a 3xHxW input, got " + shape_text(input));
  }
  if (net.config.scale.is_integer()) return forward_even(net, input);
  const Tensor upscaled = forward_even(net, replicate_to_even(input));
  return crop_top_left(upscaled, input.height * 3 / 2, input.width * 3 / 2);
}

namespace {

const Tensor& lookup(const std::map<std::string, Tensor>& tensors, const std::string& name) {
  const auto found = tensors.find(name);
  if (found == tensors.end()) throw Error("missing tensor \"" + name + "\"");
  return found->second;
}

Tensor run_node(const Graph& graph, const GraphNode& node,
                const std::map<std::string, Tensor>& tensors) {
  const auto input = [&](std::size_t i) -> const Tensor& {
    if (i >= node.inputs.size()) throw Error("too few inputs");
    return lookup(tensors, node.inputs[i]);
  };
  switch (node.op) {
    case OpType::kConv:
      if (node.conv < 0 || static_cast<std::size_t>(node.conv) >= graph.convs.size()) {
        throw Error("conv index " + std::to_string(node.conv) + " out of range");
      }
      return conv2d(input(0), graph.convs[static_cast<std::size_t>(node.conv)]);
    case OpType::kConvTranspose:
      if (node.conv < 0 || static_cast<std::size_t>(node.conv) >= graph.convs.size()) {
        throw Error("conv index " + std::to_string(node.conv) + " out of range");
      }
      return conv_transpose2d(input(0), graph.convs[static_cast<std::size_t>(node.conv)]);
    case OpType::kClip:
    case OpType::kRelu:
    case OpType::kLeakyRelu:
    case OpType::kPRelu:
    case OpType::kSigmoid:
    case OpType::kTanh:
      return unary(input(0), node, graph);
    case OpType::kMul:
    case OpType::kSub:
      return binary(input(0), input(1), node.op);
    case OpType::kAveragePool:
    case OpType::kMaxPool:
      return pool(input(0), node.pool, node.op);
    case OpType::kResizeNearest:
      return resize_nearest(input(0), node.block_size);
    case OpType::kResizeBilinear:
      return resize_bilinear(input(0), input(1).height, input(1).width);
    case OpType::kDepthToSpace:
      return depth_to_space(input(0), node.block_size, node.order);
    case OpType::kSpaceToDepth:
      return space_to_depth(input(0), node.block_size, node.order);
    case OpType::kAdd:
      return add(input(0), input(1));
    case OpType::kConcat: {
      std::vector<const Tensor*> parts;
      for (std::size_t i = 0; i < node.inputs.size(); ++i) parts.push_back(&input(i));
      return concat(parts);
    }
  }
  throw Error("unknown op");
}

// Where each tensor is read for the last time, and per node the tensors to free after it.
struct Liveness {
  std::map<std::string, std::size_t> last_reader;
  std::vector<std::vector<std::string>> released;

  explicit Liveness(const Graph& graph) : released(graph.nodes.size()) {
    for (std::size_t i = 0; i < graph.nodes.size(); ++i) {
      for (const std::string& name : graph.nodes[i].inputs) last_reader[name] = i;
    }
    for (const auto& [name, node] : last_reader) {
      if (name != graph.output) released[node].push_back(name);
    }
  }
};

}  // namespace

Tensor forward(const Graph& graph, const Tensor& input) { return forward(graph, input, {}); }

Tensor forward(const Graph& graph, const Tensor& input, const NodeObserver& after_node) {
  try {
    check_graph(graph);
  } catch (const Error& error) {
    throw Error(graph.architecture + ": " + error.what());
  }
  if (input.channels != 3 || input.height < 1 || input.width < 1) {
    throw Error(graph.architecture + " expects a 3xHxW input, got " + shape_text(input));
  }
  // Intermediates are freed after their last use: a long chain holds two tensors, not all.
  const Liveness liveness(graph);
  std::map<std::string, Tensor> tensors;
  tensors[graph.input] = input;
  for (std::size_t i = 0; i < graph.nodes.size(); ++i) {
    const GraphNode& node = graph.nodes[i];
    try {
      Tensor result = run_node(graph, node, tensors);
      if (after_node) after_node(node, result);
      for (const std::string& name : liveness.released[i]) tensors.erase(name);
      // Outputs nobody reads are dropped at once (outputs are unique: any reader comes later).
      if (node.output == graph.output || liveness.last_reader.contains(node.output)) {
        tensors[node.output] = std::move(result);
      }
    } catch (const Error& error) {
      throw Error(graph.architecture + " node \"" + node.name + "\": " + error.what());
    }
  }
  return std::move(tensors.at(graph.output));
}

Tensor forward(const Model& model, const Tensor& input) {
  return std::visit(
      [&](const auto& net) {
        using Net = std::decay_t<decltype(net)>;
        if constexpr (std::is_same_v<Net, QuantizedQuickSRNet> ||
                      std::is_same_v<Net, QuantizedGraph>) {
          return quant::forward(net, input);  // the integer reference runtime
        } else {
          return forward(net, input);
        }
      },
      model.net);
}

}  // namespace quicksr::reference
