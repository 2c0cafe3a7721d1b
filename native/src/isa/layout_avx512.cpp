// AVX-512 layout kernels: argmax over 16 columns or 16 lanes of a row at a time with mask
// registers; the transpose is the 8x8 one of layout_transpose8.h (ymm).
#include <immintrin.h>

#include <cstdint>

#include "layout_kernels.h"

namespace convkit {
namespace {

#define CONVKIT_LAYOUT_KERNELS_IMPL
#include "layout_kernels.h"
#include "layout_transpose8.h"

// Lanes where v takes over from best: v > best, or v is the first NaN.
inline __mmask16 takes_over16(__m512 v, __m512 best) {
  return _mm512_cmp_ps_mask(v, best, _CMP_GT_OQ) |
         (_mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q) & ~_mm512_cmp_ps_mask(best, best, _CMP_UNORD_Q));
}

template <int NV>
inline void argmax_columns_block(const float* x, int64_t dim, int64_t stride, int32_t* out) {
  __m512 best[NV];
  __m512i at[NV];
#pragma GCC unroll 4
  for (int v = 0; v < NV; ++v) {
    best[v] = _mm512_loadu_ps(x + 16 * v);
    at[v] = _mm512_setzero_si512();
  }
  for (int64_t d = 1; d < dim; ++d) {
    const float* row = x + d * stride;
    const __m512i dv = _mm512_set1_epi32(int32_t(d));
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) {
      const __m512 xv = _mm512_loadu_ps(row + 16 * v);
      const __mmask16 m = takes_over16(xv, best[v]);
      best[v] = _mm512_mask_mov_ps(best[v], m, xv);
      at[v] = _mm512_mask_mov_epi32(at[v], m, dv);
    }
  }
#pragma GCC unroll 4
  for (int v = 0; v < NV; ++v) _mm512_storeu_si512(out + 16 * v, at[v]);
}

void argmax_columns_avx512(const float* x, int64_t dim, int64_t stride, int64_t n, int32_t* out) {
  int64_t j = 0;
  for (; j + 64 <= n; j += 64) argmax_columns_block<4>(x + j, dim, stride, out + j);
  for (; j + 16 <= n; j += 16) argmax_columns_block<1>(x + j, dim, stride, out + j);
  argmax_columns_scalar(x + j, dim, stride, n - j, out + j);
}

int64_t argmax_row_avx512(const float* x, int64_t n) {
  if (n < 32) return argmax_row_scalar(x, n);
  __m512 best = _mm512_loadu_ps(x);
  __m512i at = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  __m512i idx = at;
  const __m512i sixteen = _mm512_set1_epi32(16);
  int64_t i = 16;
  for (; i + 16 <= n; i += 16) {
    idx = _mm512_add_epi32(idx, sixteen);
    const __m512 xv = _mm512_loadu_ps(x + i);
    const __mmask16 m = takes_over16(xv, best);
    best = _mm512_mask_mov_ps(best, m, xv);
    at = _mm512_mask_mov_epi32(at, m, idx);
  }
  // Each lane holds its first maximum; the row's is the lane maximum with the smallest index.
  alignas(64) float lane_best[16];
  alignas(64) int32_t lane_at[16];
  _mm512_store_ps(lane_best, best);
  _mm512_store_si512(lane_at, at);
  float b = lane_best[0];
  int64_t a = lane_at[0];
  for (int l = 1; l < 16; ++l) {
    const float v = lane_best[l];
    if (takes_over(v, b) || ((v == b || (v != v && b != b)) && lane_at[l] < a)) {
      b = v;
      a = lane_at[l];
    }
  }
  return argmax_row_from(x, i, n, b, a);
}

}  // namespace

extern const LayoutKernels layout_kernels_avx512 = {transpose_avx, argmax_columns_avx512, argmax_row_avx512};

}  // namespace convkit
