// Batch normalisation on x viewed as [n, c, hw]. The per-channel sums (statistics and the
// backward's dy sums) accumulate in double without atomics, so results are reproducible:
// each channel's n*hw values are cut into pieces whose count depends on the shape alone, a
// block sums each piece with a fixed reduction tree, and a warp per channel adds the pieces in
// order. The normalisation and dx are elementwise.
#include <algorithm>
#include <climits>
#include <cmath>
#include <string>

#include "convkit/error.h"
#include "convkit_cuda/kernels.h"
#include "launch.cuh"

namespace convkit::cuda {
namespace {

// A piece covers at least kMinPiece values (enough work per block), and a channel has at most
// kMaxPieces pieces (the warp that adds them stays short).
constexpr int64_t kMinPiece = 8192, kMaxPieces = 256;

struct Pieces {
  int64_t len, count;
};

Pieces split_channel(int64_t values) {
  const int64_t len = std::max(kMinPiece, (values + kMaxPieces - 1) / kMaxPieces);
  return {len, std::max<int64_t>(1, (values + len - 1) / len)};
}

void validate(const BatchNormShape& s, const char* op) {
  if (s.n < 0 || s.c < 0 || s.hw < 0)
    throw_range(std::string(op) + ": shape [" + std::to_string(s.n) + ", " + std::to_string(s.c) + ", " +
                std::to_string(s.hw) + "] must be non-negative");
}

// Blocks for the pieces kernels: y over a channel's pieces, x over channels (the kernels loop
// over channels past the grid's limit).
dim3 pieces_grid(int64_t c, const Pieces& pieces) {
  return dim3(static_cast<unsigned>(std::min<int64_t>(c, INT_MAX)), static_cast<unsigned>(pieces.count));
}

// The sum over the block (kThreads threads) in a fixed order, valid in thread 0. Every thread
// must call it; scratch holds one double per warp.
__device__ double block_sum(double v, double* scratch) {
  for (int offset = 16; offset > 0; offset >>= 1) v += __shfl_down_sync(0xffffffffu, v, offset);
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  if (lane == 0) scratch[warp] = v;
  __syncthreads();
  v = 0;
  if (warp == 0) {
    v = lane < int(blockDim.x >> 5) ? scratch[lane] : 0.0;
    for (int offset = 16; offset > 0; offset >>= 1) v += __shfl_down_sync(0xffffffffu, v, offset);
  }
  __syncthreads();  // scratch may be reused at once
  return v;
}

// The sum over the warp in a fixed order, the same value in every lane.
__device__ double warp_sum(double v) {
  for (int offset = 16; offset > 0; offset >>= 1) v += __shfl_down_sync(0xffffffffu, v, offset);
  return __shfl_sync(0xffffffffu, v, 0);
}

// Calls f(offset of x) for this thread's share of values [k0, k1) of channel ch, k counting the
// channel's values in (image, position) order. Steps by blockDim.x without a division per value.
template <class F>
__device__ void for_piece(int64_t ch, int64_t c, int64_t hw, int64_t k0, int64_t k1, F&& f) {
  int64_t k = k0 + threadIdx.x;
  if (k >= k1) return;  // also keeps hw == 0 out of the divisions
  int64_t i = k / hw, j = k % hw;
  const int64_t di = blockDim.x / hw, dj = blockDim.x % hw;
  for (; k < k1; k += blockDim.x) {
    f((i * c + ch) * hw + j);
    i += di;
    j += dj;
    if (j >= hw) {
      j -= hw;
      ++i;
    }
  }
}

// Per piece (blockIdx.y) of each channel: the sum of its values and, about the piece's own
// mean, the sum of squared deviations (two passes; the second re-reads the piece from cache).
__global__ void stats_pieces_kernel(const float* x, int64_t c, int64_t hw, int64_t values, Pieces pieces,
                                    double2* partial) {
  __shared__ double scratch[32];
  __shared__ double piece_mean;
  const int64_t k0 = int64_t(blockIdx.y) * pieces.len, k1 = min(values, k0 + pieces.len);
  for (int64_t ch = blockIdx.x; ch < c; ch += gridDim.x) {
    double sum = 0;
    for_piece(ch, c, hw, k0, k1, [&](int64_t off) { sum += double(x[off]); });
    sum = block_sum(sum, scratch);
    if (threadIdx.x == 0) piece_mean = sum / double(k1 - k0);
    __syncthreads();
    const double m = piece_mean;
    double squares = 0;
    for_piece(ch, c, hw, k0, k1, [&](int64_t off) {
      const double d = double(x[off]) - m;
      squares += d * d;
    });
    squares = block_sum(squares, scratch);
    if (threadIdx.x == 0) partial[ch * pieces.count + blockIdx.y] = make_double2(sum, squares);
  }
}

// A warp per channel combines its pieces (Chan et al.: the squares about each piece's mean plus
// the piece's size times its mean's squared distance from the channel mean), then finishes as
// lib/ops/batchnorm.ts does on the host: inv_std from the float variance, and the running
// statistics moved in double with the unbiased variance count / (count - 1).
__global__ void train_finish_kernel(const double2* partial, int64_t c, int64_t values, Pieces pieces, float eps,
                                    float momentum, float* mean, float* inv_std, float* running_mean,
                                    float* running_var) {
  const int lane = threadIdx.x & 31;
  const int64_t warps = int64_t(gridDim.x) * (blockDim.x / 32);
  const double count = double(values);  // 0 gives NaN statistics, as the CPU core
  for (int64_t ch = (int64_t(blockIdx.x) * blockDim.x + threadIdx.x) / 32; ch < c; ch += warps) {
    const double2* p = partial + ch * pieces.count;
    double total = 0;
    for (int64_t k = lane; k < pieces.count; k += 32) total += p[k].x;
    const double m = warp_sum(total) / count;
    double squares = 0;
    for (int64_t k = lane; k < pieces.count; k += 32) {
      const double size = double(min(pieces.len, values - k * pieces.len));
      const double d = p[k].x / size - m;
      squares += p[k].y + size * d * d;
    }
    squares = warp_sum(squares);
    if (lane != 0) continue;
    const float mean_f = float(m), var_f = float(squares / count);
    mean[ch] = mean_f;
    inv_std[ch] = float(1.0 / sqrt(double(var_f) + double(eps)));
    const double mom = momentum, unbiased = count / (count - 1);
    if (running_mean) running_mean[ch] = float((1 - mom) * double(running_mean[ch]) + mom * double(mean_f));
    if (running_var) running_var[ch] = float((1 - mom) * double(running_var[ch]) + mom * double(var_f) * unbiased);
  }
}

__global__ void eval_stats_kernel(int64_t c, const float* running_mean, const float* running_var, float eps,
                                  float* mean, float* inv_std) {
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < c; i += int64_t(gridDim.x) * blockDim.x) {
    mean[i] = running_mean[i];
    inv_std[i] = float(1.0 / sqrt(double(running_var[i]) + double(eps)));
  }
}

// I is uint32_t when n*c*hw fits (cheap division for the channel index) and int64_t otherwise.
template <class I>
__global__ void forward_kernel(I total, I hw, I c, const float* x, const float* mean, const float* inv_std,
                               const float* weight, const float* bias, float* y) {
  for (I idx = I(blockIdx.x) * blockDim.x + threadIdx.x; idx < total; idx += I(gridDim.x) * blockDim.x) {
    const I ch = idx / hw % c;
    const float scale = inv_std[ch] * (weight ? weight[ch] : 1.f);
    y[idx] = (x[idx] - mean[ch]) * scale + (bias ? bias[ch] : 0.f);
  }
}

// Per piece of each channel: sum(dy) and sum(dy * xhat), xhat in double as the CPU core.
__global__ void backward_pieces_kernel(const float* x, const float* dy, const float* mean, const float* inv_std,
                                       int64_t c, int64_t hw, int64_t values, Pieces pieces, double2* partial) {
  __shared__ double scratch[32];
  const int64_t k0 = int64_t(blockIdx.y) * pieces.len, k1 = min(values, k0 + pieces.len);
  for (int64_t ch = blockIdx.x; ch < c; ch += gridDim.x) {
    const double m = mean[ch], is = inv_std[ch];
    double sum_dy = 0, sum_dy_xhat = 0;
    for_piece(ch, c, hw, k0, k1, [&](int64_t off) {
      const double g = dy[off];
      sum_dy += g;
      sum_dy_xhat += g * ((double(x[off]) - m) * is);
    });
    sum_dy = block_sum(sum_dy, scratch);
    sum_dy_xhat = block_sum(sum_dy_xhat, scratch);
    if (threadIdx.x == 0) partial[ch * pieces.count + blockIdx.y] = make_double2(sum_dy, sum_dy_xhat);
  }
}

// A warp per channel adds the pieces: dweight = sum(dy * xhat), dbias = sum(dy), and for a
// training dx the two means it subtracts (means may be null).
__global__ void backward_finish_kernel(const double2* partial, int64_t c, int64_t values, int64_t pieces,
                                       float* dweight, float* dbias, float2* means) {
  const int lane = threadIdx.x & 31;
  const int64_t warps = int64_t(gridDim.x) * (blockDim.x / 32);
  for (int64_t ch = (int64_t(blockIdx.x) * blockDim.x + threadIdx.x) / 32; ch < c; ch += warps) {
    const double2* p = partial + ch * pieces;
    double sum_dy = 0, sum_dy_xhat = 0;
    for (int64_t k = lane; k < pieces; k += 32) {
      sum_dy += p[k].x;
      sum_dy_xhat += p[k].y;
    }
    sum_dy = warp_sum(sum_dy);
    sum_dy_xhat = warp_sum(sum_dy_xhat);
    if (lane != 0) continue;
    if (dweight) dweight[ch] = float(sum_dy_xhat);
    if (dbias) dbias[ch] = float(sum_dy);
    if (means) means[ch] = make_float2(float(sum_dy / double(values)), float(sum_dy_xhat / double(values)));
  }
}

// dx = inv_std * weight * (dy - mean(dy) - xhat * mean(dy * xhat)); eval (means null) drops the
// two means, keeping the same expression so that NaN propagates as on the CPU.
template <class I>
__global__ void backward_dx_kernel(I total, I hw, I c, const float* x, const float* dy, const float* mean,
                                   const float* inv_std, const float* weight, const float2* means, float* dx) {
  for (I idx = I(blockIdx.x) * blockDim.x + threadIdx.x; idx < total; idx += I(gridDim.x) * blockDim.x) {
    const I ch = idx / hw % c;
    const float is = inv_std[ch], scale = is * (weight ? weight[ch] : 1.f);
    const float2 mu = means ? means[ch] : make_float2(0.f, 0.f);
    const float xhat = (x[idx] - mean[ch]) * is;
    dx[idx] = scale * (dy[idx] - mu.x - xhat * mu.y);
  }
}

}  // namespace

