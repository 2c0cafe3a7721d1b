// Dropout and the elementwise helpers of the autograd and ops layers: grid-stride loops, one
// element per thread step, and for reduce_2d deterministic sums (fixed order, accumulated in
// double, no atomics) so that a gradient does not change from run to run.
#include <algorithm>
#include <climits>
#include <string>

#include "convkit/error.h"
#include "convkit_cuda/kernels.h"
#include "launch.cuh"

namespace convkit::cuda {
namespace {

void check_n(const char* op, int64_t n) {
  if (n < 0) throw_range(std::string(op) + ": element count must be >= 0, got " + std::to_string(n));
}

// A product, not a select, so that NaN inputs stay NaN where the mask drops them (PyTorch).
__global__ void dropout_kernel(const float* x, const uint8_t* mask, float scale, float* y, int64_t n) {
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    y[i] = x[i] * (mask[i] ? scale : 0.f);
}

__global__ void fill_kernel(float* x, float value, int64_t n) {
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    x[i] = value;
}

__global__ void axpy_kernel(float alpha, const float* x, float* y, int64_t n) {
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    y[i] += alpha * x[i];
}

// y = x * alpha; y may alias x (scale in place, and reduce_2d's same-shape case).
__global__ void scale_kernel(const float* x, float alpha, float* y, int64_t n) {
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    y[i] = x[i] * alpha;
}

// I is uint32_t when m*n fits (cheap division) and int64_t otherwise.
template <class I>
__global__ void broadcast_kernel(const float* c, bool row_bcast, bool col_bcast, I cols, I n, I total, float* y) {
  for (I idx = I(blockIdx.x) * blockDim.x + threadIdx.x; idx < total; idx += I(gridDim.x) * blockDim.x) {
    const I i = idx / n, j = idx % n;
    y[idx] = c[(row_bcast ? 0 : i) * cols + (col_bcast ? 0 : j)];
  }
}

// Column sums of in [m, n] over the rows [blockIdx.y * chunk_rows, +chunk_rows). Block
// (32, 8): x walks the columns (coalesced), y interleaves rows; the 8 partial sums of a
// column are added in a fixed order. Writes partial[blockIdx.y * n + j] when partial is
// non-null, else out[j] = float(sum) * beta.
constexpr int kColTile = 32, kColRows = 8;

template <class T>
__global__ void column_sums_kernel(const T* in, int64_t m, int64_t n, int64_t chunk_rows, double* partial, float* out,
                                   float beta) {
  __shared__ double tile[kColRows][kColTile + 1];
  const int64_t j = int64_t(blockIdx.x) * kColTile + threadIdx.x;
  const int64_t i0 = int64_t(blockIdx.y) * chunk_rows, i1 = min(m, i0 + chunk_rows);
  double s = 0;
  if (j < n)
    for (int64_t i = i0 + threadIdx.y; i < i1; i += kColRows) s += double(in[i * n + j]);
  tile[threadIdx.y][threadIdx.x] = s;
  __syncthreads();
  if (threadIdx.y != 0 || j >= n) return;
  for (int r = 1; r < kColRows; ++r) s += tile[r][threadIdx.x];
  if (partial)
    partial[int64_t(blockIdx.y) * n + j] = s;
  else
    out[j] = float(s) * beta;
}

// Row sums of in [rows, len], each row cut into `chunks` pieces of chunk_len; one warp per
// (row, piece), lanes strided, then a fixed shuffle tree. Writes partial[row * chunks + piece]
// when partial is non-null (then chunks > 1), else out[row] = float(sum) * beta (chunks == 1).
template <class T>
__global__ void row_sums_kernel(const T* in, int64_t rows, int64_t len, int64_t chunk_len, int64_t chunks,
                                double* partial, float* out, float beta) {
  const int lane = threadIdx.x & 31;
  const int64_t warps = int64_t(gridDim.x) * (blockDim.x / 32);
  for (int64_t p = (int64_t(blockIdx.x) * blockDim.x + threadIdx.x) / 32; p < rows * chunks; p += warps) {
    const int64_t r = p / chunks, begin = (p % chunks) * chunk_len, end = min(len, begin + chunk_len);
    const T* row = in + r * len;
    double s = 0;
    for (int64_t t = begin + lane; t < end; t += 32) s += double(row[t]);
    for (int offset = 16; offset > 0; offset >>= 1) s += __shfl_down_sync(0xffffffffu, s, offset);
    if (lane != 0) continue;
    if (partial)
      partial[p] = s;
    else
      out[r] = float(s) * beta;
  }
}

// The piece length for a sum over len values: at least min_chunk, and few enough pieces (at
// most max_chunks) for the second pass. It depends on the shape alone, so the sums are
// reproducible on any device.
int64_t chunk_length(int64_t len, int64_t min_chunk, int64_t max_chunks) {
  return std::max(min_chunk, (len + max_chunks - 1) / max_chunks);
}

void column_sums(const float* dy, int64_t m, int64_t n, float beta, float* dc) {
  const int64_t chunk_rows = chunk_length(m, 256, 1024), chunks = (m + chunk_rows - 1) / chunk_rows;
  const dim3 block(kColTile, kColRows);
  const unsigned col_blocks = static_cast<unsigned>((n + kColTile - 1) / kColTile);
  if (chunks == 1) {
    column_sums_kernel<float><<<dim3(col_blocks, 1), block, 0, stream()>>>(dy, m, n, m, nullptr, dc, beta);
    check_launch("reduce_2d columns");
    return;
  }
  Scratch partial(size_t(chunks * n) * sizeof(double));
  const dim3 grid(col_blocks, static_cast<unsigned>(chunks));
  column_sums_kernel<float><<<grid, block, 0, stream()>>>(dy, m, n, chunk_rows, partial.as<double>(), nullptr, beta);
  check_launch("reduce_2d column pieces");
  column_sums_kernel<double><<<dim3(col_blocks, 1), block, 0, stream()>>>(partial.as<double>(), chunks, n, chunks,
                                                                           nullptr, dc, beta);
  check_launch("reduce_2d columns");
}

void row_sums(const float* dy, int64_t rows, int64_t len, float beta, float* dc) {
  const int64_t chunk_len = chunk_length(len, 2048, 4096), chunks = (len + chunk_len - 1) / chunk_len;
  if (chunks == 1) {
    row_sums_kernel<float><<<grid_for(rows * 32), kThreads, 0, stream()>>>(dy, rows, len, len, 1, nullptr, dc, beta);
    check_launch("reduce_2d rows");
    return;
  }
  Scratch partial(size_t(rows * chunks) * sizeof(double));
  row_sums_kernel<float><<<grid_for(rows * chunks * 32), kThreads, 0, stream()>>>(dy, rows, len, chunk_len, chunks,
                                                                                  partial.as<double>(), nullptr, beta);
  check_launch("reduce_2d row pieces");
  row_sums_kernel<double><<<grid_for(rows * 32), kThreads, 0, stream()>>>(partial.as<double>(), rows, chunks, chunks, 1,
                                                                          nullptr, dc, beta);
  check_launch("reduce_2d rows");
}

void check_broadcast(const char* op, int64_t rows, int64_t cols, int64_t m, int64_t n) {
  if (m < 0 || n < 0 || (rows != 1 && rows != m) || (cols != 1 && cols != n))
    throw_range(std::string(op) + ": [" + std::to_string(rows) + ", " + std::to_string(cols) +
                "] does not broadcast to [" + std::to_string(m) + ", " + std::to_string(n) + "]");
}

}  // namespace

void dropout_apply(const float* x, const uint8_t* mask, float scale, float* y, int64_t n) {
  check_n("dropout", n);
  if (n == 0) return;
  need(x, "dropout", "x");
  need(mask, "dropout", "mask");
  need(y, "dropout", "y");
  dropout_kernel<<<grid_for(n), kThreads, 0, stream()>>>(x, mask, scale, y, n);
  check_launch("dropout");
}

void fill(float* x, float value, int64_t n) {
  check_n("fill", n);
  if (n == 0) return;
  need(x, "fill", "x");
  fill_kernel<<<grid_for(n), kThreads, 0, stream()>>>(x, value, n);
  check_launch("fill");
}

void axpy(float alpha, const float* x, float* y, int64_t n) {
  check_n("axpy", n);
  if (n == 0) return;
  need(x, "axpy", "x");
  need(y, "axpy", "y");
  axpy_kernel<<<grid_for(n), kThreads, 0, stream()>>>(alpha, x, y, n);
  check_launch("axpy");
}

void scale(float* x, float alpha, int64_t n) {
  check_n("scale", n);
  if (n == 0) return;
  need(x, "scale", "x");
  scale_kernel<<<grid_for(n), kThreads, 0, stream()>>>(x, alpha, x, n);
  check_launch("scale");
}

void broadcast_2d(const float* c, int64_t rows, int64_t cols, int64_t m, int64_t n, float* y) {
  check_broadcast("broadcast_2d", rows, cols, m, n);
  const int64_t total = m * n;
  if (total == 0) return;
  need(c, "broadcast_2d", "c");
  need(y, "broadcast_2d", "y");
  if (rows == m && cols == n) {
    copy_on_device(y, c, size_t(total) * sizeof(float));
    return;
  }
  const bool row_bcast = rows == 1, col_bcast = cols == 1;
  if (total <= INT_MAX) {
    broadcast_kernel<uint32_t><<<grid_for(total), kThreads, 0, stream()>>>(c, row_bcast, col_bcast, uint32_t(cols),
                                                                           uint32_t(n), uint32_t(total), y);
  } else {
    broadcast_kernel<int64_t><<<grid_for(total), kThreads, 0, stream()>>>(c, row_bcast, col_bcast, cols, n, total, y);
  }
  check_launch("broadcast_2d");
}

void reduce_2d(const float* dy, int64_t rows, int64_t cols, int64_t m, int64_t n, float beta, float* dc) {
  check_broadcast("reduce_2d", rows, cols, m, n);
  const int64_t out = rows * cols;
  if (out == 0) return;
  need(dc, "reduce_2d", "dc");
  if (m * n == 0) {
    fill(dc, 0.f * beta, out);  // a sum over nothing, scaled as the host path does
    return;
  }
  need(dy, "reduce_2d", "dy");
  if (rows == m && cols == n) {
    scale_kernel<<<grid_for(out), kThreads, 0, stream()>>>(dy, beta, dc, out);
    check_launch("reduce_2d");
  } else if (cols == 1) {
    row_sums(dy, rows, m * n / rows, beta, dc);  // [m, 1] sums each row; [1, 1] sums everything as one row
  } else {
    column_sums(dy, m, n, beta, dc);  // [1, n]
  }
}

}  // namespace convkit::cuda
