#pragma once
// The FMA peak loop, written once for every vector width: 12 independent accumulator chains
// (more than FMA latency x FMA ports on current x86 cores), so the loop is bound by FMA
// throughput alone. Each fma_peak*.cpp file instantiates it for its own vector type with its own
// -m flags; the anonymous namespace keeps each copy private to its file, so no copy built for a
// wider ISA can stand in for another.
namespace quicksr::engine {
namespace {

// Returns a value that depends on every chain so that nothing is optimised away. The chains are
// separate variables (not an array) so that they stay in registers at any optimisation level.
// Ops: a struct with V (the vector type), fma(a, b, c) = a * b + c, set1(float), first(V).
template <typename Ops>
float fma_chains(long iterations) {
  using V = typename Ops::V;
  constexpr auto kFma = Ops::fma;
  constexpr auto kSet1 = Ops::set1;
  const V a = kSet1(0.999999f);
  const V b = kSet1(1e-7f);
  V c0 = kSet1(0.0f), c1 = kSet1(1.0f), c2 = kSet1(2.0f), c3 = kSet1(3.0f), c4 = kSet1(4.0f);
  V c5 = kSet1(5.0f), c6 = kSet1(6.0f), c7 = kSet1(7.0f), c8 = kSet1(8.0f), c9 = kSet1(9.0f);
  V c10 = kSet1(10.0f), c11 = kSet1(11.0f);
  for (long n = 0; n < iterations; ++n) {
    c0 = kFma(c0, a, b);
    c1 = kFma(c1, a, b);
    c2 = kFma(c2, a, b);
    c3 = kFma(c3, a, b);
    c4 = kFma(c4, a, b);
    c5 = kFma(c5, a, b);
    c6 = kFma(c6, a, b);
    c7 = kFma(c7, a, b);
    c8 = kFma(c8, a, b);
    c9 = kFma(c9, a, b);
    c10 = kFma(c10, a, b);
    c11 = kFma(c11, a, b);
  }
  return Ops::first(((c0 + c1) + (c2 + c3)) + ((c4 + c5) + (c6 + c7)) + ((c8 + c9) + (c10 + c11)));
}

constexpr int kChains = 12;

}  // namespace
}  // namespace quicksr::engine