void batch_norm_train_stats(const BatchNormShape& s, const float* x, float eps, float momentum, float* mean,
                            float* inv_std, float* running_mean, float* running_var) {
  const char* op = "batch_norm_train_stats";
  validate(s, op);
  if (s.c == 0) return;
  need(mean, op, "mean");
  need(inv_std, op, "inv_std");
  const int64_t values = s.n * s.hw;
  if (values > 0) need(x, op, "x");
  const Pieces pieces = split_channel(values);
  Scratch partial(size_t(s.c * pieces.count) * sizeof(double2));
  stats_pieces_kernel<<<pieces_grid(s.c, pieces), kThreads, 0, stream()>>>(x, s.c, s.hw, values, pieces,
                                                                            partial.as<double2>());
  check_launch("batch_norm statistics");
  train_finish_kernel<<<grid_for(s.c * 32), kThreads, 0, stream()>>>(partial.as<double2>(), s.c, values, pieces, eps,
                                                                     momentum, mean, inv_std, running_mean,
                                                                     running_var);
  check_launch("batch_norm statistics (finish)");
}

void batch_norm_eval_stats(int64_t c, const float* running_mean, const float* running_var, float eps, float* mean,
                           float* inv_std) {
  const char* op = "batch_norm_eval_stats";
  if (c < 0) throw_range(std::string(op) + ": channel count must be >= 0, got " + std::to_string(c));
  if (c == 0) return;
  need(running_mean, op, "running_mean");
  need(running_var, op, "running_var");
  need(mean, op, "mean");
  need(inv_std, op, "inv_std");
  eval_stats_kernel<<<grid_for(c), kThreads, 0, stream()>>>(c, running_mean, running_var, eps, mean, inv_std);
  check_launch(op);
}

