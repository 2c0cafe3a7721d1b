// im2col / col2im kernels (layout in im2col.cuh).
//
// im2col: grid x over the chunk's columns (consecutive threads read consecutive input
// columns and write consecutive column entries), grid y over blocks of kRowsPerBlock rows; a
// thread decodes its column once and steps (ci, ky, kx) row by row without dividing.
// col2im: grid x over the elements of one input plane, grid y over the chunk's planes; each
// thread sums the entries of every (ky, kx) whose output position lands on a whole stride.
#include "im2col.cuh"

#include <algorithm>

#include "launch.cuh"

namespace convkit::cuda {
namespace {

constexpr int kRowsPerBlock = 8;
constexpr int64_t kMaxGridY = 65535;

struct Geometry {
  int c, h, w, kh, kw, sh, sw, pt, pl, dh, dw, oh, ow, P, K, ncols;
};

// A stride or dilation that exceeds the padded extent can only ever multiply 0 (one output
// row, or one kernel row), so it is clamped there to fit an int without changing anything.
Geometry geometry(const ConvShape& s, int64_t nb) {
  const int64_t ph = s.h + s.pad_top + s.pad_bottom, pw = s.w + s.pad_left + s.pad_right;
  Geometry g;
  g.c = int(s.c);
  g.h = int(s.h);
  g.w = int(s.w);
  g.kh = int(s.kh);
  g.kw = int(s.kw);
  g.sh = int(std::min(s.stride_h, ph));
  g.sw = int(std::min(s.stride_w, pw));
  g.pt = int(s.pad_top);
  g.pl = int(s.pad_left);
  g.dh = int(std::min(s.dilation_h, ph));
  g.dw = int(std::min(s.dilation_w, pw));
  g.oh = int(s.oh);
  g.ow = int(s.ow);
  g.P = int(s.oh * s.ow);
  g.K = int(s.c * s.kh * s.kw);
  g.ncols = int(nb * s.oh * s.ow);
  return g;
}

// x and cols start at the chunk's first image.
__global__ void im2col_kernel(const Geometry g, const float* x, float* cols) {
  const int j = blockIdx.x * blockDim.x + threadIdx.x;
  if (j >= g.ncols) return;
  const int img = j / g.P, p = j - img * g.P, oy = p / g.ow, ox = p - oy * g.ow;
  const float* xi = x + int64_t(img) * g.c * g.h * g.w;
  const int iy0 = oy * g.sh - g.pt, ix0 = ox * g.sw - g.pl;
  const int khw = g.kh * g.kw;
  for (int r0 = blockIdx.y * kRowsPerBlock; r0 < g.K; r0 += gridDim.y * kRowsPerBlock) {
    int ci = r0 / khw, ky = (r0 - ci * khw) / g.kw, kx = r0 - ci * khw - ky * g.kw;
    const int r1 = min(g.K, r0 + kRowsPerBlock);
    for (int r = r0; r < r1; ++r) {
      const int iy = iy0 + ky * g.dh, ix = ix0 + kx * g.dw;
      float v = 0.f;
      if (iy >= 0 && iy < g.h && ix >= 0 && ix < g.w) v = xi[(int64_t(ci) * g.h + iy) * g.w + ix];
      cols[int64_t(r) * g.ncols + j] = v;
      if (++kx == g.kw) {
        kx = 0;
        if (++ky == g.kh) {
          ky = 0;
          ++ci;
        }
      }
    }
  }
}

// cols and dx start at the chunk's first image; planes = images * channels.
__global__ void col2im_kernel(const Geometry g, int planes, const float* cols, float* dx) {
  const int e = blockIdx.x * blockDim.x + threadIdx.x;
  if (e >= g.h * g.w) return;
  const int iy = e / g.w, ix = e - iy * g.w;
  for (int plane = blockIdx.y; plane < planes; plane += gridDim.y) {
    const int img = plane / g.c, ci = plane - img * g.c;
    const float* ci_cols = cols + int64_t(ci) * g.kh * g.kw * g.ncols + int64_t(img) * g.P;
    float sum = 0.f;
    // The input row iy is read through kernel row ky by output row oy with oy*sh = iy + pt - ky*dh.
    for (int ky = 0; ky < g.kh; ++ky) {
      const int ty = iy + g.pt - ky * g.dh;
      if (ty < 0) break;  // only falls as ky grows
      int oy = ty;
      if (g.sh != 1) {
        if (ty % g.sh != 0) continue;
        oy = ty / g.sh;
      }
      if (oy >= g.oh) continue;
      for (int kx = 0; kx < g.kw; ++kx) {
        const int tx = ix + g.pl - kx * g.dw;
        if (tx < 0) break;
        int ox = tx;
        if (g.sw != 1) {
          if (tx % g.sw != 0) continue;
          ox = tx / g.sw;
        }
        if (ox >= g.ow) continue;
        sum += ci_cols[int64_t(ky * g.kw + kx) * g.ncols + oy * g.ow + ox];
      }
    }
    dx[int64_t(plane) * g.h * g.w + e] = sum;
  }
}

}  // namespace

void im2col(const ConvShape& s, const float* x, int64_t i0, int64_t nb, float* cols) {
  const Geometry g = geometry(s, nb);
  const int64_t row_blocks = (g.K + kRowsPerBlock - 1) / kRowsPerBlock;
  const dim3 grid(unsigned((g.ncols + kThreads - 1) / kThreads), unsigned(std::min(row_blocks, kMaxGridY)));
  im2col_kernel<<<grid, kThreads, 0, stream()>>>(g, x + i0 * s.c * s.h * s.w, cols);
  check_launch("im2col_kernel");
}

void col2im(const ConvShape& s, const float* cols, int64_t i0, int64_t nb, float* dx) {
  const Geometry g = geometry(s, nb);
  const int64_t planes = nb * s.c;
  const dim3 grid(unsigned((s.h * s.w + kThreads - 1) / kThreads), unsigned(std::min(planes, kMaxGridY)));
  col2im_kernel<<<grid, kThreads, 0, stream()>>>(g, int(planes), cols, dx + i0 * s.c * s.h * s.w);
  check_launch("col2im_kernel");
}

}  // namespace convkit::cuda
