// Broadcasting elementwise arithmetic, clamp, and sums over axes: the kernels behind the ops
// add/sub/mul/div, clamp, sum and mean, and behind their gradients (a broadcast operand's
// gradient is a sum over the dims it was broadcast along). Shapes arrive coalesced by the
// TypeScript layer (lib/ops/broadcast.ts): size-1 dims dropped and neighbours merged, so a
// per-channel bias over NCHW is 3 dims and a same-shape or scalar operand is 1.
// Errors: convkit::Error, range for bad shapes or strides, type for a null array that is needed.
#pragma once
#include <cstdint>

namespace convkit {

// The most dims a coalesced shape may have (the CUDA kernels take the shape by value).
constexpr int kMaxArithDims = 16;

// Numbered as the binding receives them.
enum class BinaryOp : int32_t { add = 0, sub = 1, mul = 2, div = 3 };

// An output of `rank` dims (row-major, contiguous), each operand read at its own element
// strides: 0 along the dims it is broadcast along.
struct BroadcastShape {
  int32_t rank = 0;
  int64_t shape[kMaxArithDims] = {};
  int64_t a_stride[kMaxArithDims] = {};
  int64_t b_stride[kMaxArithDims] = {};
};

// rank in [1, kMaxArithDims], sizes and strides >= 0; RangeError naming op otherwise.
void check_broadcast_shape(const BroadcastShape& g, const char* op);
// Elements of the output.
int64_t broadcast_size(const BroadcastShape& g);
// How many elements an operand with these strides must have: 1 + the largest offset read,
// 0 when the output is empty.
int64_t broadcast_extent(const BroadcastShape& g, const int64_t* strides);

// y = a op b, elementwise over g. Float arithmetic, one rounding per element, so every ISA
// and thread count gives the same bits (IEEE: NaN and infinities propagate, x/0 is +-inf).
void binary(BinaryOp op, const BroadcastShape& g, const float* a, const float* b, float* y);

// x of `rank` dims, row-major; y keeps the dims not reduced, in order.
struct ReduceShape {
  int32_t rank = 0;
  int64_t shape[kMaxArithDims] = {};
  bool reduced[kMaxArithDims] = {};
};

void check_reduce_shape(const ReduceShape& g, const char* op);
int64_t reduce_input_size(const ReduceShape& g);
int64_t reduce_output_size(const ReduceShape& g);

// y = float(sum) * beta over the reduced dims of x, each sum accumulated in double (a sum over
// nothing is 0, so y = 0 * beta: NaN for the mean of nothing). Partial sums are cut by the
// shape alone, so the result does not depend on the number of threads.
void sum_axes(const ReduceShape& g, const float* x, float beta, float* y);

// y = min(max(x, lo), hi) for i < n, NaN kept (PyTorch's clamp); the caller makes lo <= hi
// (lo > hi means every element is hi, so pass lo = hi). Omitted bounds are -inf / inf.
void clamp(int64_t n, const float* x, float lo, float hi, float* y);
// dx = dy where lo <= x <= hi, else 0 (NaN x passes nothing), as PyTorch's clamp backward.
void clamp_backward(int64_t n, const float* x, const float* dy, float lo, float hi, float* dx);

}  // namespace convkit
