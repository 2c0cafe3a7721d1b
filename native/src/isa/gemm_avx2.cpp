// AVX2 + FMA GEMM: a 6 x 16 micro-kernel (two ymm per row of C, 12 accumulators, the
// classic Haswell tile) and its packing routines. Edge tiles go through a small temp tile.
#include <immintrin.h>

#include <cstddef>
#include <cstdint>

#include "gemm_kernels.h"

namespace convkit {
namespace gemm {
namespace {

constexpr int kMR = 6;
constexpr int kNR = 16;

void pack_a(const float* a, int64_t lda, bool trans, int64_t mc, int64_t kc, float* out) {
  for (int64_t i0 = 0; i0 < mc; i0 += kMR, out += kMR * kc) {
    const int64_t rows = mc - i0 < kMR ? mc - i0 : kMR;
    if (trans) {
      for (int64_t p = 0; p < kc; ++p)
        for (int r = 0; r < kMR; ++r) out[p * kMR + r] = r < rows ? a[p * lda + i0 + r] : 0.f;
    } else {
      for (int64_t p = 0; p < kc; ++p)
        for (int r = 0; r < kMR; ++r) out[p * kMR + r] = r < rows ? a[(i0 + r) * lda + p] : 0.f;
    }
  }
}

void pack_b(const float* b, int64_t ldb, bool trans, int64_t kc, int64_t nc, float* out) {
  const int64_t full = nc / kNR;  // slivers without zero padding
  if (!trans) {
    // Row by row: one sequential stream through B, which the prefetchers follow.
    for (int64_t p = 0; p < kc; ++p) {
      const float* src = b + p * ldb;
      float* dst = out + p * kNR;
      for (int64_t s = 0; s < full; ++s) {
        _mm256_store_ps(dst + s * kNR * kc, _mm256_loadu_ps(src + s * kNR));
        _mm256_store_ps(dst + s * kNR * kc + 8, _mm256_loadu_ps(src + s * kNR + 8));
      }
      if (full * kNR < nc)
        for (int j = 0; j < kNR; ++j) dst[full * kNR * kc + j] = full * kNR + j < nc ? src[full * kNR + j] : 0.f;
    }
    return;
  }
  for (int64_t j0 = 0; j0 < nc; j0 += kNR, out += kNR * kc) {
    const int64_t cols = nc - j0 < kNR ? nc - j0 : kNR;
    // Column j of the sliver is contiguous in memory: walk it in order, write strided.
    for (int j = 0; j < kNR; ++j) {
      const float* src = b + (j0 + j) * ldb;
      if (j < cols) {
        for (int64_t p = 0; p < kc; ++p) out[p * kNR + j] = src[p];
      } else {
        for (int64_t p = 0; p < kc; ++p) out[p * kNR + j] = 0.f;
      }
    }
  }
}

// Reads B only as packed slivers (b_stride == NR, zero-padded past nr).
void kernel(int64_t kc, const float* a, const float* b, int64_t b_stride, float* c, int64_t ldc, float alpha,
            float beta, int mr, int nr) {
  __m256 lo[kMR], hi[kMR];
#pragma GCC unroll 6
  for (int i = 0; i < kMR; ++i) {
    lo[i] = _mm256_setzero_ps();
    hi[i] = _mm256_setzero_ps();
    _mm_prefetch(reinterpret_cast<const char*>(c + i * ldc), _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(c + i * ldc + 15), _MM_HINT_T0);
  }
#pragma GCC unroll 4
  for (int64_t p = 0; p < kc; ++p) {
    const __m256 b_lo = _mm256_load_ps(b), b_hi = _mm256_load_ps(b + 8);
#pragma GCC unroll 6
    for (int i = 0; i < kMR; ++i) {
      const __m256 ai = _mm256_broadcast_ss(a + i);
      lo[i] = _mm256_fmadd_ps(ai, b_lo, lo[i]);
      hi[i] = _mm256_fmadd_ps(ai, b_hi, hi[i]);
    }
    a += kMR;
    b += b_stride;
  }
  const __m256 va = _mm256_set1_ps(alpha), vb = _mm256_set1_ps(beta);
  if (mr == kMR && nr == kNR) {
#pragma GCC unroll 6
    for (int i = 0; i < kMR; ++i) {
      float* row = c + i * ldc;
      __m256 r_lo = _mm256_mul_ps(va, lo[i]), r_hi = _mm256_mul_ps(va, hi[i]);
      if (beta != 0.f) {
        r_lo = _mm256_fmadd_ps(vb, _mm256_loadu_ps(row), r_lo);
        r_hi = _mm256_fmadd_ps(vb, _mm256_loadu_ps(row + 8), r_hi);
      }
      _mm256_storeu_ps(row, r_lo);
      _mm256_storeu_ps(row + 8, r_hi);
    }
    return;
  }
  alignas(32) float tile[kMR][kNR];
#pragma GCC unroll 6
  for (int i = 0; i < kMR; ++i) {
    _mm256_store_ps(tile[i], _mm256_mul_ps(va, lo[i]));
    _mm256_store_ps(tile[i] + 8, _mm256_mul_ps(va, hi[i]));
  }
  for (int i = 0; i < mr; ++i)
    for (int j = 0; j < nr; ++j) c[i * ldc + j] = beta == 0.f ? tile[i][j] : tile[i][j] + beta * c[i * ldc + j];
}

}  // namespace

// Same loop order and cache roles as the AVX-512 blocks (see gemm_avx512.cpp): a 6 x 384
// A sliver in L1, a 384 x 480 B panel in L2, a 3072-row A block in L3.
extern const KernelSet kernels_avx2 = {"avx2", kMR, kNR, kMR * 512, 384, kNR * 30, pack_a, pack_b, kernel, false};

}  // namespace gemm
}  // namespace convkit
