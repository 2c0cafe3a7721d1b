// AVX2 + FMA small-m GEMM (see SmallMKernels in gemm_kernels.h), the same two loops as
// gemm_small_avx512.cpp with 8-lane vectors and fewer accumulators (16 ymm registers).
// Masked loads (vmaskmovps) cost more than plain ones here, so only the tails use them.
#include <immintrin.h>

#include <cstddef>
#include <cstdint>

#include "gemm_kernels.h"

namespace convkit {
namespace gemm {
namespace {

__m256i first_lanes8(int64_t count) {
  const int n = count < 0 ? 0 : count > 8 ? 8 : static_cast<int>(count);
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

// Keeps x in a register: otherwise GCC folds the load of a B vector into each FMA that uses
// it, and the loop turns load-bound.
__m256 in_register(__m256 x) {
  __asm__("" : "+x"(x));
  return x;
}

// The sums of four vectors, in order.
__m128 sum4(__m256 x0, __m256 x1, __m256 x2, __m256 x3) {
  const __m256 h = _mm256_hadd_ps(_mm256_hadd_ps(x0, x1), _mm256_hadd_ps(x2, x3));
  return _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
}

// c[0, nb) = alpha * s + beta * c, nb <= 4; beta == 0 does not read c.
void store4(float* c, __m128 s, float alpha, float beta, int64_t nb) {
  s = _mm_mul_ps(_mm_set1_ps(alpha), s);
  if (nb >= 4) {
    if (beta != 0.f) s = _mm_fmadd_ps(_mm_set1_ps(beta), _mm_loadu_ps(c), s);
    _mm_storeu_ps(c, s);
    return;
  }
  const __m128i mask = _mm_cmpgt_epi32(_mm_set1_epi32(static_cast<int>(nb)), _mm_setr_epi32(0, 1, 2, 3));
  if (beta != 0.f) s = _mm_fmadd_ps(_mm_set1_ps(beta), _mm_maskload_ps(c, mask), s);
  _mm_maskstore_ps(c, mask, s);
}

// C[0, MB) x [0, nb) from MB rows of A and nb <= NB rows of B. Missing B rows repeat the last
// one (their sums are not stored), so every block runs the same straight-line code.
template <int MB, int NB>
void dot_block(int64_t k, const float* a, int64_t lda, const float* b, int64_t ldb, int64_t nb, float alpha,
               float beta, float* c, int64_t ldc) {
  const float* brow[NB];
#pragma GCC unroll 8
  for (int j = 0; j < NB; ++j) brow[j] = b + (j < nb ? j : nb - 1) * ldb;
  __m256 acc[MB][NB];
#pragma GCC unroll 8
  for (int i = 0; i < MB; ++i)
#pragma GCC unroll 8
    for (int j = 0; j < NB; ++j) acc[i][j] = _mm256_setzero_ps();
  int64_t p = 0;
  for (; p + 8 <= k; p += 8) {
    __m256 av[MB];
#pragma GCC unroll 8
    for (int i = 0; i < MB; ++i) av[i] = _mm256_loadu_ps(a + i * lda + p);
#pragma GCC unroll 8
    for (int j = 0; j < NB; ++j) {
      const __m256 bv = in_register(_mm256_loadu_ps(brow[j] + p));
#pragma GCC unroll 8
      for (int i = 0; i < MB; ++i) acc[i][j] = _mm256_fmadd_ps(av[i], bv, acc[i][j]);
    }
  }
  if (p < k) {
    const __m256i mask = first_lanes8(k - p);
    __m256 av[MB];
#pragma GCC unroll 8
    for (int i = 0; i < MB; ++i) av[i] = _mm256_maskload_ps(a + i * lda + p, mask);
#pragma GCC unroll 8
    for (int j = 0; j < NB; ++j) {
      const __m256 bv = in_register(_mm256_maskload_ps(brow[j] + p, mask));
#pragma GCC unroll 8
      for (int i = 0; i < MB; ++i) acc[i][j] = _mm256_fmadd_ps(av[i], bv, acc[i][j]);
    }
  }
#pragma GCC unroll 8
  for (int i = 0; i < MB; ++i)
#pragma GCC unroll 8
    for (int j = 0; j < NB; j += 4)
      if (j < nb)
        store4(c + i * ldc + j, sum4(acc[i][j], acc[i][j + 1], acc[i][j + 2], acc[i][j + 3]), alpha, beta, nb - j);
}

// All m rows against nb <= NB rows of B: one row of A at a time with eight B rows, up to
// three with four (12 accumulators), in groups of near-equal size (5 = 3 + 2: a lone row
// has too few accumulators to hide the FMA latency).
template <int NB>
void dot_rows(int64_t m, int64_t k, const float* a, int64_t lda, const float* b, int64_t ldb, int64_t nb,
              float alpha, float beta, float* c, int64_t ldc) {
  constexpr int kMaxRows = NB > 4 ? 1 : 3;
  const int64_t groups = (m + kMaxRows - 1) / kMaxRows;
  for (int64_t g = 0, i = 0; g < groups; ++g) {
    const float* ai = a + i * lda;
    float* ci = c + i * ldc;
    const int64_t rows = (m - i) / (groups - g) + ((m - i) % (groups - g) != 0);
    i += rows;
    if (rows == 1) dot_block<1, NB>(k, ai, lda, b, ldb, nb, alpha, beta, ci, ldc);
    else if constexpr (kMaxRows == 3) {
      if (rows == 2) dot_block<2, NB>(k, ai, lda, b, ldb, nb, alpha, beta, ci, ldc);
      else dot_block<3, NB>(k, ai, lda, b, ldb, nb, alpha, beta, ci, ldc);
    }
  }
}

void dot_nt(int64_t m, int64_t n, int64_t k, float alpha, const float* a, int64_t lda, const float* b, int64_t ldb,
            float beta, float* c, int64_t ldc) {
  const int64_t block = m == 1 ? 8 : 4;
  for (int64_t j = 0; j < n; j += block) {
    const int64_t nb = n - j < block ? n - j : block;
    if (nb > 4) dot_rows<8>(m, k, a, lda, b + j * ldb, ldb, nb, alpha, beta, c + j, ldc);
    else dot_rows<4>(m, k, a, lda, b + j * ldb, ldb, nb, alpha, beta, c + j, ldc);
  }
}

// C[0, MB) x [0, nc) with nc <= 8*NV (nc == 8*NV unless kTail): row p of B is NV vectors,
// added into each row of C scaled by A[i][p].
template <int MB, int NV, bool kTail>
void axpy_block(int64_t k, const float* a, int64_t lda, const float* b, int64_t ldb, int64_t nc, float alpha,
                float beta, float* c, int64_t ldc) {
  __m256i mask[NV];
#pragma GCC unroll 8
  for (int v = 0; v < NV; ++v) mask[v] = first_lanes8(nc - 8 * v);
  __m256 acc[MB][NV];
#pragma GCC unroll 8
  for (int i = 0; i < MB; ++i)
#pragma GCC unroll 8
    for (int v = 0; v < NV; ++v) acc[i][v] = _mm256_setzero_ps();
  for (int64_t p = 0; p < k; ++p, b += ldb) {
    __m256 ai[MB];
#pragma GCC unroll 8
    for (int i = 0; i < MB; ++i) ai[i] = _mm256_broadcast_ss(a + i * lda + p);
#pragma GCC unroll 8
    for (int v = 0; v < NV; ++v) {
      const __m256 bv = in_register(kTail ? _mm256_maskload_ps(b + 8 * v, mask[v]) : _mm256_loadu_ps(b + 8 * v));
#pragma GCC unroll 8
      for (int i = 0; i < MB; ++i) acc[i][v] = _mm256_fmadd_ps(ai[i], bv, acc[i][v]);
    }
  }
  const __m256 va = _mm256_set1_ps(alpha), vb = _mm256_set1_ps(beta);
#pragma GCC unroll 8
  for (int i = 0; i < MB; ++i)
#pragma GCC unroll 8
    for (int v = 0; v < NV; ++v) {
      float* out = c + i * ldc + 8 * v;
      __m256 r = _mm256_mul_ps(va, acc[i][v]);
      if (kTail) {
        if (beta != 0.f) r = _mm256_fmadd_ps(vb, _mm256_maskload_ps(out, mask[v]), r);
        _mm256_maskstore_ps(out, mask[v], r);
      } else {
        if (beta != 0.f) r = _mm256_fmadd_ps(vb, _mm256_loadu_ps(out), r);
        _mm256_storeu_ps(out, r);
      }
    }
}

// One row of A at a time with 8 vectors of C, two with 4 (8 accumulators either way).
template <int NV, bool kTail>
void axpy_rows(int64_t m, int64_t k, const float* a, int64_t lda, const float* b, int64_t ldb, int64_t nc,
               float alpha, float beta, float* c, int64_t ldc) {
  constexpr int kMaxRows = NV > 4 ? 1 : 2;
  for (int64_t i = 0; i < m; i += kMaxRows) {
    if (kMaxRows == 2 && m - i >= 2)
      axpy_block<2, NV, kTail>(k, a + i * lda, lda, b, ldb, nc, alpha, beta, c + i * ldc, ldc);
    else
      axpy_block<1, NV, kTail>(k, a + i * lda, lda, b, ldb, nc, alpha, beta, c + i * ldc, ldc);
  }
}

void axpy_nn(int64_t m, int64_t n, int64_t k, float alpha, const float* a, int64_t lda, const float* b,
             int64_t ldb, float beta, float* c, int64_t ldc) {
  const int64_t block = m == 1 ? 64 : 32;
  for (int64_t j = 0; j < n; j += block) {
    const int64_t nc = n - j < block ? n - j : block;
    const float* bj = b + j;
    float* cj = c + j;
    if (nc == 64) axpy_rows<8, false>(m, k, a, lda, bj, ldb, nc, alpha, beta, cj, ldc);
    else if (nc == 32) axpy_rows<4, false>(m, k, a, lda, bj, ldb, nc, alpha, beta, cj, ldc);
    else if (nc > 32) axpy_rows<8, true>(m, k, a, lda, bj, ldb, nc, alpha, beta, cj, ldc);
    else if (nc > 16) axpy_rows<4, true>(m, k, a, lda, bj, ldb, nc, alpha, beta, cj, ldc);
    else axpy_rows<2, true>(m, k, a, lda, bj, ldb, nc, alpha, beta, cj, ldc);
  }
}

}  // namespace

// Cut-offs measured single-threaded against the packed path (which packs B for AVX2): dot
// products take 0.1-0.7x its time up to m = 16, row updates 0.15-0.8x up to m = 8.
extern const SmallMKernels small_m_avx2 = {dot_nt, axpy_nn, 16, 8};

}  // namespace gemm
}  // namespace convkit
