// Losses with the CPU core's formulas (native/src/loss.cpp). Forward passes write per-item
// losses (when asked) and total[0] = sum * scale on the device. The sum is deterministic:
// each block of a fixed grid (its size depends only on the item count) accumulates its items
// in double in a fixed order and stores one partial; a single block then adds the partials.
// Row losses (cross-entropy) use one warp per row, or one block for rows longer than
// kWarpRowMax, fused with the max-subtracted softmax. A label outside [0, c) gives NaN.
#include <cmath>
#include <string>

#include "convkit/error.h"
#include "convkit/loss.h"
#include "convkit_cuda/kernels.h"
#include "launch.cuh"
#include "reduce.cuh"

namespace convkit::cuda {
namespace {

constexpr int64_t kMaxPartials = 1024;  // blocks of a summing grid: enough to fill the GPU

__device__ __forceinline__ int64_t thread_index() { return blockIdx.x * int64_t(blockDim.x) + threadIdx.x; }
__device__ __forceinline__ int64_t thread_count() { return int64_t(gridDim.x) * blockDim.x; }

__device__ __forceinline__ bool valid_label(int32_t label, int64_t c) { return label >= 0 && label < c; }

// partial[blockIdx.x] = the block's sum of acc (every thread of the block calls this).
__device__ __forceinline__ void store_block_sum(double acc, double* partial) {
  __shared__ double smem[32];
  acc = block_reduce(acc, SumOp(), smem);
  if (threadIdx.x == 0) partial[blockIdx.x] = acc;
}

// total[0] = (sum of partial[0, count)) * scale, by one block.
__global__ void finish_total(const double* partial, int64_t count, float scale, float* total) {
  __shared__ double smem[32];
  double acc = 0;
  for (int64_t i = threadIdx.x; i < count; i += blockDim.x) acc += partial[i];
  acc = block_reduce(acc, SumOp(), smem);
  if (threadIdx.x == 0) total[0] = float(acc * double(scale));
}

// ---- row losses ---------------------------------------------------------------------------

// probs = softmax(logits) per row; loss = log s - (x[label] - m), summed into partial.
template <bool kWarp>
__global__ void cross_entropy_fwd(const float* logits, const int32_t* labels, int64_t n, int64_t c, float* probs,
                                  double* partial) {
  using G = RowGroup<kWarp>;
  __shared__ float smem[32];
  double acc = 0;
  for (int64_t r = G::first_row(); r < n; r += G::row_stride()) {
    const float* x = logits + r * c;
    float* p = probs + r * c;
    float m, s;
    row_max_expsum<kWarp>(x, p, c, smem, m, s);
    const float inv = 1.f / s;
    for (int64_t j = G::rank(); j < c; j += G::size()) p[j] *= inv;
    if (G::rank() == 0) {
      const int32_t label = labels[r];
      acc += valid_label(label, c) ? log(double(s)) - (double(x[label]) - double(m)) : double(NAN);
    }
  }
  if (partial) store_block_sum(acc, partial);
}

// losses[r] = sum_j t[r,j] (logsumexp(x[r,:]) - x[r,j]), in double, with probs = softmax(logits).
template <bool kWarp>
__global__ void cross_entropy_soft_fwd(const float* logits, const float* target, int64_t n, int64_t c, float* probs,
                                       float* losses, double* partial) {
  using G = RowGroup<kWarp>;
  __shared__ float smem[32];
  __shared__ double dsmem[32];
  double acc = 0;
  for (int64_t r = G::first_row(); r < n; r += G::row_stride()) {
    const float* x = logits + r * c;
    const float* t = target + r * c;
    float* p = probs + r * c;
    float m, s;
    row_max_expsum<kWarp>(x, p, c, smem, m, s);
    const float inv = 1.f / s;
    const double lse = double(m) + log(double(s));
    double row = 0;
    for (int64_t j = G::rank(); j < c; j += G::size()) {
      p[j] *= inv;
      row += double(t[j]) * (lse - double(x[j]));
    }
    row = G::reduce(row, SumOp(), dsmem);
    if (G::rank() == 0) {
      if (losses) losses[r] = float(row);
      acc += row;
    }
  }
  if (partial) store_block_sum(acc, partial);
}

// dlogits[r,j] = (probs[r,j] * sum_k t[r,k] - t[r,j]) * dy[r or 0] * scale; dlogits may alias probs.
template <bool kWarp>
__global__ void cross_entropy_soft_bwd(const float* probs, const float* target, int64_t n, int64_t c,
                                       const float* dy, int64_t dy_len, float scale, float* dlogits) {
  using G = RowGroup<kWarp>;
  __shared__ double smem[32];
  for (int64_t r = G::first_row(); r < n; r += G::row_stride()) {
    const float* t = target + r * c;
    const float* p = probs + r * c;
    float* d = dlogits + r * c;
    double tsum = 0;
    for (int64_t j = G::rank(); j < c; j += G::size()) tsum += double(t[j]);
    const float ts = float(G::reduce(tsum, SumOp(), smem));
    const float g = dy[dy_len == 1 ? 0 : r] * scale;
    for (int64_t j = G::rank(); j < c; j += G::size()) d[j] = (__fmul_rn(p[j], ts) - t[j]) * g;
  }
}

// ---- item losses: f(i) writes item i's loss (when kept) and returns it ----------------------

template <class F>
__global__ void sum_items(F f, int64_t count, double* partial) {
  double acc = 0;
  for (int64_t i = thread_index(); i < count; i += thread_count()) acc += f(i);
  if (partial) store_block_sum(acc, partial);
}

template <class F>
__global__ void map_items(F f, int64_t count) {
  for (int64_t i = thread_index(); i < count; i += thread_count()) f(i);
}

struct NllItem {
  const float* log_probs;
  const int32_t* labels;
  int64_t c;
  float* losses;
  __device__ double operator()(int64_t r) const {
    const int32_t label = labels[r];
    const float l = valid_label(label, c) ? -log_probs[r * c + label] : NAN;
    if (losses) losses[r] = l;
    return double(l);
  }
};

struct MseItem {
  const float* input;
  const float* target;
  float* losses;
  __device__ double operator()(int64_t i) const {
    const double d = double(input[i]) - double(target[i]);
    if (losses) losses[i] = float(d * d);
    return d * d;
  }
};

// log(1 + exp(-x)), stable for any x; NaN stays NaN.
__device__ __forceinline__ double softplus_neg(double x) {
  const double neg = -x;
  const double v = log1p(exp(-fabs(x))) + (neg < 0.0 ? 0.0 : neg);
  return isnan(x) ? x : v;
}

struct BceItem {
  const float* logits;
  const float* target;
  const float* pos_weight;
  int64_t pw_len;
  float* losses;
  __device__ double operator()(int64_t i) const {
    const double x = logits[i], t = target[i];
    const double w = pos_weight ? 1.0 + (double(pos_weight[i % pw_len]) - 1.0) * t : 1.0;
    const double l = (1.0 - t) * x + w * softplus_neg(x);
    if (losses) losses[i] = float(l);
    return l;
  }
};

struct CrossEntropyGrad {
  const float* probs;
  const int32_t* labels;
  int64_t c;
  const float* dy;
  float scale;
  float* dlogits;
  __device__ void operator()(int64_t i) const {
    const int64_t r = i / c, j = i % c;
    const int32_t label = labels[r];
    const float g = dy[0] * scale;
    const float p = probs[i];
    dlogits[i] = valid_label(label, c) ? (j == label ? p - 1.f : p) * g : NAN;
  }
};

struct NllGrad {
  const int32_t* labels;
  int64_t c;
  const float* dy;
  int64_t dy_len;
  float scale;
  float* dlog_probs;
  __device__ void operator()(int64_t i) const {
    const int64_t r = i / c, j = i % c;
    const int32_t label = labels[r];
    dlog_probs[i] = valid_label(label, c) ? (j == label ? -(dy[dy_len == 1 ? 0 : r] * scale) : 0.f) : NAN;
  }
};

struct MseGrad {
  const float* input;
  const float* target;
  const float* dy;
  int64_t dy_len;
  float scale;
  float* dinput;
  float* dtarget;
  __device__ void operator()(int64_t i) const {
    const float g = 2.f * (input[i] - target[i]) * (dy[dy_len == 1 ? 0 : i] * scale);
    if (dinput) dinput[i] = g;
    if (dtarget) dtarget[i] = -g;
  }
};

struct BceGrad {
  const float* logits;
  const float* target;
  const float* pos_weight;
  int64_t pw_len;
  const float* dy;
  int64_t dy_len;
  float scale;
  float* dlogits;
  float* dtarget;
  __device__ void operator()(int64_t i) const {
    const double x = logits[i], t = target[i];
    const double g = double(dy[dy_len == 1 ? 0 : i]) * double(scale);
    const double pw = pos_weight ? double(pos_weight[i % pw_len]) : 1.0;
    if (dlogits) {
      const double sig_neg = 1.0 / (1.0 + exp(x));  // sigmoid(-x); exact 0 or 1 at the extremes
      dlogits[i] = float(((1.0 - t) - (1.0 + (pw - 1.0) * t) * sig_neg) * g);
    }
    if (dtarget) dtarget[i] = float((-x + (pw - 1.0) * softplus_neg(x)) * g);
  }
};

// ---- host side ------------------------------------------------------------------------------

// Partial sums for `blocks` blocks when the total is wanted, else null.
double* partials(float* total, unsigned blocks) {
  return total ? static_cast<double*>(workspace(size_t(blocks) * sizeof(double))) : nullptr;
}

void finish(const char* op, const double* partial, unsigned blocks, float scale, float* total) {
  if (!total) return;
  finish_total<<<1, kThreads, 0, stream()>>>(partial, partial ? blocks : 0, scale, total);
  check_launch(op);
}

// Sums f over [0, count) into total (when non-null); nothing runs when nothing is wanted.
template <class F>
void sum_and_finish(const char* op, F f, int64_t count, bool keep_losses, float* total, float scale) {
  if (count == 0) {
    finish(op, nullptr, 0, scale, total);  // an empty sum: total = 0 * scale
    return;
  }
  if (!keep_losses && !total) return;
  const unsigned blocks = unsigned(std::min<int64_t>(grid_for(count), kMaxPartials));
  double* partial = partials(total, blocks);
  sum_items<<<blocks, kThreads, 0, stream()>>>(f, count, partial);
  check_launch(op);
  finish(op, partial, blocks, scale, total);
}

template <class F>
void for_each_item(const char* op, F f, int64_t count) {
  if (count == 0) return;
  map_items<<<grid_for(count), kThreads, 0, stream()>>>(f, count);
  check_launch(op);
}

void check_labels(const char* op, const int32_t* labels, int64_t n, int64_t c) {
  if (n < 0 || c <= 0)
    throw_range(std::string(op) + ": logits must be [n, c] with n >= 0 and c >= 1, got [" + std::to_string(n) +
                ", " + std::to_string(c) + "]");
  if (n > 0 && !labels) throw_type(std::string(op) + ": labels must not be null");
}

}  // namespace

void cross_entropy_forward(const float* logits, const int32_t* labels, int64_t n, int64_t c, float* probs,
                           float* total, float scale) {
  const char* op = "cross_entropy";
  check_labels(op, labels, n, c);
  if (n > 0 && (!logits || !probs)) throw_type("cross_entropy: logits and probs must not be null");
  if (n == 0) {
    finish(op, nullptr, 0, scale, total);  // an empty sum: total = 0 * scale
    return;
  }
  const unsigned blocks = row_blocks(n, c, kThreads, kMaxPartials);
  double* partial = partials(total, blocks);
  if (c <= kWarpRowMax)
    cross_entropy_fwd<true><<<blocks, kThreads, 0, stream()>>>(logits, labels, n, c, probs, partial);
  else
    cross_entropy_fwd<false><<<blocks, kThreads, 0, stream()>>>(logits, labels, n, c, probs, partial);
  check_launch(op);
  finish(op, partial, blocks, scale, total);
}

void cross_entropy_backward(const float* probs, const int32_t* labels, int64_t n, int64_t c, const float* dy,
                            float scale, float* dlogits) {
  const char* op = "cross_entropy_backward";
  check_labels(op, labels, n, c);
  if (n > 0 && (!probs || !dlogits)) throw_type("cross_entropy_backward: probs and dlogits must not be null");
  if (n > 0 && !dy) throw_type("cross_entropy_backward: dy must not be null");
  for_each_item(op, CrossEntropyGrad{probs, labels, c, dy, scale, dlogits}, n * c);
}

void cross_entropy_soft_forward(const float* logits, const float* target, int64_t n, int64_t c, float* probs,
                                float* losses, float* total, float scale) {
  const char* op = "cross_entropy_soft";
  check_loss_rows(op, n, c);
  if (n > 0 && (!logits || !target || !probs))
    throw_type("cross_entropy_soft: logits, target and probs must not be null");
  if (n == 0) {
    finish(op, nullptr, 0, scale, total);  // an empty sum: total = 0 * scale
    return;
  }
  const unsigned blocks = row_blocks(n, c, kThreads, kMaxPartials);
  double* partial = partials(total, blocks);
  if (c <= kWarpRowMax)
    cross_entropy_soft_fwd<true><<<blocks, kThreads, 0, stream()>>>(logits, target, n, c, probs, losses, partial);
  else
    cross_entropy_soft_fwd<false><<<blocks, kThreads, 0, stream()>>>(logits, target, n, c, probs, losses, partial);
  check_launch(op);
  finish(op, partial, blocks, scale, total);
}

void cross_entropy_soft_backward(const float* probs, const float* target, int64_t n, int64_t c, const float* dy,
                                 int64_t dy_len, float scale, float* dlogits) {
  const char* op = "cross_entropy_soft_backward";
  check_loss_rows(op, n, c);
  check_loss_dy(op, dy, dy_len, n);
  if (n > 0 && (!probs || !target || !dlogits))
    throw_type("cross_entropy_soft_backward: probs, target and dlogits must not be null");
  if (n == 0) return;
  const unsigned blocks = row_blocks(n, c, kThreads, 65535LL * 8);
  if (c <= kWarpRowMax)
    cross_entropy_soft_bwd<true><<<blocks, kThreads, 0, stream()>>>(probs, target, n, c, dy, dy_len, scale, dlogits);
  else
    cross_entropy_soft_bwd<false><<<blocks, kThreads, 0, stream()>>>(probs, target, n, c, dy, dy_len, scale, dlogits);
  check_launch(op);
}

void nll_loss_forward(const float* log_probs, const int32_t* labels, int64_t n, int64_t c, float* losses,
                      float* total, float scale) {
  const char* op = "nll_loss";
  check_labels(op, labels, n, c);
  if (n > 0 && !log_probs) throw_type("nll_loss: log_probs must not be null");
  sum_and_finish(op, NllItem{log_probs, labels, c, losses}, n, losses != nullptr, total, scale);
}

void nll_loss_backward(const int32_t* labels, int64_t n, int64_t c, const float* dy, int64_t dy_len, float scale,
                       float* dlog_probs) {
  const char* op = "nll_loss_backward";
  check_labels(op, labels, n, c);
  check_loss_dy(op, dy, dy_len, n);
  if (n > 0 && !dlog_probs) throw_type("nll_loss_backward: dlog_probs must not be null");
  for_each_item(op, NllGrad{labels, c, dy, dy_len, scale, dlog_probs}, n * c);
}

void mse_loss_forward(const float* input, const float* target, int64_t count, float* losses, float* total,
                      float scale) {
  const char* op = "mse_loss";
  check_loss_count(op, count);
  if (count > 0 && (!input || !target)) throw_type("mse_loss: input and target must not be null");
  sum_and_finish(op, MseItem{input, target, losses}, count, losses != nullptr, total, scale);
}

void mse_loss_backward(const float* input, const float* target, int64_t count, const float* dy, int64_t dy_len,
                       float scale, float* dinput, float* dtarget) {
  const char* op = "mse_loss_backward";
  check_loss_count(op, count);
  check_loss_dy(op, dy, dy_len, count);
  if (count > 0 && (!input || !target)) throw_type("mse_loss_backward: input and target must not be null");
  if (!dinput && !dtarget) return;
  for_each_item(op, MseGrad{input, target, dy, dy_len, scale, dinput, dtarget}, count);
}

void bce_with_logits_forward(const float* logits, const float* target, int64_t count, const float* pos_weight,
                             int64_t pw_len, float* losses, float* total, float scale) {
  const char* op = "bce_with_logits";
  check_loss_count(op, count);
  check_pos_weight(op, pos_weight, pw_len, count);
  if (count > 0 && (!logits || !target)) throw_type("bce_with_logits: logits and target must not be null");
  sum_and_finish(op, BceItem{logits, target, pos_weight, pw_len, losses}, count, losses != nullptr, total, scale);
}

void bce_with_logits_backward(const float* logits, const float* target, int64_t count, const float* pos_weight,
                              int64_t pw_len, const float* dy, int64_t dy_len, float scale, float* dlogits,
                              float* dtarget) {
  const char* op = "bce_with_logits_backward";
  check_loss_count(op, count);
  check_pos_weight(op, pos_weight, pw_len, count);
  check_loss_dy(op, dy, dy_len, count);
  if (count > 0 && (!logits || !target)) throw_type("bce_with_logits_backward: logits and target must not be null");
  if (!dlogits && !dtarget) return;
  for_each_item(op, BceGrad{logits, target, pos_weight, pw_len, dy, dy_len, scale, dlogits, dtarget}, count);
}

}  // namespace convkit::cuda
