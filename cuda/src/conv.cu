// conv2d forward / backward on CUDA: im2col + batched sgemm over the groups, with exactly the
// semantics of convkit::conv2d_forward / conv2d_backward (native/src/conv.cpp).
//
// The batch is cut into chunks of whole images, as many as keep the columns plus the GEMM
// output of one chunk under kWorkspaceFloats (one workspace() call per op, carved in two).
// Forward, per chunk: im2col -> cols [K, nb*P]; per group W_g [og, Kg] x cols_g ->
// tmp [og, nb*P]; one kernel scatters tmp to y[n, o, p] adding the bias. A 1x1, stride-1,
// unpadded conv skips im2col: x[n] already is the column matrix, so one batched GEMM over
// the images writes y directly.
// Backward, per chunk: dy is gathered to dyT [o, nb*P]; dW_g (+)= dyT_g x cols_g^T (beta 0 on
// the first chunk, 1 after); dcols_g = W_g^T x dyT_g (into the cols buffer) then col2im into
// dx. db is a separate reduction, one block per output channel, accumulated in double.
// An image too large for that ((K + o) * P floats past the bound) is cut by output rows, as
// the CPU does: pieces of [oy0, oy1) whose columns alone fit, one image at a time. The GEMMs
// read and write those rows of y and dy in place (ld P), so there is no tmp, no scatter or
// gather; the bias is added once at the end. dx is zeroed first and each piece's col2im adds
// the contributions of its own output rows; dW accumulates over every piece.
#include <algorithm>
#include <atomic>
#include <string>

#include "convkit/conv.h"
#include "convkit/error.h"
#include "convkit_cuda/device.h"
#include "convkit_cuda/kernels.h"
#include "im2col.cuh"
#include "launch.cuh"
#include "sgemm_internal.h"

