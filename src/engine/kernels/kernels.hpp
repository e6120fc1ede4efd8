#pragma once
// Micro-kernel interfaces and the registry that picks an implementation per data type and ISA.
//
// Layout ("row-planar"): a row of a feature map holds each channel's pixels contiguously,
// channel c at row + c * stride, so kernels vectorise over pixels and every output channel count
// (32, 12, 27...) fills whole vectors. One file per micro-kernel, named like XNNPACK
// (kernels/f32-conv3x3/<tile>-<isa>.cpp), so NEON or AVX-512 siblings sit beside them; INT8
// kernels (u8 activations x s8 per-channel weights, s32 accumulation, requantisation with a
// fused clamp) get their own argument struct and table keyed by DataType::kQU8.
#include <cstddef>

#include "quicksr/engine.hpp"

namespace quicksr::engine {

enum class DataType { kF32 };

// Output channels per weight group: the packed weights hold, per group of kConvGroup output
// channels, [in_channel][ky][kx][kConvGroup] floats (zero for channels past the real count).
inline constexpr int kConvGroup = 4;
// Every computed column range starts and ends on a multiple of this many pixels.
inline constexpr int kColumnBlock = 8;

// One output row of a 3x3, stride-1 convolution with bias and an optional ReLU1 clamp.
struct F32Conv3x3Args {
  const float* rows[3];   // input rows y-1, y, y+1 (channel c at rows[k] + c * in_stride)
  std::size_t in_stride;  // floats between channels of a row
  int in_channels;
  const float* weights;  // packed as described at kConvGroup
  const float* bias;     // out_channels values
  int out_channels;      // a multiple of kConvGroup
  float* out;            // channel c at out + c * out_stride
  std::size_t out_stride;
  int col_begin;  // first output column, >= 1 (column col reads col-1..col+1)
  int col_count;  // a multiple of kColumnBlock
  bool clamp;     // clamp to [0, 1] after the bias
};

using F32Conv3x3Fn = void (*)(const F32Conv3x3Args&);

struct F32Conv3x3Kernel {
  Isa isa;
  const char* name;
  F32Conv3x3Fn run;
};

// The f32 3x3 kernel for `isa`; throws quicksr::Error when this build has none.
const F32Conv3x3Kernel& f32_conv3x3_kernel(Isa isa);

// Implementations (one per file under kernels/f32-conv3x3/).
void f32_conv3x3_ukernel_4x24_avx2_fma(const F32Conv3x3Args& args);
void f32_conv3x3_ukernel_scalar(const F32Conv3x3Args& args);

}  // namespace quicksr::engine
