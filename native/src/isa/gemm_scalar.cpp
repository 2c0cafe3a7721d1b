// Portable GEMM micro-kernel: a 4 x 8 tile in plain loops over fixed-size arrays, which the
// compiler keeps in registers and vectorises with baseline SSE2. Correctness first; speed
// comes from the AVX2 / AVX-512 kernels on CPUs that have them.
#include <cstddef>
#include <cstdint>

#include "gemm_kernels.h"

namespace convkit {
namespace gemm {
namespace {

constexpr int kMR = 4;
constexpr int kNR = 8;

void pack_a(const float* a, int64_t lda, bool trans, int64_t mc, int64_t kc, float* out) {
  for (int64_t i0 = 0; i0 < mc; i0 += kMR, out += kMR * kc) {
    const int64_t rows = mc - i0 < kMR ? mc - i0 : kMR;
    for (int64_t p = 0; p < kc; ++p)
      for (int r = 0; r < kMR; ++r)
        out[p * kMR + r] = r >= rows ? 0.f : trans ? a[p * lda + i0 + r] : a[(i0 + r) * lda + p];
  }
}

void pack_b(const float* b, int64_t ldb, bool trans, int64_t kc, int64_t nc, float* out) {
  for (int64_t j0 = 0; j0 < nc; j0 += kNR, out += kNR * kc) {
    const int64_t cols = nc - j0 < kNR ? nc - j0 : kNR;
    for (int64_t p = 0; p < kc; ++p)
      for (int j = 0; j < kNR; ++j)
        out[p * kNR + j] = j >= cols ? 0.f : trans ? b[(j0 + j) * ldb + p] : b[p * ldb + j0 + j];
  }
}

// Reads B only as packed slivers (b_stride == NR, zero-padded past nr).
void kernel(int64_t kc, const float* a, const float* b, int64_t b_stride, float* c, int64_t ldc, float alpha,
            float beta, int mr, int nr) {
  float acc[kMR][kNR] = {};
  for (int64_t p = 0; p < kc; ++p, a += kMR, b += b_stride)
    for (int i = 0; i < kMR; ++i)
      for (int j = 0; j < kNR; ++j) acc[i][j] += a[i] * b[j];
  for (int i = 0; i < mr; ++i)
    for (int j = 0; j < nr; ++j) {
      float* out = c + i * ldc + j;
      *out = beta == 0.f ? alpha * acc[i][j] : alpha * acc[i][j] + beta * *out;
    }
}

}  // namespace

// A sliver (4 KiB) in L1, B panel (512 KiB) in L2, A block in L3, as for the vector kernels.
extern const KernelSet kernels_scalar = {"scalar", kMR, kNR, kMR * 256, 256, kNR * 64, pack_a, pack_b, kernel, false};

}  // namespace gemm
}  // namespace convkit
