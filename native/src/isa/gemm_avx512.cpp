// AVX-512 GEMM: a 14 x 32 micro-kernel (two zmm per row of C, 28 accumulators) and its
// packing routines. Row-major C makes "rows of 32" the natural tile: each row is two full
// vector stores, and edge columns are handled with masks instead of a temp tile. 12 x 32
// measured the same; 14 rows leave fewer idle rows for the common conv M = 64 (5 slivers).

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

constexpr int kMR = 14;
constexpr int kNR = 32;
constexpr int kPrefetchB = 8;  // k-steps ahead: B slivers stream from L2

__mmask16 first_lanes(int64_t count) {
  if (count >= 16) return 0xFFFF;
  if (count <= 0) return 0;
  return static_cast<__mmask16>((1u << count) - 1);
}

// Loads the rows x cols corner of a 16 x 16 block (row r at src + r*ld; the rest reads as
// zero) and transposes it in registers: t[c] holds column c. Packing a row-major A or a
// transposed B is a transpose; this does it 16 lanes at a time (gathers are ~10x slower).
void load_transposed_16x16(const float* src, int64_t ld, int rows, int cols, __m512 t[16]) {
  const __mmask16 col_mask = first_lanes(cols);
  __m512 r[16];
#pragma GCC unroll 16
  for (int i = 0; i < 16; ++i) r[i] = i < rows ? _mm512_maskz_loadu_ps(col_mask, src + i * ld) : _mm512_setzero_ps();
  __m512 u[16];
#pragma GCC unroll 4
  for (int g = 0; g < 4; ++g) {  // 4 x 4 transposes inside each 128-bit lane
    const __m512 lo01 = _mm512_unpacklo_ps(r[4 * g], r[4 * g + 1]), hi01 = _mm512_unpackhi_ps(r[4 * g], r[4 * g + 1]);
    const __m512 lo23 = _mm512_unpacklo_ps(r[4 * g + 2], r[4 * g + 3]), hi23 = _mm512_unpackhi_ps(r[4 * g + 2], r[4 * g + 3]);
    u[4 * g] = _mm512_shuffle_ps(lo01, lo23, 0x44);
    u[4 * g + 1] = _mm512_shuffle_ps(lo01, lo23, 0xEE);
    u[4 * g + 2] = _mm512_shuffle_ps(hi01, hi23, 0x44);
    u[4 * g + 3] = _mm512_shuffle_ps(hi01, hi23, 0xEE);
  }
  __m512 v[16];
#pragma GCC unroll 2
  for (int h = 0; h < 2; ++h)  // then move the 128-bit lanes into place, in two steps
#pragma GCC unroll 4
    for (int c = 0; c < 4; ++c) {
      v[8 * h + c] = _mm512_shuffle_f32x4(u[8 * h + c], u[8 * h + c + 4], 0x88);
      v[8 * h + c + 4] = _mm512_shuffle_f32x4(u[8 * h + c], u[8 * h + c + 4], 0xDD);
    }
#pragma GCC unroll 8
  for (int c = 0; c < 8; ++c) {
    t[c] = _mm512_shuffle_f32x4(v[c], v[c + 8], 0x88);
    t[c + 8] = _mm512_shuffle_f32x4(v[c], v[c + 8], 0xDD);
  }
}

void pack_a(const float* a, int64_t lda, bool trans, int64_t mc, int64_t kc, float* out) {
  const __mmask16 sliver_lanes = static_cast<__mmask16>((1u << kMR) - 1);
  for (int64_t i0 = 0; i0 < mc; i0 += kMR, out += kMR * kc) {
    const int64_t rows = mc - i0 < kMR ? mc - i0 : kMR;
    if (trans) {
      // Each k-step holds the sliver's rows contiguously: one masked copy per step.
      const __mmask16 mask = first_lanes(rows);
      const float* src = a + i0;
      for (int64_t p = 0; p < kc; ++p)
        _mm512_mask_storeu_ps(out + p * kMR, sliver_lanes, _mm512_maskz_loadu_ps(mask, src + p * lda));
    } else {
      __m512 t[16];
      for (int64_t p0 = 0; p0 < kc; p0 += 16) {
        const int steps = kc - p0 < 16 ? static_cast<int>(kc - p0) : 16;
        load_transposed_16x16(a + i0 * lda + p0, lda, static_cast<int>(rows), steps, t);
        for (int c = 0; c < steps; ++c) _mm512_mask_storeu_ps(out + (p0 + c) * kMR, sliver_lanes, t[c]);
      }
    }
  }
}

void pack_b(const float* b, int64_t ldb, bool trans, int64_t kc, int64_t nc, float* out) {
  if (!trans) {
    // Walk B row by row (one sequential stream, which the prefetchers follow), scattering
    // each row over the slivers; sliver by sliver would stride through memory instead.
    const int64_t slivers = (nc + kNR - 1) / kNR;
    const __mmask16 tail_lo = first_lanes(nc - (slivers - 1) * kNR), tail_hi = first_lanes(nc - (slivers - 1) * kNR - 16);
    for (int64_t p = 0; p < kc; ++p) {
      const float* src = b + p * ldb;
      float* dst = out + p * kNR;
      for (int64_t s = 0; s + 1 < slivers; ++s) {
        _mm512_store_ps(dst + s * kNR * kc, _mm512_loadu_ps(src + s * kNR));
        _mm512_store_ps(dst + s * kNR * kc + 16, _mm512_loadu_ps(src + s * kNR + 16));
      }
      const int64_t s = slivers - 1;
      _mm512_store_ps(dst + s * kNR * kc, _mm512_maskz_loadu_ps(tail_lo, src + s * kNR));
      _mm512_store_ps(dst + s * kNR * kc + 16, _mm512_maskz_loadu_ps(tail_hi, src + s * kNR + 16));
    }
    return;
  }
  __m512 t[16];
  for (int64_t j0 = 0; j0 < nc; j0 += kNR, out += kNR * kc) {
    const int64_t cols = nc - j0 < kNR ? nc - j0 : kNR;
    for (int half = 0; half < 2; ++half) {
      const int64_t rows = cols - 16 * half < 0 ? 0 : cols - 16 * half > 16 ? 16 : cols - 16 * half;
      for (int64_t p0 = 0; p0 < kc; p0 += 16) {
        const int steps = kc - p0 < 16 ? static_cast<int>(kc - p0) : 16;
        load_transposed_16x16(b + (j0 + 16 * half) * ldb + p0, ldb, static_cast<int>(rows), steps, t);
        for (int c = 0; c < steps; ++c) _mm512_store_ps(out + (p0 + c) * kNR + 16 * half, t[c]);
      }
    }
  }
}

