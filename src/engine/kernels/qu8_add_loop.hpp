#pragma once
// The vector loop of the qu8-add kernels, written once. `Ops` (one per ISA, in its kernel file)
// is that ISA's f32 vector operations (f32_avx*_ops.hpp: broadcast, mul, add, min, max) plus the
// s32 lanes of the levels: load_levels widens kLanes bytes, store_levels narrows them back,
// to_float / to_int convert (to_int rounds to nearest even: vcvtps2dq in the default rounding
// mode, as std::nearbyint). The products and their sum are separate instructions (the kernel files
// are built with -ffp-contract=off) and the clamp is min then max: quant::requantize_sum exactly.
// The bytes after the last whole step take the scalar kernel.
#include <cstddef>

#include "engine/kernels/qu8_kernels.hpp"

namespace quicksr::engine::qu8 {

template <typename Ops>
void add_levels(const QU8AddArgs& a) {
  const QU8AddParams& p = *a.params;
  const auto a_zero = Ops::set1_level(p.a_zero_point);
  const auto b_zero = Ops::set1_level(p.b_zero_point);
  const auto zero_point = Ops::set1_level(p.zero_point);
  const auto a_multiplier = Ops::broadcast(p.a_multiplier);
  const auto b_multiplier = Ops::broadcast(p.b_multiplier);
  const auto lo = Ops::broadcast(static_cast<float>(p.lo - p.zero_point));
  const auto hi = Ops::broadcast(static_cast<float>(p.hi - p.zero_point));
  constexpr std::size_t kStep = Ops::kLanes;
  std::size_t i = 0;
  for (; i + kStep <= a.count; i += kStep) {
    const auto a_levels = Ops::sub_levels(Ops::load_levels(a.a + i), a_zero);
    const auto b_levels = Ops::sub_levels(Ops::load_levels(a.b + i), b_zero);
    const auto product_a = Ops::mul(Ops::to_float(a_levels), a_multiplier);
    const auto product_b = Ops::mul(Ops::to_float(b_levels), b_multiplier);
    const auto clamped = Ops::max(Ops::min(Ops::add(product_a, product_b), hi), lo);
    Ops::store_levels(a.out + i, Ops::add_levels(Ops::to_int(clamped), zero_point));
  }
  qu8_add_ukernel_scalar({a.a + i, a.b + i, a.out + i, a.count - i, a.params});
}

}  // namespace quicksr::engine::qu8
