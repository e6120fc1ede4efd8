// The kernel registry: every config this build has, best ISA first, and the choice per ISA level.
#include <string>

#include "engine/kernels/kernels.hpp"
#include "engine/kernels/qu8_kernels.hpp"
#include "quicksr/error.hpp"

#if defined(__x86_64__) || defined(__i386__)
#define QUICKSR_X86 1
#else
#define QUICKSR_X86 0
#endif

namespace quicksr::engine {

namespace {

constexpr const F32ConvConfig* kF32Conv3x3Configs[] = {
#if QUICKSR_X86
    &f32_conv3x3_8x48_avx512f_config,
    &f32_conv3x3_4x24_avx2_fma_config,
#endif
    &f32_conv3x3_scalar_config,
};

constexpr const F32WinogradConfig* kF32WinogradConfigs[] = {
#if QUICKSR_X86
    &f32_winograd_f43_8x48_avx512f_config,
    &f32_winograd_f43_4x24_avx2_fma_config,
#endif
    &f32_winograd_f43_scalar_config,
};

constexpr const F32TailConfig* kF32TailConfigs[] = {&f32_tail_scalar_config};

constexpr const F32ConvConfig* kF32ConvConfigs[] = {
#if QUICKSR_X86
    &f32_conv_8x48_avx512f_config,
    &f32_conv_4x24_avx2_fma_config,
#endif
    &f32_conv_scalar_config,
};

constexpr const F32VUnaryConfig* kF32VTanhConfigs[] = {
#if QUICKSR_X86
    &f32_vtanh_16_avx512f_config,
    &f32_vtanh_8_avx2_fma_config,
#endif
    &f32_vtanh_scalar_config,
};

constexpr const QU8Conv3x3Config* kQU8Conv3x3Configs[] = {
#if QUICKSR_X86
    &qu8_conv3x3_4x96_avx512vnni_config, &qu8_conv3x3_4x64_avx512bw_config,
    &qu8_conv3x3_4x24_avxvnni_config,    &qu8_conv3x3_4x16_avx2_split_config,
    &qu8_conv3x3_4x16_avx2_config,
#endif
    &qu8_conv3x3_scalar_config,
};

constexpr const QU8DepthToSpaceConfig* kQU8DepthToSpaceConfigs[] = {
#if QUICKSR_X86
    &qu8_depth_to_space_16_avx512bw_config,
    &qu8_depth_to_space_4_avx2_config,
#endif
    &qu8_depth_to_space_scalar_config,
};

constexpr const QU8Im2colConfig* kQU8Im2colConfigs[] = {
#if QUICKSR_X86
    &qu8_im2col_16_avx512bw_config,
#endif
    &qu8_im2col_scalar_config,
};

constexpr const QU8InputRowConfig* kQU8InputRowConfigs[] = {
#if QUICKSR_X86
    &qu8_input_row_16_avx512bw_config,
    &qu8_input_row_8_avx2_config,
#endif
    &qu8_input_row_scalar_config,
};

constexpr const QU8LutConfig* kQU8LutConfigs[] = {
#if QUICKSR_X86
    &qu8_lut_64_avx512bw_config,
#endif
    &qu8_lut_scalar_config,
};

constexpr const QU8AddConfig* kQU8AddConfigs[] = {
#if QUICKSR_X86
    &qu8_add_16_avx512f_config,
    &qu8_add_8_avx2_config,
#endif
    &qu8_add_scalar_config,
};

// The CPU features a level needs, as bits: AVX2+FMA, AVX-VNNI, AVX-512 (F/BW/VL/DQ), AVX-512 VNNI.
unsigned features(Isa isa) {
  switch (isa) {
    case Isa::kScalar:
      return 0;
    case Isa::kAvx2Fma:
      return 1;
    case Isa::kAvxVnni:
      return 1 | 2;
    case Isa::kAvx512:
      return 1 | 4;
    case Isa::kAvx512Vnni:
      return 1 | 4 | 8;
  }
  return 0;
}

template <typename Config>
const Config* first_included(std::span<const Config* const> configs, Isa isa, const char* what) {
  for (const Config* config : configs) {
    if (isa_includes(isa, config->isa)) return config;
  }
  throw Error(std::string("engine: no ") + what + " kernel for ISA " + std::string(isa_name(isa)));
}

}  // namespace

bool isa_includes(Isa level, Isa kernel) { return (features(kernel) & ~features(level)) == 0; }

std::span<const F32ConvConfig* const> f32_conv3x3_configs() { return kF32Conv3x3Configs; }
std::span<const F32WinogradConfig* const> f32_winograd_configs() { return kF32WinogradConfigs; }
std::span<const F32TailConfig* const> f32_tail_configs() { return kF32TailConfigs; }
std::span<const F32ConvConfig* const> f32_conv_configs() { return kF32ConvConfigs; }
std::span<const F32VUnaryConfig* const> f32_vtanh_configs() { return kF32VTanhConfigs; }

std::span<const QU8Conv3x3Config* const> qu8_conv3x3_configs() { return kQU8Conv3x3Configs; }

const QU8Conv3x3Config& qu8_conv3x3_config(Isa level) {
  return *first_included(qu8_conv3x3_configs(), level, "INT8 3x3 convolution");
}

std::span<const QU8DepthToSpaceConfig* const> qu8_depth_to_space_configs() {
  return kQU8DepthToSpaceConfigs;
}

const QU8DepthToSpaceConfig& qu8_depth_to_space_config(Isa level) {
  return *first_included(qu8_depth_to_space_configs(), level, "INT8 depth-to-space");
}

std::span<const QU8Im2colConfig* const> qu8_im2col_configs() { return kQU8Im2colConfigs; }

const QU8Im2colConfig& qu8_im2col_config(Isa level) {
  return *first_included(qu8_im2col_configs(), level, "INT8 im2col");
}

std::span<const QU8InputRowConfig* const> qu8_input_row_configs() { return kQU8InputRowConfigs; }

const QU8InputRowConfig& qu8_input_row_config(Isa level) {
  return *first_included(qu8_input_row_configs(), level, "INT8 input row");
}

std::span<const QU8LutConfig* const> qu8_lut_configs() { return kQU8LutConfigs; }

const QU8LutConfig& qu8_lut_config(Isa level) {
  return *first_included(qu8_lut_configs(), level, "INT8 table lookup");
}

std::span<const QU8AddConfig* const> qu8_add_configs() { return kQU8AddConfigs; }

const QU8AddConfig& qu8_add_config(Isa level) {
  return *first_included(qu8_add_configs(), level, "INT8 add");
}

F32Kernels f32_kernels(Isa isa) {
  return {first_included(f32_conv3x3_configs(), isa, "f32 3x3 convolution"),
          first_included(f32_winograd_configs(), isa, "f32 Winograd"),
          first_included(f32_tail_configs(), isa, "f32 tail"),
          first_included(f32_conv_configs(), isa, "f32 convolution"),
          first_included(f32_vtanh_configs(), isa, "f32 tanh")};
}

}  // namespace quicksr::engine
