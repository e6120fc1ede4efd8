// INT8 im2col row of the first conv, portable: byte by byte from kQu8Im2colBytes.
#include "engine/kernels/qu8_kernels.hpp"

namespace quicksr::engine {

void qu8_im2col_ukernel_scalar(const QU8Im2colArgs& a) {
  for (int b = 0; b < kQu8Im2colGroups * kQu8Group; ++b) {
    const QU8Im2colByte source = kQu8Im2colBytes[b];
    std::uint8_t* out = a.out + b / kQu8Group * a.stride * kQu8Group + b % kQu8Group;
    for (int x = a.col_begin; x < a.col_begin + a.col_count; ++x) {
      out[x * kQu8Group] = source.colour < 0
                               ? 0
                               : a.rows[source.ky][(x - 1 + source.kx) * kQu8Group + source.colour];
    }
  }
}

const QU8Im2colConfig qu8_im2col_scalar_config{"qu8-im2col/scalar", Isa::kScalar,
                                               qu8_im2col_ukernel_scalar};

}  // namespace quicksr::engine
