// Internal: per-ISA kernels of the layout ops (layout.cpp), selected at run time through
// active_layout_kernels(). Like vec_kernels.h this header is plain (only <cstdint>) because the
// ISA files, compiled with wide-instruction flags, include it; the scalar bodies below the
// table are included a second time inside each ISA file's anonymous namespace (for tails), so
// no inline function compiled with AVX-512 can be picked by the linker for baseline code.
#ifndef CONVKIT_LAYOUT_KERNELS_H_
#define CONVKIT_LAYOUT_KERNELS_H_
#include <cstdint>

namespace convkit {

struct LayoutKernels {
  // One tile of a 2-D transpose: dst[i * dst_stride + j] = src[j * src_stride + i] for
  // i < rows, j < cols.
  void (*transpose)(const float* src, int64_t src_stride, float* dst, int64_t dst_stride, int64_t rows,
                    int64_t cols);
  // out[j] = the first d < dim of the largest x[d * stride + j], NaN largest, for j < n.
  void (*argmax_columns)(const float* x, int64_t dim, int64_t stride, int64_t n, int32_t* out);
  // The first index of the largest of x[0, n), NaN largest; n >= 1.
  int64_t (*argmax_row)(const float* x, int64_t n);
};

extern const LayoutKernels layout_kernels_scalar;
extern const LayoutKernels layout_kernels_avx2;
extern const LayoutKernels layout_kernels_avx512;

// The table for convkit::active_isa() (defined in layout.cpp, baseline code).
const LayoutKernels& active_layout_kernels();

}  // namespace convkit
#endif  // CONVKIT_LAYOUT_KERNELS_H_

// ------------------------------------------------------------------------------------------
// Scalar bodies, for the scalar table and the vector kernels' tails.
#if defined(CONVKIT_LAYOUT_KERNELS_IMPL) && !defined(CONVKIT_LAYOUT_KERNELS_IMPL_DONE)
#define CONVKIT_LAYOUT_KERNELS_IMPL_DONE

// Whether v replaces best as the maximum seen so far: larger, or the first NaN.
inline bool takes_over(float v, float best) { return v > best || (v != v && best == best); }

void transpose_scalar(const float* src, int64_t src_stride, float* dst, int64_t dst_stride, int64_t rows,
                      int64_t cols) {
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j) dst[i * dst_stride + j] = src[j * src_stride + i];
}

// Row by row down a block of columns, so that each row's block is one contiguous read.
void argmax_columns_scalar(const float* x, int64_t dim, int64_t stride, int64_t n, int32_t* out) {
  constexpr int64_t kBlock = 64;
  float best[kBlock];
  for (int64_t j0 = 0; j0 < n; j0 += kBlock) {
    const int64_t m = n - j0 < kBlock ? n - j0 : kBlock;
    for (int64_t j = 0; j < m; ++j) {
      best[j] = x[j0 + j];
      out[j0 + j] = 0;
    }
    for (int64_t d = 1; d < dim; ++d) {
      const float* row = x + d * stride + j0;
      for (int64_t j = 0; j < m; ++j) {
        if (takes_over(row[j], best[j])) {
          best[j] = row[j];
          out[j0 + j] = int32_t(d);
        }
      }
    }
  }
}

// Continues a row's scan from index `from`, with the maximum so far.
int64_t argmax_row_from(const float* x, int64_t from, int64_t n, float best, int64_t at) {
  for (int64_t i = from; i < n; ++i) {
    if (takes_over(x[i], best)) {
      best = x[i];
      at = i;
    }
  }
  return at;
}

int64_t argmax_row_scalar(const float* x, int64_t n) { return argmax_row_from(x, 1, n, x[0], 0); }

#endif  // CONVKIT_LAYOUT_KERNELS_IMPL