void batch_norm_forward(const BatchNormShape& s, const float* x, const float* mean, const float* inv_std,
                        const float* weight, const float* bias, float* y) {
  const char* op = "batch_norm_forward";
  validate(s, op);
  const int64_t total = s.n * s.c * s.hw;
  if (total == 0) return;
  need(x, op, "x");
  need(mean, op, "mean");
  need(inv_std, op, "inv_std");
  need(y, op, "y");
  if (total <= INT_MAX) {
    forward_kernel<uint32_t><<<grid_for(total), kThreads, 0, stream()>>>(
        uint32_t(total), uint32_t(s.hw), uint32_t(s.c), x, mean, inv_std, weight, bias, y);
  } else {
    forward_kernel<int64_t><<<grid_for(total), kThreads, 0, stream()>>>(total, s.hw, s.c, x, mean, inv_std, weight,
                                                                        bias, y);
  }
  check_launch(op);
}

void batch_norm_backward(const BatchNormShape& s, const float* x, const float* dy, const float* mean,
                         const float* inv_std, const float* weight, bool training, float* dx, float* dweight,
                         float* dbias) {
  const char* op = "batch_norm_backward";
  validate(s, op);
  if (s.c == 0) return;
  need(mean, op, "mean");
  need(inv_std, op, "inv_std");
  const int64_t values = s.n * s.hw, total = s.c * values;
  if (values > 0) {
    need(x, op, "x");
    need(dy, op, "dy");
  }
  const bool dx_needs_means = dx && training && values > 0;
  // Evaluation with dx alone needs no sums; means stays null then.
  Scratch means(dx_needs_means ? size_t(s.c) * sizeof(float2) : 0);
  if (dweight || dbias || dx_needs_means) {
    const Pieces pieces = split_channel(values);
    Scratch partial(size_t(s.c * pieces.count) * sizeof(double2));
    backward_pieces_kernel<<<pieces_grid(s.c, pieces), kThreads, 0, stream()>>>(x, dy, mean, inv_std, s.c, s.hw, values,
                                                                               pieces, partial.as<double2>());
    check_launch("batch_norm_backward sums");
    backward_finish_kernel<<<grid_for(s.c * 32), kThreads, 0, stream()>>>(partial.as<double2>(), s.c, values,
                                                                          pieces.count, dweight, dbias,
                                                                          means.as<float2>());
    check_launch("batch_norm_backward sums (finish)");
  }
  if (!dx || values == 0) return;
  const float2* mu = means.as<float2>();  // null unless training
  if (total <= INT_MAX) {
    backward_dx_kernel<uint32_t><<<grid_for(total), kThreads, 0, stream()>>>(
        uint32_t(total), uint32_t(s.hw), uint32_t(s.c), x, dy, mean, inv_std, weight, mu, dx);
  } else {
    backward_dx_kernel<int64_t><<<grid_for(total), kThreads, 0, stream()>>>(total, s.hw, s.c, x, dy, mean, inv_std,
                                                                            weight, mu, dx);
  }
  check_launch(op);
}

}  // namespace convkit::cuda
