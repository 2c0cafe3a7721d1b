// Broadcasting arithmetic, sums over axes and clamp on the GPU, with the CPU core's meaning
// (convkit/arith.h) and its shape checks. The shapes arrive coalesced (few dims), by value.
//
// binary: a grid-stride loop over the output; each element's operand offsets come from its
// index, dim by dim. sum_axes: a warp per output element for short sums, else a block per
// piece of kPiece reduced elements and a second pass over the pieces; lanes are strided over
// the reduced elements (offsets from the reduced index, dim by dim), accumulated in double
// and combined in a fixed order, so a sum does not change from run to run.
#include <climits>
#include <cstdint>
#include <string>
#include <utility>

#include "convkit/error.h"
#include "convkit_cuda/kernels.h"
#include "launch.cuh"
#include "reduce.cuh"

namespace convkit::cuda {
namespace {

// Sums of at least this many elements get a block per piece; a piece is kPiece elements, so
// the cut depends on the shape alone.
constexpr int64_t kBlockSumFrom = 4096;
constexpr int64_t kPiece = 65536;

// Some dims of an index space with the element strides of one array.
struct Dims {
  int n;
  int64_t size[kMaxArithDims];
  int64_t stride[kMaxArithDims];
};

struct BinaryDims {
  int n;
  int64_t size[kMaxArithDims];
  int64_t a_stride[kMaxArithDims];
  int64_t b_stride[kMaxArithDims];
};

template <int Op>
__device__ __forceinline__ float apply(float a, float b) {
  if constexpr (Op == 0) return a + b;
  else if constexpr (Op == 1) return a - b;
  else if constexpr (Op == 2) return a * b;
  else return a / b;
}

template <int Op>
__global__ void binary_kernel(BinaryDims d, const float* a, const float* b, float* y, int64_t total) {
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < total; i += int64_t(gridDim.x) * blockDim.x) {
    int64_t rest = i, ia = 0, ib = 0;
    for (int k = d.n - 1; k >= 0; --k) {
      const int64_t idx = rest % d.size[k];
      rest /= d.size[k];
      ia += idx * d.a_stride[k];
      ib += idx * d.b_stride[k];
    }
    y[i] = apply<Op>(a[ia], b[ib]);
  }
}

// Same-shape operands or a scalar one: no index arithmetic (sa, sb are 1 or 0).
template <int Op>
__global__ void binary_flat_kernel(const float* a, int sa, const float* b, int sb, float* y, int64_t total) {
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < total; i += int64_t(gridDim.x) * blockDim.x)
    y[i] = apply<Op>(a[i * sa], b[i * sb]);
}

__device__ __forceinline__ int64_t offset_of(const Dims& d, int64_t i) {
  int64_t off = 0;
  for (int k = d.n - 1; k >= 0; --k) {
    off += (i % d.size[k]) * d.stride[k];
    i /= d.size[k];
  }
  return off;
}

// Piece p of output o: reduced elements [p * piece, min(count, (p + 1) * piece)), one block,
// threads strided, combined by reduce.cuh's fixed tree. Writes partial[o * pieces + p] when
// there are several pieces, else y[o] = float(sum) * beta.
__global__ void sum_axes_kernel(Dims kept, Dims red, const float* x, float beta, float* y, double* partial,
                                int64_t count, int64_t piece, int64_t pieces) {
  __shared__ double smem[32];
  const int64_t o = blockIdx.x / pieces, p = blockIdx.x % pieces;
  const float* base = x + offset_of(kept, o);
  const int64_t r1 = min(count, (p + 1) * piece);
  double s = 0;
  for (int64_t r = p * piece + threadIdx.x; r < r1; r += blockDim.x) s += double(base[offset_of(red, r)]);
  s = block_reduce(s, SumOp(), smem);
  if (threadIdx.x != 0) return;
  if (pieces > 1)
    partial[blockIdx.x] = s;
  else
    y[o] = float(s) * beta;
}

// y[o] = float(the pieces of o added in order) * beta.
__global__ void sum_pieces_kernel(const double* partial, int64_t pieces, float beta, float* y, int64_t outputs) {
  for (int64_t o = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; o < outputs; o += int64_t(gridDim.x) * blockDim.x) {
    double s = 0;
    for (int64_t p = 0; p < pieces; ++p) s += partial[o * pieces + p];
    y[o] = float(s) * beta;
  }
}

// One warp per output, for short sums (fewer than kBlockSumFrom elements each).
__global__ void sum_axes_warp_kernel(Dims kept, Dims red, const float* x, float beta, float* y, int64_t outputs,
                                     int64_t count) {
  const int lane = threadIdx.x & 31;
  const int64_t warps = int64_t(gridDim.x) * (blockDim.x / 32);
  for (int64_t o = (int64_t(blockIdx.x) * blockDim.x + threadIdx.x) / 32; o < outputs; o += warps) {
    const float* base = x + offset_of(kept, o);
    double s = 0;
    for (int64_t r = lane; r < count; r += 32) s += double(base[offset_of(red, r)]);
    for (int offset = 16; offset > 0; offset >>= 1) s += __shfl_down_sync(0xffffffffu, s, offset);
    if (lane == 0) y[o] = float(s) * beta;
  }
}

__global__ void clamp_kernel(const float* x, float lo, float hi, float* y, int64_t n) {
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    const float v = x[i];
    y[i] = v < lo ? lo : (v > hi ? hi : v);  // NaN fails both and is kept
  }
}

