// FP32 SGEMM on CUDA cores, row-major, with convkit::sgemm's contract, and the dispatcher that
// picks a tile shape, splits k when there are too few tiles to fill the GPU, and routes to the
// opt-in TF32 tensor-core kernel (sgemm_tf32.cu).
//
// The FP32 kernel: a block computes a BM x BN tile of C, each thread a TM x TN micro-tile in
// registers made of 4x4 blocks 16 rows / 32 columns apart, so a warp's shared-memory reads are
// 64 and 128 contiguous bytes (no bank conflicts) and every read is a float4. Both operand
// tiles sit in shared memory k-major (A is transposed on the way in), double-buffered: the
// next BK slice is fetched from global memory into registers while the current one is
// multiplied, then stored to the other buffer, one barrier per slice.
#include <algorithm>
#include <atomic>
#include <string>

#include "convkit/gemm.h"
#include "convkit_cuda/kernels.h"
#include "launch.cuh"
#include "sgemm_internal.h"

namespace convkit::cuda {
namespace {

template <int BM, int BN, int BK, int TM, int TN, int MIN_BLOCKS>
struct Fp32Tile {
  static constexpr int kBM = BM, kBN = BN, kBK = BK, kTM = TM, kTN = TN, kMinBlocks = MIN_BLOCKS;
  static constexpr int kWarpM = TM / 4 * 16, kWarpN = TN / 4 * 32;  // a warp's block of C
  static constexpr int kWarpsM = BM / kWarpM, kWarpsN = BN / kWarpN;
  static constexpr int kThreads = kWarpsM * kWarpsN * 32;
  static_assert(TM % 4 == 0 && TN % 4 == 0 && BM % kWarpM == 0 && BN % kWarpN == 0, "bad tile");
};
// Large problems; m <= 64 (conv forward with 64 or fewer filters); many small tiles for small
// problems (LeNet-sized GEMMs) so that they still spread over the multiprocessors.
using TileL = Fp32Tile<128, 128, 8, 8, 8, 2>;
using TileM = Fp32Tile<64, 128, 8, 8, 8, 4>;
using TileS = Fp32Tile<64, 64, 16, 4, 4, 2>;

// Floats after each shared row, so rows stay 16-byte aligned. The transposed (k-contiguous)
// stores are conflict-free for the 128-wide tiles; TileS (LD 68, 4 column groups) still
// has 2-way conflicts there (a thread mapping or XOR swizzle would remove them; unmeasured).
constexpr int kPad = 4;

// Writes a fetched tile into the k-major shared tile s[BK][LD]. kKContig: the operand is
// stored with k contiguous (its rows are m or n), so each group of 4 goes down a column.
template <bool kKContig, int LD, class Fetch>
__device__ inline void stash(float* s, const Fetch& f) {
#pragma unroll
  for (int g = 0; g < Fetch::kGroups; ++g) {
    const int r = f.row + g * Fetch::kRowStep, c = f.col;
    if (kKContig) {
      s[(c + 0) * LD + r] = f.v[g].x;
      s[(c + 1) * LD + r] = f.v[g].y;
      s[(c + 2) * LD + r] = f.v[g].z;
      s[(c + 3) * LD + r] = f.v[g].w;
    } else {
      *reinterpret_cast<float4*>(s + r * LD + c) = f.v[g];
    }
  }
}

template <class T, bool kTransA, bool kTransB>
__global__ void __launch_bounds__(T::kThreads, T::kMinBlocks) sgemm_fp32_kernel(const TileArgs t) {
  constexpr int BM = T::kBM, BN = T::kBN, BK = T::kBK, TM = T::kTM, TN = T::kTN;
  constexpr int LDA = BM + kPad, LDB = BN + kPad;
  // A is stored m x k (k x m when transposed), B k x n (n x k when transposed).
  using FetchA = TileFetch<kTransA ? BK : BM, kTransA ? BM : BK, T::kThreads>;
  using FetchB = TileFetch<kTransB ? BN : BK, kTransB ? BK : BN, T::kThreads>;
  __shared__ __align__(16) float as[2][BK * LDA];
  __shared__ __align__(16) float bs[2][BK * LDB];

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
  auto store = [&](int buf) {
    stash<!kTransA, LDA>(as[buf], fa);
    stash<kTransB, LDB>(bs[buf], fb);
  };

  const int warp = tid / 32, lane = tid % 32;
  const int wm = warp % T::kWarpsM * T::kWarpM + lane / 8 * 4;  // first row of the micro-tile
  const int wn = warp / T::kWarpsM * T::kWarpN + lane % 8 * 4;  // first column
  float acc[TM][TN];
#pragma unroll
  for (int i = 0; i < TM; ++i)
#pragma unroll
    for (int j = 0; j < TN; ++j) acc[i][j] = 0.f;

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
#pragma unroll
    for (int kk = 0; kk < BK; ++kk) {
      float af[TM], bf[TN];
#pragma unroll
      for (int i = 0; i < TM / 4; ++i)
        *reinterpret_cast<float4*>(af + 4 * i) = *reinterpret_cast<const float4*>(&as[cur][kk * LDA + wm + 16 * i]);
#pragma unroll
      for (int j = 0; j < TN / 4; ++j)
        *reinterpret_cast<float4*>(bf + 4 * j) = *reinterpret_cast<const float4*>(&bs[cur][kk * LDB + wn + 32 * j]);
#pragma unroll
      for (int i = 0; i < TM; ++i)
#pragma unroll
        for (int j = 0; j < TN; ++j) acc[i][j] = fmaf(af[i], bf[j], acc[i][j]);
    }
    if (more) store(cur ^ 1);  // the other buffer's last readers passed the previous barrier
    __syncthreads();
  }

