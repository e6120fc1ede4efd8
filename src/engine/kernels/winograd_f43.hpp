#pragma once
// The transforms of Winograd F(4,3) (Lavin & Gray 2016; interpolation points 0, 1, -1, 2, -2 and
// infinity), written once for every kernel: V is float in the portable kernels and __m256 (GCC
// and Clang vector arithmetic) in the AVX2 ones, double when weights are packed. A 1x3 row conv
// y[x] = sum_k w[k] d[x - 1 + k] over the tile's 4 outputs is y = A^T ((G w) * (B^T d)).
namespace quicksr::engine::winograd_f43 {

// B^T d: the 6 inputs d[0..5] (pixels 4t-1..4t+4) of tile t to its 6 transformed values.
template <typename V>
inline void transform_input(const V d[6], V u[6]) {
  const V d1_plus_d2 = d[1] + d[2];
  const V d3_minus_d1 = d[3] - d[1];
  const V d4_minus_d2 = d[4] - d[2];
  u[0] = 4.0f * d[0] - 5.0f * d[2] + d[4];
  u[1] = (d[3] + d[4]) - 4.0f * d1_plus_d2;
  u[2] = (d[4] - d[3]) + 4.0f * (d[1] - d[2]);
  u[3] = d4_minus_d2 + 2.0f * d3_minus_d1;
  u[4] = d4_minus_d2 - 2.0f * d3_minus_d1;
  u[5] = 4.0f * d[1] - 5.0f * d[3] + d[5];
}

// G w: the 3 taps of one kernel row to the 6 per-point weights (in double, rounded once).
inline void transform_weights(const double w[3], double g[6]) {
  g[0] = w[0] / 4.0;
  g[1] = -(w[0] + w[1] + w[2]) / 6.0;
  g[2] = -(w[0] - w[1] + w[2]) / 6.0;
  g[3] = (w[0] + 2.0 * w[1] + 4.0 * w[2]) / 24.0;
  g[4] = (w[0] - 2.0 * w[1] + 4.0 * w[2]) / 24.0;
  g[5] = w[2];
}

// A^T m: the 6 per-point sums of products to the tile's 4 outputs.
template <typename V>
inline void transform_output(const V m[6], V y[4]) {
  const V m1_plus_m2 = m[1] + m[2];
  const V m1_minus_m2 = m[1] - m[2];
  const V m3_plus_m4 = m[3] + m[4];
  const V m3_minus_m4 = m[3] - m[4];
  y[0] = m[0] + m1_plus_m2 + m3_plus_m4;
  y[1] = m1_minus_m2 + 2.0f * m3_minus_m4;
  y[2] = m1_plus_m2 + 4.0f * m3_plus_m4;
  y[3] = m1_minus_m2 + 8.0f * m3_minus_m4 + m[5];
}

}  // namespace quicksr::engine::winograd_f43