namespace convkit::cuda {
namespace {

constexpr int64_t kWorkspaceFloats = int64_t(64) << 20;  // 256 MiB
constexpr int64_t kIndexLimit = int64_t(1) << 30;        // see im2col.cuh
constexpr int64_t kMaxGridY = 65535;

// kWorkspaceFloats unless a test lowers it to reach the row pieces at small sizes.
std::atomic<int64_t> g_workspace_floats{kWorkspaceFloats};

struct Geo {
  int64_t cg, og, kg, K, P;
  bool is1x1;
};

Geo geometry(const ConvShape& s) {
  Geo g;
  g.cg = s.c / s.groups;
  g.og = s.o / s.groups;
  g.kg = g.cg * s.kh * s.kw;
  g.K = s.c * s.kh * s.kw;
  g.P = s.oh * s.ow;
  g.is1x1 = s.kh == 1 && s.kw == 1 && s.stride_h == 1 && s.stride_w == 1 && s.pad_top == 0 && s.pad_left == 0 &&
            s.pad_bottom == 0 && s.pad_right == 0;
  return g;
}

void check_ptr(const void* p, const char* what) {
  if (!p) throw_type(std::string("conv2d: ") + what + " must not be null");
}

// validate() bounds every product used here by 2^40, so none of these overflow.
void check_index_range(const ConvShape& s) {
  const int64_t sizes[] = {s.c * s.kh * s.kw, s.h + s.pad_top + s.pad_bottom, s.w + s.pad_left + s.pad_right,
                           s.h * s.w, s.oh * s.ow, s.o};
  for (int64_t v : sizes) {
    if (v >= kIndexLimit)
      throw_range("conv2d: the CUDA backend indexes one image with 32-bit integers, and a size of " +
                  std::to_string(v) + " (channels x kernel, padded extent, input or output plane, or out channels) "
                  "is 2^30 or more");
  }
}

bool image_fits(const ConvShape& s, const Geo& g, int64_t budget) { return (g.K + s.o) * g.P <= budget; }

// Whole images per chunk, evened out over the chunks the workspace bound requires.
int64_t images_per_chunk(const ConvShape& s, const Geo& g, int64_t budget) {
  const int64_t most = std::max<int64_t>(1, budget / ((g.K + s.o) * g.P));
  const int64_t chunks = (s.n + most - 1) / most;
  return (s.n + chunks - 1) / chunks;
}

// Output rows per piece of an image that does not fit: as many as keep its columns under the
// bound, at least one (validate() caps one row's columns, K*ow, at 2^26 floats).
int64_t rows_per_piece(const ConvShape& s, const Geo& g, int64_t budget) {
  return std::clamp<int64_t>(budget / (g.K * s.ow), 1, s.oh);
}

// The columns' share of the workspace, rounded so that the second part stays 256-byte aligned.
int64_t cols_floats(const Geo& g, int64_t nb) { return (g.K * nb * g.P + 63) / 64 * 64; }

dim3 chunk_grid(int64_t ncols, int64_t rows) {
  return dim3(unsigned((ncols + kThreads - 1) / kThreads), unsigned(std::min(rows, kMaxGridY)));
}

// y[img, o, p] = tmp[o, img*P + p] (+ bias[o]); y starts at the chunk's first image.
__global__ void scatter_kernel(const float* tmp, const float* bias, int outs, int P, int ncols, float* y) {
  const int j = blockIdx.x * blockDim.x + threadIdx.x;
  if (j >= ncols) return;
  const int img = j / P, p = j - img * P;
  for (int o = blockIdx.y; o < outs; o += gridDim.y) {
    const float v = tmp[int64_t(o) * ncols + j];
    y[(int64_t(img) * outs + o) * P + p] = bias ? v + bias[o] : v;
  }
}

// dyT[o, img*P + p] = dy[img, o, p]; dy starts at the chunk's first image.
__global__ void gather_kernel(const float* dy, int outs, int P, int ncols, float* dyT) {
  const int j = blockIdx.x * blockDim.x + threadIdx.x;
  if (j >= ncols) return;
  const int img = j / P, p = j - img * P;
  for (int o = blockIdx.y; o < outs; o += gridDim.y)
    dyT[int64_t(o) * ncols + j] = dy[(int64_t(img) * outs + o) * P + p];
}

// y[plane, p] += bias[plane % outs] over n*outs planes of P elements.
__global__ void add_bias_kernel(float* y, const float* bias, int outs, int P, int64_t planes) {
  const int p = blockIdx.x * blockDim.x + threadIdx.x;
  if (p >= P) return;
  for (int64_t plane = blockIdx.y; plane < planes; plane += gridDim.y) y[plane * P + p] += bias[plane % outs];
}

// db[o] = sum over images and positions of dy[img, o, p]; one block per channel, fixed order.
__global__ void bias_grad_kernel(const float* dy, int64_t n, int outs, int P, float* db) {
  const int o = blockIdx.x;
  double acc = 0;
  for (int64_t img = 0; img < n; ++img) {
    const float* plane = dy + (img * outs + o) * P;
    for (int p = threadIdx.x; p < P; p += blockDim.x) acc += plane[p];
  }
  for (int off = 16; off > 0; off /= 2) acc += __shfl_down_sync(0xffffffffu, acc, off);
  __shared__ double warp_sums[kThreads / 32];
  if (threadIdx.x % 32 == 0) warp_sums[threadIdx.x / 32] = acc;
  __syncthreads();
  if (threadIdx.x == 0) {
    double total = 0;
    for (int w = 0; w < kThreads / 32; ++w) total += warp_sums[w];
    db[o] = float(total);
  }
}

void add_bias(const ConvShape& s, const Geo& g, const float* bias, float* y) {
  const int64_t planes = s.n * s.o;
  add_bias_kernel<<<chunk_grid(g.P, planes), kThreads, 0, stream()>>>(y, bias, int(s.o), int(g.P), planes);
  check_launch("add_bias_kernel");
}

void forward_1x1(const ConvShape& s, const Geo& g, const float* x, const float* w, const float* bias, float* y) {
  for (int64_t gi = 0; gi < s.groups; ++gi)
    sgemm_batched({false, false, g.og, g.P, g.cg, 1.f, w + gi * g.og * g.cg, g.cg, 0, x + gi * g.cg * g.P, g.P,
                   s.c * g.P, 0.f, y + gi * g.og * g.P, g.P, s.o * g.P, s.n});
  if (bias) add_bias(s, g, bias, y);
}

// Each image in pieces of `rows` output rows: cols [K, ncols], and the GEMM writes rows
// [oy0, oy1) of every output plane of y in place.
void forward_rows(const ConvShape& s, const Geo& g, int64_t rows, const float* x, const float* w, const float* bias,
                  float* y) {
  float* cols = static_cast<float*>(workspace(size_t(g.K * rows * s.ow) * sizeof(float)));
  for (int64_t img = 0; img < s.n; ++img) {
    for (int64_t oy0 = 0; oy0 < s.oh; oy0 += rows) {
      const int64_t oy1 = std::min(s.oh, oy0 + rows), ncols = (oy1 - oy0) * s.ow;
      im2col_rows(s, x, img, oy0, oy1, cols);
      sgemm_batched({false, false, g.og, ncols, g.kg, 1.f, w, g.kg, g.og * g.kg, cols, ncols, g.kg * ncols, 0.f,
                     y + img * s.o * g.P + oy0 * s.ow, g.P, g.og * g.P, s.groups});
    }
  }
  if (bias) add_bias(s, g, bias, y);
}

// The adjoint of forward_rows: rows [oy0, oy1) of dy are read in place (ld P) as dY [o, ncols].
void backward_rows(const ConvShape& s, const Geo& g, int64_t rows, const float* x, const float* w, const float* dy,
                   float* dx, float* dw) {
  float* cols = static_cast<float*>(workspace(size_t(g.K * rows * s.ow) * sizeof(float)));
  if (dx) fill_zero(dx, size_t(s.n * s.c * s.h * s.w) * sizeof(float));  // every piece adds its share
  bool first = true;
  for (int64_t img = 0; img < s.n; ++img) {
    for (int64_t oy0 = 0; oy0 < s.oh; oy0 += rows) {
      const int64_t oy1 = std::min(s.oh, oy0 + rows), ncols = (oy1 - oy0) * s.ow;
      const float* dy_rows = dy + img * s.o * g.P + oy0 * s.ow;
      if (dw) {
        im2col_rows(s, x, img, oy0, oy1, cols);
        sgemm_batched({false, true, g.og, g.kg, ncols, 1.f, dy_rows, g.P, g.og * g.P, cols, ncols, g.kg * ncols,
                       first ? 0.f : 1.f, dw, g.kg, g.og * g.kg, s.groups});
      }
      if (dx) {
        // As in the chunks, dcols reuses the columns once the dW product is queued.
        sgemm_batched({true, false, g.kg, ncols, g.og, 1.f, w, g.kg, g.og * g.kg, dy_rows, g.P, g.og * g.P, 0.f,
                       cols, ncols, g.kg * ncols, s.groups});
        col2im_rows_add(s, cols, img, oy0, oy1, dx);
      }
      first = false;
    }
  }
}

}  // namespace

void set_conv_workspace_limit_for_testing(int64_t floats) {
  g_workspace_floats.store(floats > 0 ? floats : kWorkspaceFloats, std::memory_order_relaxed);
}

void conv2d_forward(const ConvShape& s, const float* x, const float* w, const float* bias, float* y) {
  validate(s);
  check_ptr(x, "input");
  check_ptr(w, "weight");
  check_ptr(y, "output");
  check_index_range(s);
  const Geo g = geometry(s);
  if (g.is1x1) {
    forward_1x1(s, g, x, w, bias, y);
    return;
  }
  const int64_t budget = g_workspace_floats.load(std::memory_order_relaxed);
  if (!image_fits(s, g, budget)) {
    forward_rows(s, g, rows_per_piece(s, g, budget), x, w, bias, y);
    return;
  }
  const int64_t nb = images_per_chunk(s, g, budget);
  float* cols = static_cast<float*>(workspace(size_t(cols_floats(g, nb) + s.o * nb * g.P) * sizeof(float)));
  float* tmp = cols + cols_floats(g, nb);
  for (int64_t i0 = 0; i0 < s.n; i0 += nb) {
    const int64_t ncols = std::min(nb, s.n - i0) * g.P;
    im2col(s, x, i0, std::min(nb, s.n - i0), cols);
    sgemm_batched({false, false, g.og, ncols, g.kg, 1.f, w, g.kg, g.og * g.kg, cols, ncols, g.kg * ncols, 0.f, tmp,
                   ncols, g.og * ncols, s.groups});
    scatter_kernel<<<chunk_grid(ncols, s.o), kThreads, 0, stream()>>>(tmp, bias, int(s.o), int(g.P), int(ncols),
                                                                      y + i0 * s.o * g.P);
    check_launch("scatter_kernel");
  }
}

void conv2d_backward(const ConvShape& s, const float* x, const float* w, const float* dy, float* dx, float* dw,
                     float* db) {
  validate(s);
  check_ptr(dy, "output gradient");
  if (dw) check_ptr(x, "input");
  if (dx) check_ptr(w, "weight");
  check_index_range(s);
  const Geo g = geometry(s);
  if (db) {
    bias_grad_kernel<<<unsigned(s.o), kThreads, 0, stream()>>>(dy, s.n, int(s.o), int(g.P), db);
    check_launch("bias_grad_kernel");
  }
  if (!dx && !dw) return;
  const int64_t budget = g_workspace_floats.load(std::memory_order_relaxed);
  if (!image_fits(s, g, budget)) {
    backward_rows(s, g, rows_per_piece(s, g, budget), x, w, dy, dx, dw);
    return;
  }
  const int64_t nb = images_per_chunk(s, g, budget);
  float* cols = static_cast<float*>(workspace(size_t(cols_floats(g, nb) + s.o * nb * g.P) * sizeof(float)));
  float* dyT = cols + cols_floats(g, nb);
  for (int64_t i0 = 0; i0 < s.n; i0 += nb) {
    const int64_t cnt = std::min(nb, s.n - i0), ncols = cnt * g.P;
    gather_kernel<<<chunk_grid(ncols, s.o), kThreads, 0, stream()>>>(dy + i0 * s.o * g.P, int(s.o), int(g.P),
                                                                     int(ncols), dyT);
    check_launch("gather_kernel");
    if (dw) {
      im2col(s, x, i0, cnt, cols);
      sgemm_batched({false, true, g.og, g.kg, ncols, 1.f, dyT, ncols, g.og * ncols, cols, ncols, g.kg * ncols,
                     i0 == 0 ? 0.f : 1.f, dw, g.kg, g.og * g.kg, s.groups});
    }
    if (dx) {
      // The columns are no longer needed (the dW product is queued before), so dcols reuses them.
      sgemm_batched({true, false, g.kg, ncols, g.og, 1.f, w, g.kg, g.og * g.kg, dyT, ncols, g.og * ncols, 0.f, cols,
                     ncols, g.kg * ncols, s.groups});
      col2im(s, cols, i0, cnt, dx);
    }
  }
}

}  // namespace convkit::cuda
