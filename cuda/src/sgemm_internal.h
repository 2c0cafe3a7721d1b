// Internal to the GEMM files (sgemm.cu, sgemm_tf32.cu) and the convolution (conv.cu): the
// batched GEMM entry, the arguments of one tile-kernel launch, and the global-tile fetch the
// FP32 and TF32 kernels share.
#pragma once
#include <cstdint>

namespace convkit::cuda {

// `batch` independent products, each with convkit::sgemm's contract (row-major, beta == 0
// overwrites C): problem i uses a + i*stride_a, b + i*stride_b, c + i*stride_c. A stride may
// be 0 to share an operand. Arguments are trusted (callers have validated them).
struct GemmBatch {
  bool trans_a, trans_b;
  int64_t m, n, k;
  float alpha;
  const float* a;
  int64_t lda, stride_a;
  const float* b;
  int64_t ldb, stride_b;
  float beta;
  float* c;
  int64_t ldc, stride_c;
  int64_t batch;
};
void sgemm_batched(const GemmBatch& g);

// One launch of a tile kernel. Grid: x over n tiles, y over m tiles, z = problem * splits +
// split. Split s covers k in [s*k_split, min(k, (s+1)*k_split)) (k_split a multiple of the
// kernel's BK) and writes its block of C at c + blockIdx.z*stride_cz; split launches get
// beta = 0 and a workspace as C, summed afterwards. vec_*: the pointer, leading dimension and
// stride allow 16-byte accesses.
struct TileArgs {
  int64_t m, n, k, k_split;
  int splits;
  float alpha, beta;
  const float* a;
  int64_t lda, stride_a;
  const float* b;
  int64_t ldb, stride_b;
  float* c;
  int64_t ldc, stride_cz;
  bool vec_a, vec_b, vec_c;
};

// The TF32 tensor-core kernel (sm_80+ only; the caller checks): 64 or 128 rows per tile.
constexpr int kTf32BlockN = 128, kTf32BlockK = 16;
void launch_sgemm_tf32(bool trans_a, bool trans_b, int block_m, const TileArgs& t, unsigned grid_z);

#ifdef __CUDACC__
__device__ inline int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }

// One operand tile in global memory, ROWS x COLS in storage order (COLS along the contiguous
// dimension), read by THREADS threads in groups of 4 consecutive elements: a 16-byte load
// where allowed, else 4 guarded scalar loads. A thread's groups share a column and are
// kRowStep rows apart. Elements outside rows x cols read as 0.
template <int ROWS, int COLS, int THREADS>
struct TileFetch {
  static constexpr int kGroupsPerRow = COLS / 4;
  static constexpr int kRowStep = THREADS / kGroupsPerRow;
  static constexpr int kGroups = ROWS / kRowStep;
  static_assert(COLS % 4 == 0 && THREADS % kGroupsPerRow == 0 && ROWS % kRowStep == 0, "tile must split evenly");

  float4 v[kGroups];
  const float* p;  // this thread's first element; advance() moves it to the next tile
  int64_t ld;
  int row, col;  // of the thread's first group inside the tile

  __device__ TileFetch(const float* tile, int64_t ld_, int tid)
      : ld(ld_), row(tid / kGroupsPerRow), col(tid % kGroupsPerRow * 4) {
    p = tile + row * ld + col;
  }

  __device__ void advance(int64_t step) { p += step; }

  // rows, cols: how many of the tile's rows and columns lie inside the matrix.
  __device__ void fetch(int rows, int cols, bool vec) {
#pragma unroll
    for (int g = 0; g < kGroups; ++g) {
      const int r = row + g * kRowStep;
      const float* q = p + g * kRowStep * ld;
      if (vec && r < rows && col + 4 <= cols) {
        v[g] = *reinterpret_cast<const float4*>(q);
      } else {
        const bool in = r < rows;
        v[g].x = in && col < cols ? q[0] : 0.f;
        v[g].y = in && col + 1 < cols ? q[1] : 0.f;
        v[g].z = in && col + 2 < cols ? q[2] : 0.f;
        v[g].w = in && col + 3 < cols ? q[3] : 0.f;
      }
    }
  }
};

// Stores 4 consecutive results v (alpha already applied) at row[col..col+3]: C = v + beta*C,
// only the columns below n_in; beta == 0 never reads C, so NaN there does not leak.
__device__ inline void store_c4(float* row, int col, int n_in, float4 v, float beta, bool vec) {
  if (vec && col + 4 <= n_in) {
    float4* p = reinterpret_cast<float4*>(row + col);
    if (beta != 0.f) {
      const float4 old = *p;
      v.x = fmaf(beta, old.x, v.x);
      v.y = fmaf(beta, old.y, v.y);
      v.z = fmaf(beta, old.z, v.z);
      v.w = fmaf(beta, old.w, v.w);
    }
    *p = v;
    return;
  }
  const float out[4] = {v.x, v.y, v.z, v.w};
#pragma unroll
  for (int e = 0; e < 4; ++e) {
    if (col + e < n_in) row[col + e] = beta != 0.f ? fmaf(beta, row[col + e], out[e]) : out[e];
  }
}
#endif

}  // namespace convkit::cuda
