// The layout kernels of the cpu backend: one strided copy, which serves permute, slice, concat
// and split and their backward passes (lib/ops/layout.ts), and argmax along one axis. They mean
// what the js backend's loops mean (lib/backend/js/layout.ts).
// Errors: convkit::Error, range for sizes, strides or offsets that reach outside an array.
#pragma once
#include <cstdint>
#include <vector>

namespace convkit {

// For every index (i_0, ..., i_{r-1}) of shape:
// dst[dst_offset + sum i_k dst_strides[k]] = src[src_offset + sum i_k src_strides[k]].
// Strides may be negative. lib/ops/strided-copy.ts coalesces the dims first, but any plan that
// stays inside both arrays is valid.
struct StridedCopyShape {
  std::vector<int64_t> shape, src_strides, dst_strides;
  int64_t src_offset = 0, dst_offset = 0;
};

// Error(range) unless the three vectors have one length, every size is >= 0 and every element
// the copy reads lies in [0, src_length) and every one it writes in [0, dst_length).
void validate(const StridedCopyShape& s, int64_t src_length, int64_t dst_length);

// Validates, then copies; src and dst must not overlap (Error(range) if their ranges do). Bits
// are copied as they are (NaN payloads, subnormals under FTZ/DAZ). Contiguous runs are
// memcpy'd, a transposed pair of dims (the source's unit stride on another dim than the
// destination's) goes through cache-sized tiles of register transposes, and large copies are
// split over threads by the outer dims.
void strided_copy(const StridedCopyShape& s, const float* src, int64_t src_length, float* dst, int64_t dst_length);

// x viewed as [outer, dim, inner], dim >= 1 (at most 2^31 - 1): out[o * inner + i] = the first
// d of the largest x[(o * dim + d) * inner + i], a NaN counting as larger than any number
// (PyTorch's rule). Comparisons run under the caller's FTZ/DAZ mode, so subnormals compare as 0
// inside the addon.
void argmax(const float* x, int64_t outer, int64_t dim, int64_t inner, int32_t* out);

}  // namespace convkit
