#pragma once
// tanh of a vector of floats, written once as a template on the vector operations so that each
// f32-vtanh kernel file compiles it for its own ISA (the scalar kernel is plain std::tanh, the
// reference beside them). Ops: V, kLanes, load, store, broadcast, abs, min, mul, add, sub, div,
// fmadd, round (to nearest), pow2 (2^n for integral n), less_than_select, with_sign_of.
//
// |x| < 1/8: the odd Taylor polynomial to x^9 (truncation below 1.1e-12 there). Else
// tanh|x| = (1 - t) / (1 + t), t = exp(-2|x|) = 2^n e^r with |r| <= ln(2)/2 (ln 2 split in two
// parts so that n ln 2 is exact) and e^r by its Taylor polynomial to r^7 (relative error below
// 5e-9); |x| is capped at 9, where tanh rounds to 1 in float. The sign is copied back. Max abs
// error against std::tanh in double: 1.2e-7 stated, 8.9e-8 measured (tests/engine/kernel_test.cpp,
// every ISA; std::tanh in float: 9.3e-8).
#include <algorithm>
#include <cstddef>

namespace quicksr::engine {

template <typename Ops>
typename Ops::V f32_tanh_vector(typename Ops::V x) {
  using V = typename Ops::V;
  const V one = Ops::broadcast(1.0f);
  // min(9, |x|) keeps a NaN (the second operand wins when either is NaN).
  const V a = Ops::min(Ops::broadcast(9.0f), Ops::abs(x));
  const V y = Ops::mul(a, Ops::broadcast(-2.0f));
  const V n = Ops::round(Ops::mul(y, Ops::broadcast(1.44269504089f)));
  V r = Ops::fmadd(n, Ops::broadcast(-0.693145751953125f), y);
  r = Ops::fmadd(n, Ops::broadcast(-1.428606765330187e-6f), r);
  V p = Ops::broadcast(1.0f / 5040.0f);
  p = Ops::fmadd(p, r, Ops::broadcast(1.0f / 720.0f));
  p = Ops::fmadd(p, r, Ops::broadcast(1.0f / 120.0f));
  p = Ops::fmadd(p, r, Ops::broadcast(1.0f / 24.0f));
  p = Ops::fmadd(p, r, Ops::broadcast(1.0f / 6.0f));
  p = Ops::fmadd(p, r, Ops::broadcast(0.5f));
  p = Ops::fmadd(p, r, one);
  p = Ops::fmadd(p, r, one);
  const V t = Ops::mul(p, Ops::pow2(n));
  const V large = Ops::div(Ops::sub(one, t), Ops::add(one, t));
  const V a2 = Ops::mul(a, a);
  V q = Ops::broadcast(62.0f / 2835.0f);
  q = Ops::fmadd(q, a2, Ops::broadcast(-17.0f / 315.0f));
  q = Ops::fmadd(q, a2, Ops::broadcast(2.0f / 15.0f));
  q = Ops::fmadd(q, a2, Ops::broadcast(-1.0f / 3.0f));
  const V small = Ops::fmadd(Ops::mul(a, a2), q, a);
  return Ops::with_sign_of(Ops::less_than_select(a, Ops::broadcast(0.125f), small, large), x);
}

// out[i] = tanh(in[i]) for i < n (in == out allowed); the last partial vector goes through a
// stack copy, so no access leaves [0, n).
template <typename Ops>
void f32_vtanh_run(const float* in, float* out, std::size_t n) {
  std::size_t i = 0;
  for (; i + Ops::kLanes <= n; i += Ops::kLanes) {
    Ops::store(out + i, f32_tanh_vector<Ops>(Ops::load(in + i)));
  }
  if (i == n) return;
  float tail[Ops::kLanes] = {};
  std::copy(in + i, in + n, tail);
  Ops::store(tail, f32_tanh_vector<Ops>(Ops::load(tail)));
  std::copy(tail, tail + (n - i), out + i);
}

}  // namespace quicksr::engine
