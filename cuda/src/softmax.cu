// Softmax and log-softmax over [outer, dim, inner], the same max-subtracted steps as the CPU
// core (native/src/activation.cpp). inner == 1: one warp per row (one block for rows longer
// than kWarpRowMax) with shuffle reductions. inner > 1: one thread per (outer, inner) column
// looping over dim, so neighbouring threads read neighbouring addresses.
#include <string>

#include "convkit/error.h"
#include "convkit_cuda/kernels.h"
#include "launch.cuh"
#include "reduce.cuh"

namespace convkit::cuda {
namespace {

// y = exp(x - m) / s, or (x - m) - log s for log-softmax; m is the row max (NaN if any is NaN).
template <bool kLog, bool kWarp>
__global__ void softmax_rows_fwd(const float* x, float* y, int64_t rows, int64_t dim) {
  using G = RowGroup<kWarp>;
  __shared__ float smem[32];
  for (int64_t r = G::first_row(); r < rows; r += G::row_stride()) {
    const float* xr = x + r * dim;
    float* yr = y + r * dim;
    float m, s;
    row_max_expsum<kWarp>(xr, kLog ? nullptr : yr, dim, smem, m, s);
    if (kLog) {
      const float ls = logf(s);
      for (int64_t j = G::rank(); j < dim; j += G::size()) yr[j] = (xr[j] - m) - ls;
    } else {
      const float inv = 1.f / s;
      for (int64_t j = G::rank(); j < dim; j += G::size()) yr[j] *= inv;
    }
  }
}

// softmax: dx = y (dy - sum dy*y); log-softmax: dx = dy - exp(y) sum dy.
template <bool kLog, bool kWarp>
__global__ void softmax_rows_bwd(const float* y, const float* dy, float* dx,
                                 int64_t rows, int64_t dim) {
  using G = RowGroup<kWarp>;
  __shared__ float smem[32];
  for (int64_t r = G::first_row(); r < rows; r += G::row_stride()) {
    const float* yr = y + r * dim;
    const float* gr = dy + r * dim;
    float* dr = dx + r * dim;
    float s = 0.f;
    for (int64_t j = G::rank(); j < dim; j += G::size()) s = kLog ? s + gr[j] : fmaf(gr[j], yr[j], s);
    s = G::reduce(s, SumOp(), smem);
    for (int64_t j = G::rank(); j < dim; j += G::size())
      dr[j] = kLog ? gr[j] - __fmul_rn(expf(yr[j]), s) : yr[j] * (gr[j] - s);
  }
}

template <bool kLog>
__global__ void softmax_cols_fwd(const float* x, float* y, int64_t outer, int64_t dim,
                                 int64_t inner) {
  const int64_t cols = outer * inner, step = int64_t(gridDim.x) * blockDim.x;
  for (int64_t col = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; col < cols; col += step) {
    const int64_t base = (col / inner) * dim * inner + col % inner;
    float m = x[base];
    for (int64_t d = 1; d < dim; ++d) m = max_nan(m, x[base + d * inner]);
    float s = 0.f;
    for (int64_t d = 0; d < dim; ++d) {
      float e = expf(x[base + d * inner] - m);
      if (!kLog) y[base + d * inner] = e;
      s += e;
    }
    if (kLog) {
      const float ls = logf(s);
      for (int64_t d = 0; d < dim; ++d) y[base + d * inner] = (x[base + d * inner] - m) - ls;
    } else {
      const float inv = 1.f / s;
      for (int64_t d = 0; d < dim; ++d) y[base + d * inner] *= inv;
    }
  }
}

template <bool kLog>
__global__ void softmax_cols_bwd(const float* y, const float* dy, float* dx,
                                 int64_t outer, int64_t dim, int64_t inner) {
  const int64_t cols = outer * inner, step = int64_t(gridDim.x) * blockDim.x;
  for (int64_t col = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; col < cols; col += step) {
    const int64_t base = (col / inner) * dim * inner + col % inner;
    float s = 0.f;
    for (int64_t d = 0; d < dim; ++d) {
      const int64_t i = base + d * inner;
      s = kLog ? s + dy[i] : fmaf(dy[i], y[i], s);
    }
    for (int64_t d = 0; d < dim; ++d) {
      const int64_t i = base + d * inner;
      dx[i] = kLog ? dy[i] - __fmul_rn(expf(y[i]), s) : y[i] * (dy[i] - s);
    }
  }
}

// Throws on a negative shape; true when there is work.
bool check_shape(const char* op, int64_t outer, int64_t dim, int64_t inner) {
  if (outer < 0 || dim < 0 || inner < 0)
    throw_range(std::string(op) + ": shape [outer, dim, inner] must be non-negative, got [" + std::to_string(outer) +
                ", " + std::to_string(dim) + ", " + std::to_string(inner) + "]");
  return outer > 0 && dim > 0 && inner > 0;
}

template <bool kLog>
void forward(const float* x, float* y, int64_t outer, int64_t dim, int64_t inner) {
  const char* op = kLog ? "log_softmax" : "softmax";
  if (!check_shape(op, outer, dim, inner)) return;
  if (inner == 1) {
    const unsigned blocks = row_blocks(outer, dim, kThreads, 65535LL * 8);
    if (dim <= kWarpRowMax) softmax_rows_fwd<kLog, true><<<blocks, kThreads, 0, stream()>>>(x, y, outer, dim);
    else softmax_rows_fwd<kLog, false><<<blocks, kThreads, 0, stream()>>>(x, y, outer, dim);
  } else {
    softmax_cols_fwd<kLog><<<grid_for(outer * inner), kThreads, 0, stream()>>>(x, y, outer, dim, inner);
  }
  check_launch(op);
}

template <bool kLog>
void backward(const float* y, const float* dy, float* dx, int64_t outer, int64_t dim, int64_t inner) {
  const char* op = kLog ? "log_softmax_backward" : "softmax_backward";
  if (!check_shape(op, outer, dim, inner)) return;
  if (inner == 1) {
    const unsigned blocks = row_blocks(outer, dim, kThreads, 65535LL * 8);
    if (dim <= kWarpRowMax) softmax_rows_bwd<kLog, true><<<blocks, kThreads, 0, stream()>>>(y, dy, dx, outer, dim);
    else softmax_rows_bwd<kLog, false><<<blocks, kThreads, 0, stream()>>>(y, dy, dx, outer, dim);
  } else {
    softmax_cols_bwd<kLog><<<grid_for(outer * inner), kThreads, 0, stream()>>>(y, dy, dx, outer, dim, inner);
  }
  check_launch(op);
}

}  // namespace

void softmax_forward(const float* x, float* y, int64_t outer, int64_t dim, int64_t inner) {
  forward<false>(x, y, outer, dim, inner);
}
void log_softmax_forward(const float* x, float* y, int64_t outer, int64_t dim, int64_t inner) {
  forward<true>(x, y, outer, dim, inner);
}
void softmax_backward(const float* y, const float* dy, float* dx, int64_t outer, int64_t dim, int64_t inner) {
  backward<false>(y, dy, dx, outer, dim, inner);
}
void log_softmax_backward(const float* y, const float* dy, float* dx, int64_t outer, int64_t dim, int64_t inner) {
  backward<true>(y, dy, dx, outer, dim, inner);
}

}  // namespace convkit::cuda