__global__ void clamp_backward_kernel(const float* x, const float* dy, float lo, float hi, float* dx, int64_t n) {
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    dx[i] = x[i] >= lo && x[i] <= hi ? dy[i] : 0.f;
}

__global__ void fill_value_kernel(float* y, float value, int64_t n) {
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    y[i] = value;
}

template <int Op>
void launch_binary(const BroadcastShape& g, const float* a, const float* b, float* y, int64_t total) {
  const auto flat = [](int64_t s) { return s == 0 || s == 1; };
  if (g.rank == 1 && flat(g.a_stride[0]) && flat(g.b_stride[0])) {
    binary_flat_kernel<Op><<<grid_for(total), kThreads, 0, stream()>>>(a, int(g.a_stride[0]), b, int(g.b_stride[0]), y,
                                                                       total);
  } else {
    BinaryDims d{};
    d.n = g.rank;
    for (int k = 0; k < g.rank; ++k) {
      d.size[k] = g.shape[k];
      d.a_stride[k] = g.a_stride[k];
      d.b_stride[k] = g.b_stride[k];
    }
    binary_kernel<Op><<<grid_for(total), kThreads, 0, stream()>>>(d, a, b, y, total);
  }
  check_launch("binary");
}

void check_bounds(const char* op, float lo, float hi) {
  if (!(lo <= hi)) throw_range(std::string(op) + ": lo must be <= hi, got " + std::to_string(lo) + " and " + std::to_string(hi));
}

}  // namespace

void binary(BinaryOp op, const BroadcastShape& g, const float* a, const float* b, float* y) {
  const char* fn = "binary";
  check_broadcast_shape(g, fn);
  const int64_t total = broadcast_size(g);
  if (total == 0) return;
  need(a, fn, "a");
  need(b, fn, "b");
  need(y, fn, "y");
  switch (op) {
    case BinaryOp::add: return launch_binary<0>(g, a, b, y, total);
    case BinaryOp::sub: return launch_binary<1>(g, a, b, y, total);
    case BinaryOp::mul: return launch_binary<2>(g, a, b, y, total);
    case BinaryOp::div: return launch_binary<3>(g, a, b, y, total);
  }
  throw_range(std::string(fn) + ": op must be 0..3 (add, sub, mul, div), got " + std::to_string(int(op)));
}

void sum_axes(const ReduceShape& g, const float* x, float beta, float* y) {
  const char* fn = "sum_axes";
  check_reduce_shape(g, fn);
  const int64_t in = reduce_input_size(g), out = reduce_output_size(g);
  if (out == 0) return;
  need(y, fn, "y");
  if (in == 0) {  // a sum over nothing, scaled like any other
    fill_value_kernel<<<grid_for(out), kThreads, 0, stream()>>>(y, 0.f * beta, out);
    check_launch("sum_axes");
    return;
  }
  need(x, fn, "x");
  Dims kept{}, red{};
  int64_t stride = 1;
  for (int d = g.rank - 1; d >= 0; --d) {  // innermost first: reversed below
    Dims& to = g.reduced[d] ? red : kept;
    to.size[to.n] = g.shape[d];
    to.stride[to.n] = stride;
    ++to.n;
    stride *= g.shape[d];
  }
  for (Dims* d : {&kept, &red}) {
    for (int i = 0, j = d->n - 1; i < j; ++i, --j) {
      std::swap(d->size[i], d->size[j]);
      std::swap(d->stride[i], d->stride[j]);
    }
  }
  const int64_t count = in / out;
  if (count < kBlockSumFrom) {
    sum_axes_warp_kernel<<<grid_for(out * 32), kThreads, 0, stream()>>>(kept, red, x, beta, y, out, count);
    check_launch("sum_axes");
    return;
  }
  const int64_t pieces = (count + kPiece - 1) / kPiece;
  if (out * pieces > INT32_MAX) throw_range(std::string(fn) + ": too many outputs for one launch");
  Scratch partial(pieces > 1 ? size_t(out * pieces) * sizeof(double) : 0);
  sum_axes_kernel<<<unsigned(out * pieces), kThreads, 0, stream()>>>(kept, red, x, beta, y, partial.as<double>(), count,
                                                                     kPiece, pieces);
  check_launch("sum_axes");
  if (pieces == 1) return;
  sum_pieces_kernel<<<grid_for(out), kThreads, 0, stream()>>>(partial.as<double>(), pieces, beta, y, out);
  check_launch("sum_axes pieces");
}

void clamp(int64_t n, const float* x, float lo, float hi, float* y) {
  if (n < 0) throw_range("clamp: element count must be >= 0, got " + std::to_string(n));
  check_bounds("clamp", lo, hi);
  if (n == 0) return;
  need(x, "clamp", "x");
  need(y, "clamp", "y");
  clamp_kernel<<<grid_for(n), kThreads, 0, stream()>>>(x, lo, hi, y, n);
  check_launch("clamp");
}

void clamp_backward(int64_t n, const float* x, const float* dy, float lo, float hi, float* dx) {
  if (n < 0) throw_range("clamp_backward: element count must be >= 0, got " + std::to_string(n));
  check_bounds("clamp_backward", lo, hi);
  if (n == 0) return;
  need(x, "clamp_backward", "x");
  need(dy, "clamp_backward", "dy");
  need(dx, "clamp_backward", "dx");
  clamp_backward_kernel<<<grid_for(n), kThreads, 0, stream()>>>(x, dy, lo, hi, dx, n);
  check_launch("clamp_backward");
}

}  // namespace convkit::cuda
