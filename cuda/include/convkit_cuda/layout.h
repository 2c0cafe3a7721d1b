// The layout kernels of convkit/layout.h on device pointers: the strided copy behind permute,
// slice, concat and split, and argmax along one axis. Same semantics as the CPU core; calls
// validate on the host (convkit::validate), queue the work on the device layer's stream and
// return.
#pragma once
#include <cstdint>

#include "convkit/layout.h"

namespace convkit::cuda {

// The most dims a device copy takes after lib/ops/strided-copy.ts has merged what it can;
// Error(range) beyond (a plan travels to the kernel by value).
constexpr int kMaxCopyRank = 16;

// src and dst must not overlap. A pair of dims transposed between the two (the source's unit
// stride on another dim than the destination's) goes through 32x32 tiles in shared memory, so
// reads and writes both stay coalesced; everything else is one thread per element.
void strided_copy(const StridedCopyShape& s, const float* src, int64_t src_length, float* dst, int64_t dst_length);

// out[o * inner + i] = the first d of the largest x[o, d, i], NaN largest. inner == 1: one warp
// per row; otherwise one thread per output (neighbours read neighbouring columns).
void argmax(const float* x, int64_t outer, int64_t dim, int64_t inner, int32_t* out);

}  // namespace convkit::cuda
