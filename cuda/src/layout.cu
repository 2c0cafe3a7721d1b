// The layout kernels (convkit_cuda/layout.h): a strided copy (a generic one-thread-per-element
// kernel and a shared-memory tiled transpose) and argmax over rows (a warp each) or columns
// (a thread each). Copies move bits: NaN payloads and subnormals are kept.
#include <algorithm>
#include <climits>
#include <string>

#include "convkit/error.h"
#include "convkit_cuda/layout.h"
#include "launch.cuh"
#include "reduce.cuh"

namespace convkit::cuda {
namespace {

// A plan by value (a kernel parameter): sizes and strides, outermost first.
struct Plan {
  int rank;
  int64_t n[kMaxCopyRank], src[kMaxCopyRank], dst[kMaxCopyRank];
  int64_t src_offset, dst_offset;
};

// The source and destination offsets of linear index idx over the plan's dims (last fastest).
template <class I>
__device__ __forceinline__ void locate(const Plan& p, I idx, int64_t* s, int64_t* d) {
  int64_t so = p.src_offset, dof = p.dst_offset;
  for (int k = p.rank - 1; k >= 0; --k) {
    const I nk = I(p.n[k]);
    const I i = idx % nk;
    idx /= nk;
    so += int64_t(i) * p.src[k];
    dof += int64_t(i) * p.dst[k];
  }
  *s = so;
  *d = dof;
}

// I is uint32_t when the element count fits (cheap division) and int64_t otherwise.
template <class I>
__global__ void strided_copy_kernel(Plan p, I total, const float* __restrict__ src, float* __restrict__ dst) {
  for (I idx = I(blockIdx.x) * blockDim.x + threadIdx.x; idx < total; idx += I(gridDim.x) * blockDim.x) {
    int64_t s, d;
    locate(p, idx, &s, &d);
    dst[d] = src[s];
  }
}

constexpr int kTile = 32, kTileRows = 8;

// dst[i * dst_row + j] = src[i + j * src_col] for the plane of rows x cols at each outer
// position (p holds the outer dims only). Reads are coalesced along i, writes along j, through
// a padded tile (no bank conflicts).
__global__ void transpose_kernel(Plan p, int64_t outer, int64_t rows, int64_t cols, int64_t src_col, int64_t dst_row,
                                 const float* __restrict__ src, float* __restrict__ dst) {
  __shared__ float tile[kTile][kTile + 1];
  const int64_t i0 = int64_t(blockIdx.y) * kTile, j0 = int64_t(blockIdx.x) * kTile;
  for (int64_t o = blockIdx.z; o < outer; o += gridDim.z) {
    int64_t so, dof;
    locate(p, o, &so, &dof);
    for (int r = threadIdx.y; r < kTile; r += kTileRows) {
      const int64_t i = i0 + threadIdx.x, j = j0 + r;
      if (i < rows && j < cols) tile[r][threadIdx.x] = src[so + i + j * src_col];
    }
    __syncthreads();
    for (int r = threadIdx.y; r < kTile; r += kTileRows) {
      const int64_t i = i0 + r, j = j0 + threadIdx.x;
      if (i < rows && j < cols) dst[dof + i * dst_row + j] = tile[threadIdx.x][r];
    }
    __syncthreads();
  }
}

__device__ __forceinline__ bool takes_over(float v, float best) { return v > best || (v != v && best == best); }

// One warp per row of dim contiguous values: each lane keeps its first maximum, then the lanes
// combine in a fixed butterfly (the smaller index wins among equals).
__global__ void argmax_rows_kernel(const float* __restrict__ x, int64_t rows, int64_t dim, int32_t* __restrict__ out) {
  const int lane = threadIdx.x & 31;
  const int64_t warps = int64_t(gridDim.x) * (blockDim.x / 32);
  for (int64_t row = (int64_t(blockIdx.x) * blockDim.x + threadIdx.x) / 32; row < rows; row += warps) {
    const float* xr = x + row * dim;
    float best = -INFINITY;
    int64_t at = INT64_MAX;  // no element yet
    for (int64_t d = lane; d < dim; d += 32) {
      const float v = xr[d];
      if (at == INT64_MAX || takes_over(v, best)) {
        best = v;
        at = d;
      }
    }
    for (int offset = 16; offset > 0; offset >>= 1) {
      const float ov = __shfl_xor_sync(kFullMask, best, offset);
      const int64_t oa = __shfl_xor_sync(kFullMask, at, offset);
      const bool tie = ov == best || (ov != ov && best != best);
      if (oa != INT64_MAX && (at == INT64_MAX || takes_over(ov, best) || (tie && oa < at))) {
        best = ov;
        at = oa;
      }
    }
    if (lane == 0) out[row] = int32_t(at);
  }
}

__global__ void argmax_columns_kernel(const float* __restrict__ x, int64_t outer, int64_t dim, int64_t inner,
                                      int32_t* __restrict__ out) {
  const int64_t total = outer * inner;
  for (int64_t k = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; k < total; k += int64_t(gridDim.x) * blockDim.x) {
    const int64_t o = k / inner, i = k % inner;
    const float* xc = x + o * dim * inner + i;
    float best = xc[0];
    int32_t at = 0;
    for (int64_t d = 1; d < dim; ++d) {
      const float v = xc[d * inner];
      if (takes_over(v, best)) {
        best = v;
        at = int32_t(d);
      }
    }
    out[k] = at;
  }
}

Plan make_plan(const StridedCopyShape& s, int skip0, int skip1) {
  Plan p{};
  for (int k = 0; k < int(s.shape.size()); ++k) {
    if (k == skip0 || k == skip1) continue;
    p.n[p.rank] = s.shape[size_t(k)];
    p.src[p.rank] = s.src_strides[size_t(k)];
    p.dst[p.rank] = s.dst_strides[size_t(k)];
    ++p.rank;
  }
  p.src_offset = s.src_offset;
  p.dst_offset = s.dst_offset;
  return p;
}

}  // namespace

void strided_copy(const StridedCopyShape& s, const float* src, int64_t src_length, float* dst, int64_t dst_length) {
  validate(s, src_length, dst_length);
  const int rank = int(s.shape.size());
  if (rank > kMaxCopyRank)
    throw_range("strided_copy: a device copy takes at most " + std::to_string(kMaxCopyRank) + " dims after merging, got " +
                std::to_string(rank));
  int64_t total = 1;
  for (int64_t n : s.shape) total *= n;  // validate bounds every element inside both arrays
  if (total == 0) return;
  need(src, "strided_copy", "src");
  need(dst, "strided_copy", "dst");
  if (src < dst + dst_length && dst < src + src_length) throw_range("strided_copy: src and dst overlap");
  const int last = rank - 1;
  int t = -1;
  if (rank > 0 && s.dst_strides[size_t(last)] == 1 && s.src_strides[size_t(last)] != 1)
    for (int q = last - 1; q >= 0 && t < 0; --q)
      if (s.src_strides[size_t(q)] == 1) t = q;
  if (t >= 0) {
    const Plan outer = make_plan(s, t, last);
    int64_t count = 1;
    for (int k = 0; k < outer.rank; ++k) count *= outer.n[k];
    const int64_t rows = s.shape[size_t(t)], cols = s.shape[size_t(last)];
    const int64_t tiles_x = (cols + kTile - 1) / kTile, tiles_y = (rows + kTile - 1) / kTile;
    if (tiles_x <= INT_MAX && tiles_y <= 65535) {
      const dim3 grid(unsigned(tiles_x), unsigned(tiles_y), unsigned(std::min<int64_t>(count, 65535)));
      transpose_kernel<<<grid, dim3(kTile, kTileRows), 0, stream()>>>(outer, count, rows, cols, s.src_strides[size_t(last)],
                                                                    s.dst_strides[size_t(t)], src, dst);
      check_launch("strided_copy (transpose)");
      return;
    }
  }
  const Plan p = make_plan(s, -1, -1);
  if (total <= int64_t(UINT32_MAX))
    strided_copy_kernel<uint32_t><<<grid_for(total), kThreads, 0, stream()>>>(p, uint32_t(total), src, dst);
  else
    strided_copy_kernel<int64_t><<<grid_for(total), kThreads, 0, stream()>>>(p, total, src, dst);
  check_launch("strided_copy");
}

void argmax(const float* x, int64_t outer, int64_t dim, int64_t inner, int32_t* out) {
  if (outer < 0 || inner < 0)
    throw_range("argmax: outer and inner must be >= 0, got " + std::to_string(outer) + " and " + std::to_string(inner));
  if (dim < 1 || dim > INT32_MAX) throw_range("argmax: dim must be in [1, 2^31 - 1], got " + std::to_string(dim));
  if (outer == 0 || inner == 0) return;
  need(x, "argmax", "x");
  need(out, "argmax", "out");
  if (inner == 1) {
    argmax_rows_kernel<<<grid_for(outer * 32), kThreads, 0, stream()>>>(x, outer, dim, out);
    check_launch("argmax (rows)");
  } else {
    argmax_columns_kernel<<<grid_for(outer * inner), kThreads, 0, stream()>>>(x, outer, dim, inner, out);
    check_launch("argmax (columns)");
  }
}

}  // namespace convkit::cuda