  float* c = t.c + int64_t(blockIdx.z) * t.stride_cz + m0 * t.ldc + n0;
  const float alpha = t.alpha, beta = t.beta;
#pragma unroll
  for (int i = 0; i < TM; ++i) {
    const int r = wm + i / 4 * 16 + i % 4;
    if (r >= m_in) continue;
    float* row = c + r * t.ldc;
#pragma unroll
    for (int j = 0; j < TN / 4; ++j) {
      const float4 v = make_float4(alpha * acc[i][4 * j], alpha * acc[i][4 * j + 1], alpha * acc[i][4 * j + 2],
                                   alpha * acc[i][4 * j + 3]);
      store_c4(row, wn + 32 * j, n_in, v, beta, t.vec_c);
    }
  }
}

// C = sum of the split partial products (already scaled by alpha) + beta*C, in split order.
__global__ void splitk_sum_kernel(const float* parts, int64_t m, int64_t n, int splits, int64_t count, float beta,
                                  float* c, int64_t ldc, int64_t stride_c) {
  const int64_t mn = m * n;
  for (int64_t idx = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; idx < count;
       idx += int64_t(gridDim.x) * blockDim.x) {
    const int64_t problem = idx / mn, e = idx - problem * mn, i = e / n, j = e - i * n;
    const float* p = parts + problem * splits * mn + e;
    float s = 0.f;
    for (int sp = 0; sp < splits; ++sp) s += p[sp * mn];
    float* out = c + problem * stride_c + i * ldc + j;
    *out = beta != 0.f ? fmaf(beta, *out, s) : s;
  }
}

// C = beta*C (k == 0 or alpha == 0); beta == 0 writes zeros without reading C.
__global__ void scale_c_kernel(float* c, int64_t m, int64_t n, int64_t ldc, int64_t stride_c, int64_t count,
                               float beta) {
  const int64_t mn = m * n;
  for (int64_t idx = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; idx < count;
       idx += int64_t(gridDim.x) * blockDim.x) {
    const int64_t problem = idx / mn, e = idx - problem * mn, i = e / n, j = e - i * n;
    float* out = c + problem * stride_c + i * ldc + j;
    *out = beta != 0.f ? beta * *out : 0.f;
  }
}

std::atomic<bool> g_tf32{false};

enum class Kernel { fp32_l, fp32_m, fp32_s, tf32_l, tf32_m };

struct Plan {
  Kernel kernel;
  int bm, bn, bk;
  int64_t k_split;
  int splits;
};

// Split k only in pieces long enough to amortise a tile's prologue and epilogue, and keep the
// partial products (batch * splits * m * n floats) within 64 MiB.
constexpr int64_t kMinSplitK = 256;
constexpr int64_t kMaxSplits = 64;
constexpr int64_t kMaxPartialFloats = int64_t(16) << 20;
constexpr int64_t kMaxKSplit = int64_t(1) << 30;  // kernels count k in int

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// A tile shape, with k split into enough pieces for about two blocks per multiprocessor when
// the tiles alone are too few.
Plan plan_for(const GemmBatch& g, bool tf32) {
  const int64_t sms = std::max(1, probe().multiprocessors);
  auto blocks = [&](int bm, int bn) { return ceil_div(g.m, bm) * ceil_div(g.n, bn) * g.batch; };
  auto with_splits = [&](Plan p) {
    const int64_t tiles = blocks(p.bm, p.bn);
    int64_t s = 1;
    if (tiles < sms) {
      s = std::min({ceil_div(2 * sms, tiles), g.k / kMinSplitK, kMaxSplits,
                    kMaxPartialFloats / std::max<int64_t>(1, g.batch * g.m * g.n)});
      s = std::max<int64_t>(1, s);
    }
    s = std::max(s, ceil_div(g.k, kMaxKSplit));
    p.k_split = ceil_div(ceil_div(g.k, s), p.bk) * p.bk;
    p.splits = int(ceil_div(g.k, p.k_split));
    return p;
  };
  const Plan large = tf32 ? Plan{Kernel::tf32_l, 128, kTf32BlockN, kTf32BlockK, 0, 1}
                          : Plan{Kernel::fp32_l, TileL::kBM, TileL::kBN, TileL::kBK, 0, 1};
  const Plan medium = tf32 ? Plan{Kernel::tf32_m, 64, kTf32BlockN, kTf32BlockK, 0, 1}
                           : Plan{Kernel::fp32_m, TileM::kBM, TileM::kBN, TileM::kBK, 0, 1};
  const Plan small{Kernel::fp32_s, TileS::kBM, TileS::kBN, TileS::kBK, 0, 1};
  if (g.m > 64 && blocks(large.bm, large.bn) >= sms) return with_splits(large);
  const Plan p = with_splits(medium);
  if (tf32 || p.splits * blocks(p.bm, p.bn) >= sms) return p;
  return with_splits(small);
}

bool aligned16(const void* p) { return reinterpret_cast<uintptr_t>(p) % 16 == 0; }

bool vectorizable(const void* p, int64_t ld, int64_t stride, int64_t problems) {
  return aligned16(p) && ld % 4 == 0 && (problems == 1 || stride % 4 == 0);
}

template <class T>
void launch_fp32(bool ta, bool tb, const TileArgs& t, dim3 grid) {
  if (!ta && !tb) sgemm_fp32_kernel<T, false, false><<<grid, T::kThreads, 0, stream()>>>(t);
  else if (!ta && tb) sgemm_fp32_kernel<T, false, true><<<grid, T::kThreads, 0, stream()>>>(t);
  else if (ta && !tb) sgemm_fp32_kernel<T, true, false><<<grid, T::kThreads, 0, stream()>>>(t);
  else sgemm_fp32_kernel<T, true, true><<<grid, T::kThreads, 0, stream()>>>(t);
  check_launch("sgemm_fp32_kernel");
}

// Frees the partial-product buffer even when a launch throws.
struct Partials {
  float* ptr = nullptr;
  ~Partials() { release(ptr); }
};

// Rows [i0, i0 + mp) of problems [p0, p0 + np).
void run_piece(const GemmBatch& g, const Plan& p, int64_t i0, int64_t mp, int64_t p0, int64_t np) {
  TileArgs t;
  t.m = mp;
  t.n = g.n;
  t.k = g.k;
  t.k_split = p.k_split;
  t.splits = p.splits;
  t.alpha = g.alpha;
  t.a = g.a + p0 * g.stride_a + (g.trans_a ? i0 : i0 * g.lda);
  t.lda = g.lda;
  t.stride_a = g.stride_a;
  t.b = g.b + p0 * g.stride_b;
  t.ldb = g.ldb;
  t.stride_b = g.stride_b;
  float* c = g.c + p0 * g.stride_c + i0 * g.ldc;
  Partials parts;
  if (p.splits > 1) {
    parts.ptr = static_cast<float*>(allocate(size_t(np * p.splits * mp * g.n) * sizeof(float)));
    t.c = parts.ptr;
    t.ldc = g.n;
    t.stride_cz = mp * g.n;
    t.beta = 0.f;
  } else {
    t.c = c;
    t.ldc = g.ldc;
    t.stride_cz = g.stride_c;
    t.beta = g.beta;
  }
  const int64_t zs = np * p.splits;
  t.vec_a = vectorizable(t.a, t.lda, t.stride_a, np);
  t.vec_b = vectorizable(t.b, t.ldb, t.stride_b, np);
  t.vec_c = vectorizable(t.c, t.ldc, t.stride_cz, zs);
  const dim3 grid(unsigned(ceil_div(g.n, p.bn)), unsigned(ceil_div(mp, p.bm)), unsigned(zs));
  switch (p.kernel) {
    case Kernel::fp32_l: launch_fp32<TileL>(g.trans_a, g.trans_b, t, grid); break;
    case Kernel::fp32_m: launch_fp32<TileM>(g.trans_a, g.trans_b, t, grid); break;
    case Kernel::fp32_s: launch_fp32<TileS>(g.trans_a, g.trans_b, t, grid); break;
    case Kernel::tf32_l: launch_sgemm_tf32(g.trans_a, g.trans_b, 128, t, grid.z); break;
    case Kernel::tf32_m: launch_sgemm_tf32(g.trans_a, g.trans_b, 64, t, grid.z); break;
  }
  if (p.splits > 1) {
    const int64_t count = np * mp * g.n;
    splitk_sum_kernel<<<grid_for(count), kThreads, 0, stream()>>>(parts.ptr, mp, g.n, p.splits, count, g.beta, c,
                                                                  g.ldc, g.stride_c);
    check_launch("splitk_sum_kernel");
  }
}

}  // namespace

