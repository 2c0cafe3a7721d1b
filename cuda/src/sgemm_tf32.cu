// The opt-in TF32 SGEMM on tensor cores (WMMA m16n16k8, FP32 accumulation), sm_80+ only.
//
// A block computes a BM x 128 tile of C (BM = 64 or 128) with BM/32 warps, each warp a 64 x 32
// block held as 4 x 2 accumulator fragments. Operand tiles are fetched from global memory
// with guarded loads (any m, n, k, transposes, leading dimensions), rounded to TF32 once on
// the way into shared memory and stored in their storage order, so the copy is a plain
// 16-byte store and the fragment layout (row or column major) follows the transpose.
// Double-buffered like the FP32 kernel. The epilogue goes through shared memory one fragment
// at a time, so alpha, beta and the edge guards apply to plain floats.
#include <mma.h>

#include <type_traits>

#include "launch.cuh"
#include "sgemm_internal.h"

namespace convkit::cuda {
namespace {

template <int BM, bool kTransA, bool kTransB>
__global__ void __launch_bounds__(2 * BM, BM == 128 ? 2 : 3) sgemm_tf32_kernel(const TileArgs t) {
#if __CUDA_ARCH__ >= 800
  using namespace nvcuda;
  constexpr int BN = kTf32BlockN, BK = kTf32BlockK, kThreads = 2 * BM, kPad = 4;
  constexpr int kWarpsN = 4, kFragM = 4, kFragN = 2;  // each warp: 64 x 32 of C
  constexpr int kRowsA = kTransA ? BK : BM, kColsA = kTransA ? BM : BK, kLdA = kColsA + kPad;
  constexpr int kRowsB = kTransB ? BN : BK, kColsB = kTransB ? BK : BN, kLdB = kColsB + kPad;
  constexpr int kSizeA = kRowsA * kLdA, kSizeB = kRowsB * kLdB;
  // Fragment pointers must be 32-byte aligned: every offset below is a multiple of 8 floats.
  static_assert(kLdA % 4 == 0 && kLdB % 4 == 0 && kSizeA % 8 == 0 && kSizeB % 8 == 0, "fragment alignment");
  static_assert(2 * (kSizeA + kSizeB) >= kThreads / 32 * 256, "epilogue staging must fit");
  using FetchA = TileFetch<kRowsA, kColsA, kThreads>;
  using FetchB = TileFetch<kRowsB, kColsB, kThreads>;
  using LayoutA = std::conditional_t<kTransA, wmma::col_major, wmma::row_major>;
  using LayoutB = std::conditional_t<kTransB, wmma::col_major, wmma::row_major>;
  __shared__ __align__(128) float smem[2 * (kSizeA + kSizeB)];
  float* as = smem;               // two buffers of kSizeA
  float* bs = smem + 2 * kSizeA;  // two buffers of kSizeB

  const int tid = threadIdx.x;
  const int64_t problem = blockIdx.z / t.splits, split = blockIdx.z % t.splits;
  const int64_t m0 = int64_t(blockIdx.y) * BM, n0 = int64_t(blockIdx.x) * BN, k0 = split * t.k_split;
  const int k_len = int(min64(t.k_split, t.k - k0));  // the dispatcher keeps k_split below 2^31
  const int m_in = int(min64(t.m - m0, BM)), n_in = int(min64(t.n - n0, BN));
  FetchA fa(t.a + problem * t.stride_a + (kTransA ? k0 * t.lda + m0 : m0 * t.lda + k0), t.lda, tid);
  FetchB fb(t.b + problem * t.stride_b + (kTransB ? n0 * t.ldb + k0 : k0 * t.ldb + n0), t.ldb, tid);
  auto fetch = [&](int k_left) {
    const int k_in = k_left < BK ? k_left : BK;
    fa.fetch(kTransA ? k_in : m_in, kTransA ? m_in : k_in, t.vec_a);
    fb.fetch(kTransB ? n_in : k_in, kTransB ? k_in : n_in, t.vec_b);
  };
  auto to_tf32 = [](float4 v) {
    return make_float4(wmma::__float_to_tf32(v.x), wmma::__float_to_tf32(v.y), wmma::__float_to_tf32(v.z),
                       wmma::__float_to_tf32(v.w));
  };
  auto store = [&](int buf) {
#pragma unroll
    for (int g = 0; g < FetchA::kGroups; ++g)
      *reinterpret_cast<float4*>(as + buf * kSizeA + (fa.row + g * FetchA::kRowStep) * kLdA + fa.col) =
          to_tf32(fa.v[g]);
#pragma unroll
    for (int g = 0; g < FetchB::kGroups; ++g)
      *reinterpret_cast<float4*>(bs + buf * kSizeB + (fb.row + g * FetchB::kRowStep) * kLdB + fb.col) =
          to_tf32(fb.v[g]);
  };

  const int warp = tid / 32, lane = tid % 32;
  const int wr = warp / kWarpsN * 64, wc = warp % kWarpsN * 32;  // the warp's block of C
  wmma::fragment<wmma::accumulator, 16, 16, 8, float> acc[kFragM][kFragN];
#pragma unroll
  for (int i = 0; i < kFragM; ++i)
#pragma unroll
    for (int j = 0; j < kFragN; ++j) wmma::fill_fragment(acc[i][j], 0.f);

  const int k_tiles = (k_len + BK - 1) / BK;
  fetch(k_len);
  store(0);
  __syncthreads();
  for (int kt = 0; kt < k_tiles; ++kt) {
    const int cur = kt & 1;
    const bool more = kt + 1 < k_tiles;
    if (more) {
      fa.advance(kTransA ? BK * t.lda : BK);
      fb.advance(kTransB ? BK : BK * t.ldb);
      fetch(k_len - (kt + 1) * BK);
    }
    const float* sa = as + cur * kSizeA;
    const float* sb = bs + cur * kSizeB;
#pragma unroll
    for (int ks = 0; ks < BK; ks += 8) {
      // Shared values are already TF32-rounded, so the fragments need no conversion.
      wmma::fragment<wmma::matrix_b, 16, 16, 8, wmma::precision::tf32, LayoutB> frb[kFragN];
#pragma unroll
      for (int j = 0; j < kFragN; ++j) {
        const int c = wc + 16 * j;
        wmma::load_matrix_sync(frb[j], kTransB ? sb + c * kLdB + ks : sb + ks * kLdB + c, kLdB);
      }
#pragma unroll
      for (int i = 0; i < kFragM; ++i) {
        const int r = wr + 16 * i;
        wmma::fragment<wmma::matrix_a, 16, 16, 8, wmma::precision::tf32, LayoutA> fra;
        wmma::load_matrix_sync(fra, kTransA ? sa + ks * kLdA + r : sa + r * kLdA + ks, kLdA);
#pragma unroll
        for (int j = 0; j < kFragN; ++j) wmma::mma_sync(acc[i][j], fra, frb[j], acc[i][j]);
      }
    }
    if (more) store(cur ^ 1);  // the other buffer's last readers passed the previous barrier
    __syncthreads();
  }

  // The loop ended on a barrier, so the tiles are free: each warp stages one fragment at a
  // time in its own 16 x 16 patch; a lane writes 8 consecutive values of one row.
  float* stage = smem + warp * 256;
  float* c = t.c + int64_t(blockIdx.z) * t.stride_cz + m0 * t.ldc + n0;
  const int lr = lane / 2, lc = lane % 2 * 8;
#pragma unroll
  for (int i = 0; i < kFragM; ++i) {
#pragma unroll
    for (int j = 0; j < kFragN; ++j) {
      wmma::store_matrix_sync(stage, acc[i][j], 16, wmma::mem_row_major);
      __syncwarp();
      const int r = wr + 16 * i + lr;
      if (r < m_in) {
        float* row = c + r * t.ldc;
#pragma unroll
        for (int h = 0; h < 2; ++h) {
          const float* s = stage + lr * 16 + lc + 4 * h;
          const float4 v = make_float4(t.alpha * s[0], t.alpha * s[1], t.alpha * s[2], t.alpha * s[3]);
          store_c4(row, wc + 16 * j + lc + 4 * h, n_in, v, t.beta, t.vec_c);
        }
      }
      __syncwarp();
    }
  }
#endif
}

template <int BM>
void launch(bool ta, bool tb, const TileArgs& t, dim3 grid) {
  constexpr int threads = 2 * BM;
  if (!ta && !tb) sgemm_tf32_kernel<BM, false, false><<<grid, threads, 0, stream()>>>(t);
  else if (!ta && tb) sgemm_tf32_kernel<BM, false, true><<<grid, threads, 0, stream()>>>(t);
  else if (ta && !tb) sgemm_tf32_kernel<BM, true, false><<<grid, threads, 0, stream()>>>(t);
  else sgemm_tf32_kernel<BM, true, true><<<grid, threads, 0, stream()>>>(t);
  check_launch("sgemm_tf32_kernel");
}

}  // namespace

void launch_sgemm_tf32(bool trans_a, bool trans_b, int block_m, const TileArgs& t, unsigned grid_z) {
  const dim3 grid(unsigned((t.n + kTf32BlockN - 1) / kTf32BlockN), unsigned((t.m + block_m - 1) / block_m), grid_z);
  if (block_m == 128) launch<128>(trans_a, trans_b, t, grid);
  else launch<64>(trans_a, trans_b, t, grid);
}

}  // namespace convkit::cuda
