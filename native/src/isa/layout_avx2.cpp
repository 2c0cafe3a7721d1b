// AVX2 layout kernels: 8x8 register transposes, and argmax over 8 columns or 8 lanes of a row
// at a time. No STL: everything but the exported table is in an anonymous namespace.
#include <immintrin.h>

#include <cstdint>

#include "layout_kernels.h"

namespace convkit {
namespace {

#define CONVKIT_LAYOUT_KERNELS_IMPL
#include "layout_kernels.h"
#include "layout_transpose8.h"

// Lanes where v takes over from best: v > best, or v is the first NaN.
inline __m256 takes_over8(__m256 v, __m256 best) {
  const __m256 v_nan = _mm256_cmp_ps(v, v, _CMP_UNORD_Q);
  const __m256 best_nan = _mm256_cmp_ps(best, best, _CMP_UNORD_Q);
  return _mm256_or_ps(_mm256_cmp_ps(v, best, _CMP_GT_OQ), _mm256_andnot_ps(best_nan, v_nan));
}

inline __m256i select_epi32(__m256 mask, __m256i a, __m256i b) {  // mask ? a : b
  return _mm256_castps_si256(_mm256_blendv_ps(_mm256_castsi256_ps(b), _mm256_castsi256_ps(a), mask));
}

// NV vectors of columns down all dim rows, each maximum and index in registers.
template <int NV>
inline void argmax_columns_block(const float* x, int64_t dim, int64_t stride, int32_t* out) {
  __m256 best[NV];
  __m256i at[NV];
#pragma GCC unroll 4
  for (int v = 0; v < NV; ++v) {
    best[v] = _mm256_loadu_ps(x + 8 * v);
    at[v] = _mm256_setzero_si256();
  }
  for (int64_t d = 1; d < dim; ++d) {
    const float* row = x + d * stride;
    const __m256i dv = _mm256_set1_epi32(int32_t(d));
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) {
      const __m256 xv = _mm256_loadu_ps(row + 8 * v);
      const __m256 m = takes_over8(xv, best[v]);
      best[v] = _mm256_blendv_ps(best[v], xv, m);
      at[v] = select_epi32(m, dv, at[v]);
    }
  }
#pragma GCC unroll 4
  for (int v = 0; v < NV; ++v) _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + 8 * v), at[v]);
}

void argmax_columns_avx2(const float* x, int64_t dim, int64_t stride, int64_t n, int32_t* out) {
  int64_t j = 0;
  for (; j + 32 <= n; j += 32) argmax_columns_block<4>(x + j, dim, stride, out + j);
  for (; j + 8 <= n; j += 8) argmax_columns_block<1>(x + j, dim, stride, out + j);
  argmax_columns_scalar(x + j, dim, stride, n - j, out + j);
}

int64_t argmax_row_avx2(const float* x, int64_t n) {
  if (n < 16) return argmax_row_scalar(x, n);
  __m256 best = _mm256_loadu_ps(x);
  __m256i at = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  __m256i idx = at;
  const __m256i eight = _mm256_set1_epi32(8);
  int64_t i = 8;
  for (; i + 8 <= n; i += 8) {
    idx = _mm256_add_epi32(idx, eight);
    const __m256 xv = _mm256_loadu_ps(x + i);
    const __m256 m = takes_over8(xv, best);
    best = _mm256_blendv_ps(best, xv, m);
    at = select_epi32(m, idx, at);
  }
  // Each lane holds its first maximum; the row's is the lane maximum with the smallest index.
  alignas(32) float lane_best[8];
  alignas(32) int32_t lane_at[8];
  _mm256_store_ps(lane_best, best);
  _mm256_store_si256(reinterpret_cast<__m256i*>(lane_at), at);
  float b = lane_best[0];
  int64_t a = lane_at[0];
  for (int l = 1; l < 8; ++l) {
    const float v = lane_best[l];
    if (takes_over(v, b) || ((v == b || (v != v && b != b)) && lane_at[l] < a)) {
      b = v;
      a = lane_at[l];
    }
  }
  return argmax_row_from(x, i, n, b, a);
}

}  // namespace

extern const LayoutKernels layout_kernels_avx2 = {transpose_avx, argmax_columns_avx2, argmax_row_avx2};

}  // namespace convkit