void sgemm_batched(const GemmBatch& g) {
  if (g.m == 0 || g.n == 0 || g.batch == 0) return;
  if (g.k == 0 || g.alpha == 0.f) {
    if (g.beta == 1.f) return;
    const int64_t count = g.batch * g.m * g.n;
    scale_c_kernel<<<grid_for(count), kThreads, 0, stream()>>>(g.c, g.m, g.n, g.ldc, g.stride_c, count, g.beta);
    check_launch("scale_c_kernel");
    return;
  }
  const Plan p = plan_for(g, tf32_enabled() && probe().cc_major >= 8);
  // Grid y and z are limited to 65535: very tall or very many problems go in pieces.
  constexpr int64_t kMaxGrid = 65535;
  const int64_t rows = kMaxGrid * p.bm, problems = std::max<int64_t>(1, kMaxGrid / p.splits);
  for (int64_t i0 = 0; i0 < g.m; i0 += rows)
    for (int64_t p0 = 0; p0 < g.batch; p0 += problems)
      run_piece(g, p, i0, std::min(rows, g.m - i0), p0, std::min(problems, g.batch - p0));
}

void sgemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float* a, int64_t lda,
           const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
  validate_sgemm(trans_a, trans_b, m, n, k, a, lda, b, ldb, c, ldc);
  sgemm_batched({trans_a, trans_b, m, n, k, alpha, a, lda, 0, b, ldb, 0, beta, c, ldc, 0, 1});
}

void set_tf32(bool enabled) { g_tf32.store(enabled, std::memory_order_relaxed); }

bool tf32_enabled() { return g_tf32.load(std::memory_order_relaxed); }

}  // namespace convkit::cuda