// C = alpha*acc + beta*C on one row (two vectors), masked for edge columns.
void store_row(float* c, __m512 lo, __m512 hi, __m512 alpha, float beta, __mmask16 m_lo, __mmask16 m_hi) {
  lo = _mm512_mul_ps(alpha, lo);
  hi = _mm512_mul_ps(alpha, hi);
  if (beta != 0.f) {
    const __m512 vb = _mm512_set1_ps(beta);
    lo = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(m_lo, c), lo);
    hi = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(m_hi, c + 16), hi);
  }
  _mm512_mask_storeu_ps(c, m_lo, lo);
  _mm512_mask_storeu_ps(c + 16, m_hi, hi);
}

// The micro-kernel for the first ROWS rows of a sliver (ROWS <= MR): the full tile, and
// shorter ones for the last sliver of A, so that e.g. a 6-row A (LeNet's first conv) does not
// pay for 14 rows of FMAs.
template <int ROWS>
void kernel_rows(int64_t kc, const float* a, const float* b, int64_t b_stride, float* c, int64_t ldc, float alpha,
                 float beta, int mr, int nr) {
  const __mmask16 m_lo = first_lanes(nr), m_hi = first_lanes(nr - 16);
  __m512 lo[ROWS], hi[ROWS];
#pragma GCC unroll 16
  for (int i = 0; i < ROWS; ++i) {
    lo[i] = _mm512_setzero_ps();
    hi[i] = _mm512_setzero_ps();
    // The tile of C is needed right after the k loop; start fetching it now.
    _mm_prefetch(reinterpret_cast<const char*>(c + i * ldc), _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(c + i * ldc + 31), _MM_HINT_T0);
  }
#pragma GCC unroll 4
  for (int64_t p = 0; p < kc; ++p) {
    // Masked loads cost the same as plain ones and keep an in-place B's last sliver in bounds.
    const __m512 b_lo = _mm512_maskz_loadu_ps(m_lo, b), b_hi = _mm512_maskz_loadu_ps(m_hi, b + 16);
    _mm_prefetch(reinterpret_cast<const char*>(b + kPrefetchB * b_stride), _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(b + kPrefetchB * b_stride + 16), _MM_HINT_T0);
#pragma GCC unroll 16
    for (int i = 0; i < ROWS; ++i) {
      const __m512 ai = _mm512_set1_ps(a[i]);
      lo[i] = _mm512_fmadd_ps(ai, b_lo, lo[i]);
      hi[i] = _mm512_fmadd_ps(ai, b_hi, hi[i]);
    }
    a += kMR;
    b += b_stride;
  }
  const __m512 va = _mm512_set1_ps(alpha);
#pragma GCC unroll 16
  for (int i = 0; i < ROWS; ++i)
    if (i < mr) store_row(c + i * ldc, lo[i], hi[i], va, beta, m_lo, m_hi);
}

void kernel(int64_t kc, const float* a, const float* b, int64_t b_stride, float* c, int64_t ldc, float alpha,
            float beta, int mr, int nr) {
  static_assert(kMR == 14, "the row dispatch below assumes a 14-row tile");
  switch ((mr + 1) / 2) {
    case 1: return kernel_rows<2>(kc, a, b, b_stride, c, ldc, alpha, beta, mr, nr);
    case 2: return kernel_rows<4>(kc, a, b, b_stride, c, ldc, alpha, beta, mr, nr);
    case 3: return kernel_rows<6>(kc, a, b, b_stride, c, ldc, alpha, beta, mr, nr);
    case 4: return kernel_rows<8>(kc, a, b, b_stride, c, ldc, alpha, beta, mr, nr);
    case 5: return kernel_rows<10>(kc, a, b, b_stride, c, ldc, alpha, beta, mr, nr);
    case 6: return kernel_rows<12>(kc, a, b, b_stride, c, ldc, alpha, beta, mr, nr);
    default: return kernel_rows<14>(kc, a, b, b_stride, c, ldc, alpha, beta, mr, nr);
  }
}

}  // namespace

// Blocks for Skylake-X / Cascade Lake (32 KiB L1d, 1 MiB L2, shared L3), measured against
// OpenBLAS: KC = 384 keeps a 14 x 384 A sliver (21 KiB) in L1, NC = 480 keeps the 384 x 480
// B panel (720 KiB) in L2, and MC = 3080 bounds the packed A block (4.5 MiB) in L3.
extern const KernelSet kernels_avx512 = {"avx512", kMR, kNR, kMR * 220, 384, kNR * 15, pack_a, pack_b, kernel, true};

}  // namespace gemm
}  // namespace convkit
