// im2col / col2im with branch-free inner loops: for each kernel column kx the valid output
// range [lo, hi) (input column inside the image) is computed once, so each output row is a
// zero prefix, a contiguous copy (stride 1) or strided gather, and a zero suffix.
#include "im2col.h"

#include <algorithm>
#include <cstring>

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

}  // namespace

void im2col_rows(const ConvShape& s, const float* x_img, int64_t r0, int64_t r1, int64_t oy0, int64_t oy1,
                 float* col, int64_t ldcol) {
  const int64_t h = s.h, w = s.w, ow = s.ow, kh = s.kh, kw = s.kw;
  const int64_t sh = s.stride_h, sw = s.stride_w;
  for (int64_t r = r0; r < r1; ++r) {
    const int64_t ci = r / (kh * kw), ky = (r / kw) % kh, kx = r % kw;
    const float* xc = x_img + ci * h * w;
    const int64_t xoff = kx * s.dilation_w - s.pad_left;
    int64_t lo, hi;
    valid_range(xoff, sw, w, ow, &lo, &hi);
    float* dst = col + r * ldcol;
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
  for (int64_t ci = c0; ci < c1; ++ci) {
    float* dxc = dx_img + ci * h * w;
    if (zero_first) std::memset(dxc, 0, size_t(h * w) * sizeof(float));
    for (int64_t ky = 0; ky < kh; ++ky) {
      for (int64_t kx = 0; kx < kw; ++kx) {
        const int64_t r = (ci * kh + ky) * kw + kx;
        const int64_t xoff = kx * s.dilation_w - s.pad_left;
        int64_t lo, hi;
        valid_range(xoff, sw, w, ow, &lo, &hi);
        const float* src = col + r * ldcol;
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
