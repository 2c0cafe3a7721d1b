// The 8x8 in-register transpose of the layout kernels, shared by layout_avx2.cpp and
// layout_avx512.cpp: included inside their anonymous namespaces, after <immintrin.h> and the
// scalar bodies of layout_kernels.h (for the edges), so each ISA file has its own copy.

// Rows r[0..8) become columns.
inline void transpose8x8(__m256 r[8]) {
  __m256 t[8], u[8];
  for (int k = 0; k < 8; k += 2) {
    t[k] = _mm256_unpacklo_ps(r[k], r[k + 1]);
    t[k + 1] = _mm256_unpackhi_ps(r[k], r[k + 1]);
  }
  for (int k = 0; k < 8; k += 4) {
    u[k] = _mm256_shuffle_ps(t[k], t[k + 2], _MM_SHUFFLE(1, 0, 1, 0));
    u[k + 1] = _mm256_shuffle_ps(t[k], t[k + 2], _MM_SHUFFLE(3, 2, 3, 2));
    u[k + 2] = _mm256_shuffle_ps(t[k + 1], t[k + 3], _MM_SHUFFLE(1, 0, 1, 0));
    u[k + 3] = _mm256_shuffle_ps(t[k + 1], t[k + 3], _MM_SHUFFLE(3, 2, 3, 2));
  }
  for (int k = 0; k < 4; ++k) {
    r[k] = _mm256_permute2f128_ps(u[k], u[k + 4], 0x20);
    r[k + 4] = _mm256_permute2f128_ps(u[k], u[k + 4], 0x31);
  }
}

// dst[i * dst_stride + j] = src[j * src_stride + i]: 8x8 blocks in registers (8 loads and
// 8 stores of 8 floats each), the ragged edges scalar.
void transpose_avx(const float* src, int64_t src_stride, float* dst, int64_t dst_stride, int64_t rows,
                   int64_t cols) {
  const int64_t rows8 = rows & ~int64_t(7), cols8 = cols & ~int64_t(7);
  for (int64_t i = 0; i < rows8; i += 8) {
    for (int64_t j = 0; j < cols8; j += 8) {
      __m256 r[8];
#pragma GCC unroll 8
      for (int k = 0; k < 8; ++k) r[k] = _mm256_loadu_ps(src + (j + k) * src_stride + i);
      transpose8x8(r);
#pragma GCC unroll 8
      for (int k = 0; k < 8; ++k) _mm256_storeu_ps(dst + (i + k) * dst_stride + j, r[k]);
    }
    if (cols8 < cols) transpose_scalar(src + cols8 * src_stride + i, src_stride, dst + i * dst_stride + cols8, dst_stride, 8, cols - cols8);
  }
  if (rows8 < rows) transpose_scalar(src + rows8, src_stride, dst + rows8 * dst_stride, dst_stride, rows - rows8, cols);
}
