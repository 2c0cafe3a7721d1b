// im2col / col2im with branch-free inner loops: for each kernel column kx the valid output
// range [lo, hi) (input column inside the image) is computed once, so each output row is a
// zero prefix, a contiguous copy (stride 1) or strided gather, and a zero suffix.
#include "im2col.h"

#include "vec_kernels.h"

#include <algorithm>
#include <cstring>
#include <vector>

namespace convkit {
namespace detail {
namespace {

inline int64_t ceil_div_nonneg(int64_t a, int64_t b) {  // ceil(a / b) for b > 0, clamped at 0 for a <= 0
  return a <= 0 ? 0 : (a + b - 1) / b;
}

// Output columns ox with 0 <= ox*stride + off < w, as [lo, hi) inside [0, ow).
inline void valid_range(int64_t off, int64_t stride, int64_t w, int64_t ow, int64_t* lo, int64_t* hi) {
  int64_t l = ceil_div_nonneg(-off, stride);
  int64_t h = ceil_div_nonneg(w - off, stride);
  l = std::min(l, ow);
  h = std::min(std::max(h, l), ow);
  *lo = l;
  *hi = h;
}

// valid_range for every kernel column kx, computed once per call (integer divisions are slow
// enough to dominate short rows).
struct KxRanges {
  static constexpr int64_t kStack = 64;
  int64_t lo_s[kStack], hi_s[kStack];
  std::vector<int64_t> heap;
  const int64_t* lo;
  const int64_t* hi;
  KxRanges(const ConvShape& s) {
    int64_t* l = lo_s;
    int64_t* h = hi_s;
    if (s.kw > kStack) {
      heap.resize(size_t(2 * s.kw));
      l = heap.data();
      h = heap.data() + s.kw;
    }
    for (int64_t kx = 0; kx < s.kw; ++kx) valid_range(kx * s.dilation_w - s.pad_left, s.stride_w, s.w, s.ow, &l[kx], &h[kx]);
    lo = l;
    hi = h;
  }
};

}  // namespace

void im2col_rows(const ConvShape& s, const float* x_img, int64_t r0, int64_t r1, int64_t oy0, int64_t oy1,
                 float* col, int64_t ldcol) {
  const int64_t h = s.h, w = s.w, ow = s.ow, kh = s.kh, kw = s.kw;
  const int64_t sh = s.stride_h, sw = s.stride_w;
  const VecKernels& k = active_vec_kernels();
  const KxRanges ranges(s);
  int64_t ci = r0 / (kh * kw), ky = (r0 / kw) % kh, kx = r0 % kw;
  for (int64_t r = r0; r < r1; ++r) {
    if (r > r0 && ++kx == kw) {
      kx = 0;
      if (++ky == kh) {
        ky = 0;
        ++ci;
      }
    }
    const float* xc = x_img + ci * h * w;
    const int64_t xoff = kx * s.dilation_w - s.pad_left;
    const int64_t lo = ranges.lo[kx], hi = ranges.hi[kx];
    float* dst = col + r * ldcol;
    if (sw == 1) {
      k.im2col_s1(xc, h, w, dst, oy0, oy1, ow, sh, ky * s.dilation_h - s.pad_top, xoff, lo, hi);
      continue;
    }
    for (int64_t oy = oy0; oy < oy1; ++oy, dst += ow) {
      const int64_t iy = oy * sh - s.pad_top + ky * s.dilation_h;
      if (iy < 0 || iy >= h) {
        std::memset(dst, 0, size_t(ow) * sizeof(float));
        continue;
      }
      const float* src = xc + iy * w + xoff;  // src[ox*sw] is input column ox*sw + xoff
      if (lo > 0) std::memset(dst, 0, size_t(lo) * sizeof(float));
      if (sw == 1) {
        if (hi > lo) std::memcpy(dst + lo, src + lo, size_t(hi - lo) * sizeof(float));
      } else if (sw == 2) {
        for (int64_t ox = lo; ox < hi; ++ox) dst[ox] = src[2 * ox];
      } else {
        for (int64_t ox = lo; ox < hi; ++ox) dst[ox] = src[ox * sw];
      }
      if (hi < ow) std::memset(dst + hi, 0, size_t(ow - hi) * sizeof(float));
    }
  }
}

void col2im_channels(const ConvShape& s, const float* col, int64_t ldcol, int64_t oy0, int64_t oy1, int64_t c0,
                     int64_t c1, float* dx_img, bool zero_first) {
  const int64_t h = s.h, w = s.w, ow = s.ow, kh = s.kh, kw = s.kw;
  const int64_t sh = s.stride_h, sw = s.stride_w;
  const VecKernels& k = active_vec_kernels();
  const KxRanges ranges(s);
  for (int64_t ci = c0; ci < c1; ++ci) {
    float* dxc = dx_img + ci * h * w;
    if (zero_first) std::memset(dxc, 0, size_t(h * w) * sizeof(float));
    for (int64_t ky = 0; ky < kh; ++ky) {
      for (int64_t kx = 0; kx < kw; ++kx) {
        const int64_t r = (ci * kh + ky) * kw + kx;
        const int64_t xoff = kx * s.dilation_w - s.pad_left;
        const int64_t lo = ranges.lo[kx], hi = ranges.hi[kx];
        const float* src = col + r * ldcol;
        if (sw == 1) {
          k.col2im_s1(src, h, w, dxc, oy0, oy1, ow, sh, ky * s.dilation_h - s.pad_top, xoff, lo, hi);
          continue;
        }
        for (int64_t oy = oy0; oy < oy1; ++oy, src += ow) {
          const int64_t iy = oy * sh - s.pad_top + ky * s.dilation_h;
          if (iy < 0 || iy >= h) continue;
          float* d = dxc + iy * w + xoff;
          if (sw == 1) {
            for (int64_t ox = lo; ox < hi; ++ox) d[ox] += src[ox];
          } else {
            for (int64_t ox = lo; ox < hi; ++ox) d[ox * sw] += src[ox];
          }
        }
      }
    }
  }
}

}  // namespace detail
}  // namespace convkit
