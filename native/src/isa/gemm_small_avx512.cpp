// AVX-512 small-m GEMM (see SmallMKernels in gemm_kernels.h): A and B are read in place.
// dot_nt keeps an MB x NB block of C as MB*NB vector accumulators of row-by-row dot products
// (every load unit-stride along k), reduces four of them at a time into one 128-bit vector
// and stores four columns of C at once. axpy_nn keeps MB rows x NV vectors of C in registers
// while it walks the rows of B. Both loop over column blocks outermost, so with more than one
// row group the block of B just used is still in L1 for the next group.

// GCC 12 flags the _mm512_undefined_ps() inside some intrinsics as uninitialised (GCC bug
// 105593); the warning is a false positive.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <cstddef>
#include <cstdint>

#include "gemm_kernels.h"

namespace convkit {
namespace gemm {
namespace {

__mmask16 first_lanes(int64_t count) {
  if (count >= 16) return 0xFFFF;
  if (count <= 0) return 0;
  return static_cast<__mmask16>((1u << count) - 1);
}

// Keeps x in a register: otherwise GCC folds the load of a B vector into each of the MB FMAs
// that use it, and the loop turns load-bound (MB = 3: 27 loads per 24 FMAs instead of 11).
__m512 in_register(__m512 x) {
  __asm__("" : "+v"(x));
  return x;
}

// The sums of four vectors, in order.
__m256 halves(__m512 x) { return _mm256_add_ps(_mm512_castps512_ps256(x), _mm512_extractf32x8_ps(x, 1)); }
__m128 sum4(__m512 x0, __m512 x1, __m512 x2, __m512 x3) {
  const __m256 h = _mm256_hadd_ps(_mm256_hadd_ps(halves(x0), halves(x1)), _mm256_hadd_ps(halves(x2), halves(x3)));
  return _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
}

// c[0, nb) = alpha * s + beta * c, nb <= 4; beta == 0 does not read c.
void store4(float* c, __m128 s, float alpha, float beta, int64_t nb) {
  const __mmask8 mask = static_cast<__mmask8>((1u << (nb < 4 ? nb : 4)) - 1);
  s = _mm_mul_ps(_mm_set1_ps(alpha), s);
  if (beta != 0.f) s = _mm_fmadd_ps(_mm_set1_ps(beta), _mm_maskz_loadu_ps(mask, c), s);
  _mm_mask_storeu_ps(c, mask, s);
}

// C[0, MB) x [0, nb) from MB rows of A and nb <= NB rows of B. Missing B rows repeat the last
// one (their sums are not stored), so every block runs the same straight-line code.
template <int MB, int NB>
void dot_block(int64_t k, const float* a, int64_t lda, const float* b, int64_t ldb, int64_t nb, float alpha,
               float beta, float* c, int64_t ldc) {
  const float* brow[NB];
#pragma GCC unroll 8
  for (int j = 0; j < NB; ++j) brow[j] = b + (j < nb ? j : nb - 1) * ldb;
  __m512 acc[MB][NB];
#pragma GCC unroll 8
  for (int i = 0; i < MB; ++i)
#pragma GCC unroll 8
    for (int j = 0; j < NB; ++j) acc[i][j] = _mm512_setzero_ps();
  auto step = [&](int64_t p, __mmask16 mask) {
    __m512 av[MB];
#pragma GCC unroll 8
    for (int i = 0; i < MB; ++i) av[i] = _mm512_maskz_loadu_ps(mask, a + i * lda + p);
#pragma GCC unroll 8
    for (int j = 0; j < NB; ++j) {
      const __m512 bv = in_register(_mm512_maskz_loadu_ps(mask, brow[j] + p));
#pragma GCC unroll 8
      for (int i = 0; i < MB; ++i) acc[i][j] = _mm512_fmadd_ps(av[i], bv, acc[i][j]);
    }
  };
  int64_t p = 0;
  for (; p + 16 <= k; p += 16) step(p, 0xFFFF);
  if (p < k) step(p, first_lanes(k - p));
#pragma GCC unroll 8
  for (int i = 0; i < MB; ++i)
#pragma GCC unroll 8
    for (int j = 0; j < NB; j += 4)
      if (j < nb)
        store4(c + i * ldc + j, sum4(acc[i][j], acc[i][j + 1], acc[i][j + 2], acc[i][j + 3]), alpha, beta, nb - j);
}

// All m rows against nb <= NB rows of B, a few rows of A at a time, in groups of near-equal
// size (a lone row would have too few accumulators to hide the FMA latency).
template <int NB>
void dot_rows(int64_t m, int64_t k, const float* a, int64_t lda, const float* b, int64_t ldb, int64_t nb,
              float alpha, float beta, float* c, int64_t ldc) {
  constexpr int kMaxRows = NB > 4 ? 3 : 4;  // at most 24 accumulators
  const int64_t groups = (m + kMaxRows - 1) / kMaxRows;
  for (int64_t g = 0, i = 0; g < groups; ++g) {
    const float* ai = a + i * lda;
    float* ci = c + i * ldc;
    const int64_t rows = (m - i) / (groups - g) + ((m - i) % (groups - g) != 0);  // balanced: 5 = 3 + 2
    i += rows;
    if (rows == 1) dot_block<1, NB>(k, ai, lda, b, ldb, nb, alpha, beta, ci, ldc);
    else if (rows == 2) dot_block<2, NB>(k, ai, lda, b, ldb, nb, alpha, beta, ci, ldc);
    else if (rows == 3) dot_block<3, NB>(k, ai, lda, b, ldb, nb, alpha, beta, ci, ldc);
    else if constexpr (kMaxRows == 4) dot_block<4, NB>(k, ai, lda, b, ldb, nb, alpha, beta, ci, ldc);
  }
}

// Eight B rows per block while at most three rows of A share them (24 accumulators), four for
// taller A (16): enough independent FMA chains to hide their latency, few enough for 32 zmm.
void dot_nt(int64_t m, int64_t n, int64_t k, float alpha, const float* a, int64_t lda, const float* b, int64_t ldb,
            float beta, float* c, int64_t ldc) {
  const int64_t block = m <= 3 ? 8 : 4;
  for (int64_t j = 0; j < n; j += block) {
    const int64_t nb = n - j < block ? n - j : block;
    if (nb > 4) dot_rows<8>(m, k, a, lda, b + j * ldb, ldb, nb, alpha, beta, c + j, ldc);
    else dot_rows<4>(m, k, a, lda, b + j * ldb, ldb, nb, alpha, beta, c + j, ldc);
  }
}

// C[0, MB) x [0, nc) with nc <= 16*NV: row p of B is NV vectors (masked past nc), added into
// each row of C scaled by A[i][p].
template <int MB, int NV>
void axpy_block(int64_t k, const float* a, int64_t lda, const float* b, int64_t ldb, int64_t nc, float alpha,
                float beta, float* c, int64_t ldc) {
  __mmask16 mask[NV];
#pragma GCC unroll 8
  for (int v = 0; v < NV; ++v) mask[v] = first_lanes(nc - 16 * v);
  __m512 acc[MB][NV];
#pragma GCC unroll 8
  for (int i = 0; i < MB; ++i)
#pragma GCC unroll 8
    for (int v = 0; v < NV; ++v) acc[i][v] = _mm512_setzero_ps();
  for (int64_t p = 0; p < k; ++p, b += ldb) {
    __m512 bv[NV];
#pragma GCC unroll 8
    for (int v = 0; v < NV; ++v) bv[v] = _mm512_maskz_loadu_ps(mask[v], b + 16 * v);
#pragma GCC unroll 8
    for (int i = 0; i < MB; ++i) {
      const __m512 ai = _mm512_set1_ps(a[i * lda + p]);
#pragma GCC unroll 8
      for (int v = 0; v < NV; ++v) acc[i][v] = _mm512_fmadd_ps(ai, bv[v], acc[i][v]);
    }
  }
  const __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
#pragma GCC unroll 8
  for (int i = 0; i < MB; ++i)
#pragma GCC unroll 8
    for (int v = 0; v < NV; ++v) {
      float* out = c + i * ldc + 16 * v;
      __m512 r = _mm512_mul_ps(va, acc[i][v]);
      if (beta != 0.f) r = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(mask[v], out), r);
      _mm512_mask_storeu_ps(out, mask[v], r);
    }
}

template <int NV>
void axpy_rows(int64_t m, int64_t k, const float* a, int64_t lda, const float* b, int64_t ldb, int64_t nc,
               float alpha, float beta, float* c, int64_t ldc) {
  constexpr int kMaxRows = NV > 4 ? 2 : 4;  // at most 16 accumulators
  for (int64_t i = 0; i < m; i += kMaxRows) {
    const float* ai = a + i * lda;
    float* ci = c + i * ldc;
    const int64_t rows = m - i < kMaxRows ? m - i : kMaxRows;
    if (rows == 1) axpy_block<1, NV>(k, ai, lda, b, ldb, nc, alpha, beta, ci, ldc);
    else if (rows == 2) axpy_block<2, NV>(k, ai, lda, b, ldb, nc, alpha, beta, ci, ldc);
    else if constexpr (kMaxRows == 4) {
      if (rows == 3) axpy_block<3, NV>(k, ai, lda, b, ldb, nc, alpha, beta, ci, ldc);
      else axpy_block<4, NV>(k, ai, lda, b, ldb, nc, alpha, beta, ci, ldc);
    }
  }
}

// Blocks of 128 columns for one or two rows of A, 64 for more; the last, narrower block runs
// with just enough vectors.
void axpy_nn(int64_t m, int64_t n, int64_t k, float alpha, const float* a, int64_t lda, const float* b,
             int64_t ldb, float beta, float* c, int64_t ldc) {
  const int64_t block = m <= 2 ? 128 : 64;
  for (int64_t j = 0; j < n; j += block) {
    const int64_t nc = n - j < block ? n - j : block;
    if (nc > 64) axpy_rows<8>(m, k, a, lda, b + j, ldb, nc, alpha, beta, c + j, ldc);
    else if (nc > 32) axpy_rows<4>(m, k, a, lda, b + j, ldb, nc, alpha, beta, c + j, ldc);
    else axpy_rows<2>(m, k, a, lda, b + j, ldb, nc, alpha, beta, c + j, ldc);
  }
}

}  // namespace

// Cut-offs measured single-threaded against the packed path (AMD EPYC with AVX-512): dot
// products take 0.3-0.75x its time up to m = 16 for (n, k) = (120, 400), (84, 120),
// (1000, 1000), (512, 4096), and draw level at m = 24-48; row updates take 0.25-0.8x up to
// m = 4 and draw level from m = 6, where the packed kernel reads B in place too.
extern const SmallMKernels small_m_avx512 = {dot_nt, axpy_nn, 16, 4};

}  // namespace gemm
}  // namespace convkit
