// Portable small-m GEMM (see SmallMKernels in gemm_kernels.h) on baseline SSE2: dot products
// with eight partial sums each, and row updates over a fixed 32-column block of C that the
// compiler vectorises itself.
#include <cstddef>
#include <cstdint>

#include "gemm_kernels.h"

namespace convkit {
namespace gemm {
namespace {

constexpr int kNB = 4;   // B rows per dot_nt block
constexpr int kNC = 32;  // C columns per axpy_nn block

// Four lanes of baseline SSE2, spelled with GCC's vector extension: left to itself, GCC's
// SLP vectoriser turns the dot products below into scalar shuffles and stack traffic.
typedef float F4 __attribute__((vector_size(16)));
F4 load4(const float* p) {
  F4 v;
  __builtin_memcpy(&v, p, sizeof v);
  return v;
}

float finish(float sum, float alpha, float beta, const float* c) {
  return beta == 0.f ? alpha * sum : alpha * sum + beta * *c;
}

// C[i][0, nb) for one row of A against nb <= kNB rows of B (missing rows repeat the last):
// eight partial sums per dot product, added up in a fixed order at the end.
void dot_block(int64_t k, const float* a, const float* b, int64_t ldb, int64_t nb, float alpha, float beta,
               float* c) {
  const float* brow[kNB];
  for (int j = 0; j < kNB; ++j) brow[j] = b + (j < nb ? j : nb - 1) * ldb;
  F4 lo[kNB] = {}, hi[kNB] = {};
  int64_t p = 0;
  for (; p + 8 <= k; p += 8) {
    const F4 a_lo = load4(a + p), a_hi = load4(a + p + 4);
    for (int j = 0; j < kNB; ++j) {
      lo[j] += a_lo * load4(brow[j] + p);
      hi[j] += a_hi * load4(brow[j] + p + 4);
    }
  }
  float tail[kNB] = {};
  for (; p < k; ++p)
    for (int j = 0; j < kNB; ++j) tail[j] += a[p] * brow[j][p];
  for (int j = 0; j < nb; ++j) {
    const F4 s = lo[j] + hi[j];
    c[j] = finish((s[0] + s[1]) + (s[2] + s[3]) + tail[j], alpha, beta, c + j);
  }
}

void dot_nt(int64_t m, int64_t n, int64_t k, float alpha, const float* a, int64_t lda, const float* b, int64_t ldb,
            float beta, float* c, int64_t ldc) {
  for (int64_t j = 0; j < n; j += kNB) {
    const int64_t nb = n - j < kNB ? n - j : kNB;
    for (int64_t i = 0; i < m; ++i) dot_block(k, a + i * lda, b + j * ldb, ldb, nb, alpha, beta, c + i * ldc + j);
  }
}

// Row i of C over columns [0, nc), nc <= kNC; a fixed width when the block is full.
template <bool kFull>
void axpy_block(int64_t k, const float* a, const float* b, int64_t ldb, int64_t nc, float alpha, float beta,
                float* c) {
  const int64_t width = kFull ? kNC : nc;
  float acc[kNC] = {};
  for (int64_t p = 0; p < k; ++p, b += ldb)
    for (int64_t l = 0; l < width; ++l) acc[l] += a[p] * b[l];
  for (int64_t l = 0; l < width; ++l) c[l] = finish(acc[l], alpha, beta, c + l);
}

void axpy_nn(int64_t m, int64_t n, int64_t k, float alpha, const float* a, int64_t lda, const float* b,
             int64_t ldb, float beta, float* c, int64_t ldc) {
  for (int64_t j = 0; j < n; j += kNC) {
    const int64_t nc = n - j < kNC ? n - j : kNC;
    for (int64_t i = 0; i < m; ++i) {
      if (nc == kNC) axpy_block<true>(k, a + i * lda, b + j, ldb, nc, alpha, beta, c + i * ldc + j);
      else axpy_block<false>(k, a + i * lda, b + j, ldb, nc, alpha, beta, c + i * ldc + j);
    }
  }
}

}  // namespace

// Cut-offs measured single-threaded against the packed path: dot products take 0.1-0.8x its
// time up to m = 16, row updates 0.15-0.85x up to m = 8.
extern const SmallMKernels small_m_scalar = {dot_nt, axpy_nn, 16, 8};

}  // namespace gemm
}  // namespace convkit
