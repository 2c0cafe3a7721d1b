// im2col / col2im kernels (layout in im2col.cuh).
//
// im2col: grid x over the chunk's columns (consecutive threads read consecutive input
// columns and write consecutive column entries), grid y over blocks of kRowsPerBlock rows; a
// thread decodes its column once and steps (ci, ky, kx) row by row without dividing.
// col2im: grid x over the elements of one input plane, grid y over the chunk's planes; each
// thread sums the entries of every (ky, kx) whose output position lands on a whole stride.
// The row forms (one image, output rows [oy0, oy1)) are the same kernels with the columns
// starting at output row oy0; col2im_rows_add covers only the input rows those rows read.
#include "im2col.cuh"

#include <algorithm>

#include "launch.cuh"

namespace convkit::cuda {
namespace {

constexpr int kRowsPerBlock = 8;
constexpr int64_t kMaxGridY = 65535;

// P: columns per image, (oy1 - oy0) * ow for the output rows [oy0, oy1) the columns hold.
struct Geometry {
  int c, h, w, kh, kw, sh, sw, pt, pl, dh, dw, oy0, oy1, ow, P, K, ncols;
};

// A stride or dilation that exceeds the padded extent can only ever multiply 0 (one output
// row, or one kernel row), so it is clamped there to fit an int without changing anything.
Geometry geometry(const ConvShape& s, int64_t nb, int64_t oy0, int64_t oy1) {
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
  g.oy0 = int(oy0);
  g.oy1 = int(oy1);
  g.ow = int(s.ow);
  g.P = int((oy1 - oy0) * s.ow);
  g.K = int(s.c * s.kh * s.kw);
  g.ncols = int(nb * g.P);
  return g;
}

// x and cols start at the chunk's first image.
__global__ void im2col_kernel(const Geometry g, const float* x, float* cols) {
  const int j = blockIdx.x * blockDim.x + threadIdx.x;
  if (j >= g.ncols) return;
  const int img = j / g.P, p = j - img * g.P, row = p / g.ow, ox = p - row * g.ow;
  const float* xi = x + int64_t(img) * g.c * g.h * g.w;
  const int iy0 = (g.oy0 + row) * g.sh - g.pt, ix0 = ox * g.sw - g.pl;
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

// The sum of the column entries that read input element (iy, ix) of one channel: ci_cols is
// the channel's first row in its image's columns, which hold the output rows [oy0, oy1).
__device__ __forceinline__ float gather_columns(const Geometry& g, const float* ci_cols, int iy, int ix) {
  float sum = 0.f;
  // The input row iy is read through kernel row ky by output row oy with oy*sh = iy + pt - ky*dh.
  for (int ky = 0; ky < g.kh; ++ky) {
    const int ty = iy + g.pt - ky * g.dh;
    if (ty < g.oy0 * g.sh) break;  // only falls as ky grows
    int oy = ty;
    if (g.sh != 1) {
      if (ty % g.sh != 0) continue;
      oy = ty / g.sh;
    }
    if (oy >= g.oy1) continue;
    for (int kx = 0; kx < g.kw; ++kx) {
      const int tx = ix + g.pl - kx * g.dw;
      if (tx < 0) break;
      int ox = tx;
      if (g.sw != 1) {
        if (tx % g.sw != 0) continue;
        ox = tx / g.sw;
      }
      if (ox >= g.ow) continue;
      sum += ci_cols[int64_t(ky * g.kw + kx) * g.ncols + (oy - g.oy0) * g.ow + ox];
    }
  }
  return sum;
}

// cols and dx start at the chunk's first image; planes = images * channels.
__global__ void col2im_kernel(const Geometry g, int planes, const float* cols, float* dx) {
  const int e = blockIdx.x * blockDim.x + threadIdx.x;
  if (e >= g.h * g.w) return;
  const int iy = e / g.w, ix = e - iy * g.w;
  for (int plane = blockIdx.y; plane < planes; plane += gridDim.y) {
    const int img = plane / g.c, ci = plane - img * g.c;
    const float* ci_cols = cols + int64_t(ci) * g.kh * g.kw * g.ncols + int64_t(img) * g.P;
    dx[int64_t(plane) * g.h * g.w + e] = gather_columns(g, ci_cols, iy, ix);
  }
}

// One image's columns; adds into the input rows [iy_begin, iy_begin + band) of each channel of dx.
__global__ void col2im_add_kernel(const Geometry g, int iy_begin, int band, const float* cols, float* dx) {
  const int e = blockIdx.x * blockDim.x + threadIdx.x;
  if (e >= band * g.w) return;
  const int r = e / g.w, iy = iy_begin + r, ix = e - r * g.w;
  for (int ci = blockIdx.y; ci < g.c; ci += gridDim.y) {
    const float* ci_cols = cols + int64_t(ci) * g.kh * g.kw * g.ncols;
    dx[(int64_t(ci) * g.h + iy) * g.w + ix] += gather_columns(g, ci_cols, iy, ix);
  }
}

void launch_im2col(const Geometry& g, const float* x, float* cols) {
  const int64_t row_blocks = (g.K + kRowsPerBlock - 1) / kRowsPerBlock;
  const dim3 grid(unsigned((g.ncols + kThreads - 1) / kThreads), unsigned(std::min(row_blocks, kMaxGridY)));
  im2col_kernel<<<grid, kThreads, 0, stream()>>>(g, x, cols);
  check_launch("im2col_kernel");
}

}  // namespace

void im2col(const ConvShape& s, const float* x, int64_t i0, int64_t nb, float* cols) {
  launch_im2col(geometry(s, nb, 0, s.oh), x + i0 * s.c * s.h * s.w, cols);
}

void im2col_rows(const ConvShape& s, const float* x, int64_t img, int64_t oy0, int64_t oy1, float* cols) {
  launch_im2col(geometry(s, 1, oy0, oy1), x + img * s.c * s.h * s.w, cols);
}

void col2im(const ConvShape& s, const float* cols, int64_t i0, int64_t nb, float* dx) {
  const Geometry g = geometry(s, nb, 0, s.oh);
  const int64_t planes = nb * s.c;
  const dim3 grid(unsigned((s.h * s.w + kThreads - 1) / kThreads), unsigned(std::min(planes, kMaxGridY)));
  col2im_kernel<<<grid, kThreads, 0, stream()>>>(g, int(planes), cols, dx + i0 * s.c * s.h * s.w);
  check_launch("col2im_kernel");
}

void col2im_rows_add(const ConvShape& s, const float* cols, int64_t img, int64_t oy0, int64_t oy1, float* dx) {
  // Output rows [oy0, oy1) read the input rows from oy0*sh - pt through (oy1-1)*sh - pt + (kh-1)*dh.
  const int64_t first = std::max<int64_t>(0, oy0 * s.stride_h - s.pad_top);
  const int64_t last = std::min(s.h - 1, (oy1 - 1) * s.stride_h - s.pad_top + (s.kh - 1) * s.dilation_h);
  if (last < first) return;  // those rows read only padding
  const int64_t band = last - first + 1;
  const dim3 grid(unsigned((band * s.w + kThreads - 1) / kThreads), unsigned(std::min(s.c, kMaxGridY)));
  col2im_add_kernel<<<grid, kThreads, 0, stream()>>>(geometry(s, 1, oy0, oy1), int(first), int(band), cols,
                                                     dx + img * s.c * s.h * s.w);
  check_launch("col2im_add_kernel");
}

}  // namespace convkit::cuda
