// Deterministic reductions for the row kernels (softmax, losses): warp shuffles, a block
// reduction through shared memory, and a "row group" (one warp or one whole block per row).
// Every reduction combines values in a fixed order, so results never depend on timing.
#pragma once
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace convkit::cuda {

constexpr unsigned kFullMask = 0xffffffffu;

// Rows up to this long get one warp each; longer rows get a whole block.
constexpr int64_t kWarpRowMax = 1024;

// max that propagates NaN from either side, as the CPU maxnan (NaN sticks once seen).
__device__ __forceinline__ float max_nan(float a, float b) { return (a != a || a > b) ? a : b; }

struct SumOp {
  template <class T>
  __device__ __forceinline__ T operator()(T a, T b) const { return a + b; }
};
struct MaxNanOp {
  __device__ __forceinline__ float operator()(float a, float b) const { return max_nan(a, b); }
};

// Butterfly reduction: every lane ends with the same value.
template <class T, class Op>
__device__ __forceinline__ T warp_reduce(T v, Op op) {
  for (int offset = 16; offset > 0; offset >>= 1) v = op(v, __shfl_xor_sync(kFullMask, v, offset));
  return v;
}

// Reduction over the whole block (blockDim.x a multiple of 32); every thread gets the result.
// smem holds 32 values; all threads must call this together.
template <class T, class Op>
__device__ __forceinline__ T block_reduce(T v, Op op, T* smem) {
  v = warp_reduce(v, op);
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
  __syncthreads();  // an earlier call may still be reading smem
  if (lane == 0) smem[warp] = v;
  __syncthreads();
  v = smem[0];
  for (int i = 1; i < warps; ++i) v = op(v, smem[i]);
  return v;
}

// The threads that share one row: a warp (kWarp) or the block. Rows are visited grid-stride,
// uniformly within a group, so a block group may synchronise inside the loop.
template <bool kWarp>
struct RowGroup {
  __device__ static int rank() { return kWarp ? int(threadIdx.x & 31) : int(threadIdx.x); }
  __device__ static int size() { return kWarp ? 32 : int(blockDim.x); }
  __device__ static int64_t per_block() { return kWarp ? blockDim.x / 32 : 1; }
  __device__ static int64_t first_row() { return blockIdx.x * per_block() + (kWarp ? threadIdx.x / 32 : 0); }
  __device__ static int64_t row_stride() { return int64_t(gridDim.x) * per_block(); }
  template <class T, class Op>
  __device__ static T reduce(T v, Op op, T* smem) {
    if constexpr (kWarp) return warp_reduce(v, op);
    else return block_reduce(v, op, smem);
  }
};

// One row's max (NaN if any is NaN) and sum of exp(x - max) over a row group; e, unless null,
// receives exp(x - max). The shared core of softmax and the fused cross-entropy losses.
template <bool kWarp>
__device__ __forceinline__ void row_max_expsum(const float* x, float* e, int64_t dim, float* smem, float& m,
                                               float& s) {
  using G = RowGroup<kWarp>;
  m = -INFINITY;
  for (int64_t j = G::rank(); j < dim; j += G::size()) m = max_nan(m, x[j]);
  m = G::reduce(m, MaxNanOp(), smem);
  s = 0.f;
  for (int64_t j = G::rank(); j < dim; j += G::size()) {
    const float v = expf(x[j] - m);
    if (e) e[j] = v;
    s += v;
  }
  s = G::reduce(s, SumOp(), smem);
}

// Blocks of `threads` for `rows` rows of length `dim`, at most `cap` blocks.
inline unsigned row_blocks(int64_t rows, int64_t dim, int threads, int64_t cap) {
  int64_t per_block = dim <= kWarpRowMax ? threads / 32 : 1;
  return static_cast<unsigned>(std::max<int64_t>(1, std::min<int64_t>((rows + per_block - 1) / per_block, cap)));
}

}  // namespace convkit::cuda
