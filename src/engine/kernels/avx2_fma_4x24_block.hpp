#pragma once
// The inner block of the AVX2+FMA 4x24 tiles (f32-conv3x3 and f32-winograd-f43-conv), as inline
// assembly text: 3 input vectors (24 floats from the three given memory operands) times 4
// broadcast weights (at byte offset `w_offset` of operand %[w]) into the 12 accumulators
// %[a<channel><vector>]; it uses ymm12-ymm15 as scratch.
// clang-format off
#define QUICKSR_AVX2_FMA_4X24_BLOCK(in0, in1, in2, w_offset)   \
  "vmovups " in0 ", %%ymm12\n\t"                              \
  "vmovups " in1 ", %%ymm13\n\t"                              \
  "vmovups " in2 ", %%ymm14\n\t"                              \
  "vbroadcastss " #w_offset "(%[w]), %%ymm15\n\t"             \
  "vfmadd231ps %%ymm12, %%ymm15, %[a00]\n\t"                  \
  "vfmadd231ps %%ymm13, %%ymm15, %[a01]\n\t"                  \
  "vfmadd231ps %%ymm14, %%ymm15, %[a02]\n\t"                  \
  "vbroadcastss " #w_offset "+4(%[w]), %%ymm15\n\t"           \
  "vfmadd231ps %%ymm12, %%ymm15, %[a10]\n\t"                  \
  "vfmadd231ps %%ymm13, %%ymm15, %[a11]\n\t"                  \
  "vfmadd231ps %%ymm14, %%ymm15, %[a12]\n\t"                  \
  "vbroadcastss " #w_offset "+8(%[w]), %%ymm15\n\t"           \
  "vfmadd231ps %%ymm12, %%ymm15, %[a20]\n\t"                  \
  "vfmadd231ps %%ymm13, %%ymm15, %[a21]\n\t"                  \
  "vfmadd231ps %%ymm14, %%ymm15, %[a22]\n\t"                  \
  "vbroadcastss " #w_offset "+12(%[w]), %%ymm15\n\t"          \
  "vfmadd231ps %%ymm12, %%ymm15, %[a30]\n\t"                  \
  "vfmadd231ps %%ymm13, %%ymm15, %[a31]\n\t"                  \
  "vfmadd231ps %%ymm14, %%ymm15, %[a32]\n\t"
// clang-format on
