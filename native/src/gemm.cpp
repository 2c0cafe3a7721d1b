// The SGEMM driver, BLIS style: loops over cache blocks (MC rows of A, KC of the inner
// dimension, NC columns of B), packs an A block and a B panel into contiguous slivers, and
// hands MR x NR tiles to the micro-kernel of the active ISA (native/src/isa/gemm_*.cpp).
// With several threads, a wide C is split by columns around one shared packed A; a tall C
// is split by rows, each thread running the whole loop nest on its own packs. A with few rows
// (a Linear layer at small batch) skips all of it: packing B would cost more than the
// arithmetic, so a small-m kernel (isa/gemm_small_*.cpp) reads A and B in place.
#include "convkit/gemm.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <new>
#include <string>

#include "convkit/error.h"
#include "convkit/isa.h"
#include "convkit/threads.h"
#include "gemm_kernels.h"

namespace convkit {
namespace {

using gemm::KernelSet;

const KernelSet& kernels_for(Isa isa) {
  switch (isa) {
#if CONVKIT_X86_KERNELS  // CMakeLists.txt builds the AVX files on x86 only
    case Isa::avx512: return gemm::kernels_avx512;
    case Isa::avx2: return gemm::kernels_avx2;
#endif
    default: break;
  }
  return gemm::kernels_scalar;
}

// Below this many multiply-adds (~100^3), a second thread costs more than it saves (measured).
constexpr double kMinParallelWork = 1 << 20;
// With at least this many row tiles per thread, threads split C by rows, each packing its own
// B: no barriers, which beat sharing A on 2 cores (bench_sgemm, 2 threads, against OpenBLAS:
// 1024^3 1.09-1.14x instead of 0.91-0.94x, 2048^3 0.95x instead of 0.86x, conv dX 1.35x
// instead of 1.06-1.26x; shapes with few rows, conv forward and dW, keep the column split).
constexpr int64_t kRowsPerThreadForRowSplit = 8;
// A rough single-core rate, only to size how long threads wait for each other.
constexpr double kFlopsPerSecond = 100e9;

const gemm::SmallMKernels& small_m_kernels_for(Isa isa) {
  switch (isa) {
#if CONVKIT_X86_KERNELS
    case Isa::avx512: return gemm::small_m_avx512;
    case Isa::avx2: return gemm::small_m_avx2;
#endif
    default: break;
  }
  return gemm::small_m_scalar;
}

// One growable, 64-byte aligned buffer. Kept per calling thread (thread_local), so that
// concurrent callers, and the pool threads of one call, never share a pack.
class AlignedBuffer {
 public:
  ~AlignedBuffer() { std::free(data_); }
  float* get(size_t floats) {
    if (floats > capacity_) {
      std::free(data_);
      size_t bytes = (floats * sizeof(float) + 63) / 64 * 64;
      data_ = static_cast<float*>(std::aligned_alloc(64, bytes));
      if (!data_) {
        capacity_ = 0;
        throw std::bad_alloc();
      }
      capacity_ = bytes / sizeof(float);
    }
    return data_;
  }

 private:
  float* data_ = nullptr;
  size_t capacity_ = 0;
};

struct PackBuffers {
  AlignedBuffer a, b;
};

PackBuffers& pack_buffers() {
  thread_local PackBuffers buffers;
  return buffers;
}

int64_t round_up(int64_t x, int64_t multiple) { return (x + multiple - 1) / multiple * multiple; }

// Splits `total` into near-equal blocks of at most `max_block`, each a multiple of `unit`,
// so that e.g. k = 300 runs as 152 + 148 rather than 256 + 44.
int64_t balanced_block(int64_t total, int64_t max_block, int64_t unit) {
  int64_t blocks = (total + max_block - 1) / max_block;
  return std::min(max_block, round_up((total + blocks - 1) / blocks, unit));
}

struct Operands {
  bool trans_a, trans_b;
  float alpha, beta;
  const float* a;
  int64_t lda;
  const float* b;
  int64_t ldb;
  float* c;
  int64_t ldc;

  const float* a_at(int64_t i, int64_t p) const { return trans_a ? a + p * lda + i : a + i * lda + p; }
  const float* b_at(int64_t p, int64_t j) const { return trans_b ? b + j * ldb + p : b + p * ldb + j; }
};

// Block sizes of one call, fixed up front so that all threads of a region agree.
struct Blocking {
  int64_t mc, kc;
};

Blocking blocking_for(const KernelSet& ks, int64_t m, int64_t k) {
  return {balanced_block(m, ks.mc, ks.mr), balanced_block(k, ks.kc, 1)};
}

// Multiplies a packed A block (rows [ic, ic+mc) x k-range [pc, pc+kc)) by columns [j0, j1)
// of B into C, packing one L2-sized B panel at a time. The loop order mirrors BLIS on
// Skylake-X with the operands' roles swapped for row-major C: an MR-tall sliver of A (the
// broadcast operand) stays in L1 while the NR-wide slivers of the B panel stream past it.
// When A is at most two slivers tall, B is read too few times to repay packing it, and a
// kernel that can is pointed at the row-major B itself.
void multiply_packed_a(const KernelSet& ks, const Operands& op, const float* packed_a, int64_t ic, int64_t mc,
                       int64_t pc, int64_t kc, int64_t j0, int64_t j1) {
  const bool b_in_place = ks.reads_b_in_place && !op.trans_b && mc <= 2 * ks.mr;
  const int64_t nc_max = balanced_block(j1 - j0, ks.nc, ks.nr);
  float* packed_b = b_in_place ? nullptr : pack_buffers().b.get(size_t(kc) * round_up(nc_max, ks.nr));
  const int64_t b_stride = b_in_place ? op.ldb : ks.nr;
  const float beta = pc == 0 ? op.beta : 1.f;  // later k-blocks accumulate onto C
  for (int64_t jc = j0; jc < j1; jc += nc_max) {
    const int64_t nc = std::min(nc_max, j1 - jc);
    const float* b_panel = op.b_at(pc, jc);
    if (!b_in_place) {
      ks.pack_b(b_panel, op.ldb, op.trans_b, kc, nc, packed_b);
      b_panel = packed_b;
    }
    float* c_block = op.c + ic * op.ldc + jc;
    for (int64_t ir = 0; ir < mc; ir += ks.mr) {
      const float* a_sliver = packed_a + ir * kc;
      const int mr = static_cast<int>(std::min<int64_t>(ks.mr, mc - ir));
      for (int64_t jr = 0; jr < nc; jr += ks.nr) {
        const int nr = static_cast<int>(std::min<int64_t>(ks.nr, nc - jr));
        const float* b_sliver = b_in_place ? b_panel + jr : b_panel + jr * kc;
        ks.kernel(kc, a_sliver, b_sliver, b_stride, c_block + ir * op.ldc + jr, op.ldc, op.alpha, beta, mr, nr);
      }
    }
  }
}

// C[i0:i1, j0:j1] on the calling thread alone.
void gemm_serial(const KernelSet& ks, const Operands& op, int64_t i0, int64_t i1, int64_t j0, int64_t j1,
                 int64_t k) {
  const Blocking bl = blocking_for(ks, i1 - i0, k);
  float* packed_a = pack_buffers().a.get(size_t(bl.kc) * round_up(bl.mc, ks.mr));
  for (int64_t ic = i0; ic < i1; ic += bl.mc) {
    const int64_t mc = std::min(bl.mc, i1 - ic);
    for (int64_t pc = 0; pc < k; pc += bl.kc) {
      const int64_t kc = std::min(bl.kc, k - pc);
      ks.pack_a(op.a_at(ic, pc), op.lda, op.trans_a, mc, kc, packed_a);
      multiply_packed_a(ks, op, packed_a, ic, mc, pc, kc, j0, j1);
    }
  }
}

// Shared state of a call that splits the columns of C across the pool.
struct ColumnSplit {
  Blocking blocks;
  int64_t n_tiles;                  // NR-wide column tiles of C
  int64_t chunks;                   // work items per (A block, k-block), whole tiles each
  float* shared_a;                  // the packed A block all threads read
  std::atomic<int64_t>* next_chunk;  // one counter per (A block, k-block)
  std::atomic<bool> out_of_memory{false};
};

// One thread's part of a column split: the threads pack each A block together (one share of
// slivers each), then take chunks of columns from a shared counter until none are left.
// Taking chunks rather than a fixed share keeps both cores busy when one of them is slowed
// by another process; barriers keep A from being repacked while a thread still reads it.
void gemm_split_columns(const KernelSet& ks, const Operands& op, int64_t m, int64_t n, int64_t k, int tid,
                        int nthreads, Barrier& barrier, ColumnSplit& split) {
  const Blocking bl = split.blocks;
  // Reserve this thread's B panel up front, and check after the first barrier that everyone
  // could: a thread failing to allocate later would leave the others at a barrier forever.
  bool reserved = true;
  try {
    const int64_t widest = (split.n_tiles + split.chunks - 1) / split.chunks * ks.nr;
    pack_buffers().b.get(size_t(bl.kc) * size_t(round_up(std::min<int64_t>(widest, ks.nc), ks.nr)));
  } catch (const std::bad_alloc&) {
    reserved = false;
    split.out_of_memory.store(true);
  }
  int64_t block = 0;
  for (int64_t ic = 0; ic < m; ic += bl.mc) {
    const int64_t mc = std::min(bl.mc, m - ic);
    const int64_t slivers = (mc + ks.mr - 1) / ks.mr;
    const int64_t s0 = slivers * tid / nthreads, s1 = slivers * (tid + 1) / nthreads;
    for (int64_t pc = 0; pc < k; pc += bl.kc, ++block) {
      const int64_t kc = std::min(bl.kc, k - pc);
      if (block > 0) barrier.wait();  // everyone is done with the previous A block
      if (s0 < s1) {
        const int64_t r0 = s0 * ks.mr, rows = std::min(mc, s1 * ks.mr) - r0;
        ks.pack_a(op.a_at(ic + r0, pc), op.lda, op.trans_a, rows, kc, split.shared_a + r0 * kc);
      }
      barrier.wait();  // the whole A block is packed
      if (block == 0 && split.out_of_memory.load()) {
        if (!reserved) throw std::bad_alloc();
        return;
      }
      for (;;) {
        const int64_t item = split.next_chunk[block].fetch_add(1, std::memory_order_relaxed);
        if (item >= split.chunks) break;
        const int64_t j0 = split.n_tiles * item / split.chunks * ks.nr;
        const int64_t j1 = std::min(n, split.n_tiles * (item + 1) / split.chunks * ks.nr);
        multiply_packed_a(ks, op, split.shared_a, ic, mc, pc, kc, j0, j1);
      }
    }
  }
}

// C = beta * C, for k == 0 or alpha == 0, where there is no product to add.
void scale_c(int64_t m, int64_t n, float beta, float* c, int64_t ldc) {
  for (int64_t i = 0; i < m; ++i) {
    float* row = c + i * ldc;
    if (beta == 0.f) {
      std::fill(row, row + n, 0.f);
    } else if (beta != 1.f) {
      for (int64_t j = 0; j < n; ++j) row[j] *= beta;
    }
  }
}

void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

// The threads of a column split meet at barriers, so a thread that is not running (its core
// busy with another process) would stall the others. They first form a team: every thread
// joins, and tid 0 waits for the rest only as long as a small fraction of the work would take
// it alone. If the team is not complete by then, tid 0 closes it and does the whole product
// itself; late threads find it closed and leave. Returns whether this thread is in a full team.
constexpr int kTeamClosed = 1 << 30;

bool join_team(std::atomic<int>& team, int tid, int size, double patience_seconds) {
  int state = team.load(std::memory_order_acquire);
  do {
    if (state & kTeamClosed) return false;
  } while (!team.compare_exchange_weak(state, state + 1, std::memory_order_acq_rel));
  if (tid == 0) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(patience_seconds);
    for (int spins = 0; (team.load(std::memory_order_acquire) & ~kTeamClosed) < size; ++spins) {
      if (spins % 64 == 0 && std::chrono::steady_clock::now() > deadline) break;
      cpu_relax();
    }
    state = team.fetch_or(kTeamClosed, std::memory_order_acq_rel);
    return (state & ~kTeamClosed) == size;
  }
  while (!((state = team.load(std::memory_order_acquire)) & kTeamClosed)) cpu_relax();
  return (state & ~kTeamClosed) == size;
}

// Wide C (the usual conv shape): split columns and share the packed A. Two chunks per
// thread let a thread on a core shared with another process hand work over; more chunks
// cost A-sliver reloads on a quiet machine (1024^3: 0.92x OpenBLAS with 3, 0.97x with 1 or
// 2), and at least four tiles per chunk keep B panels from getting too thin.
void gemm_parallel_columns(const KernelSet& ks, const Operands& op, int64_t m, int64_t n, int64_t k, int nthreads) {
  ColumnSplit split;
  split.blocks = blocking_for(ks, m, k);
  split.n_tiles = (n + ks.nr - 1) / ks.nr;
  split.chunks = std::max<int64_t>(nthreads, std::min<int64_t>(split.n_tiles / 4, 2 * int64_t(nthreads)));
  split.shared_a = pack_buffers().a.get(size_t(split.blocks.kc) * round_up(split.blocks.mc, ks.mr));
  const int64_t blocks = ((m + split.blocks.mc - 1) / split.blocks.mc) * ((k + split.blocks.kc - 1) / split.blocks.kc);
  std::unique_ptr<std::atomic<int64_t>[]> counters(new std::atomic<int64_t>[size_t(blocks)]);
  for (int64_t i = 0; i < blocks; ++i) counters[i].store(0, std::memory_order_relaxed);
  split.next_chunk = counters.get();
  Barrier barrier(nthreads);
  std::atomic<int> team{0};
  const double patience = std::max(20e-6, 0.05 * 2.0 * double(m) * double(n) * double(k) / kFlopsPerSecond);
  parallel_run([&](int tid, int region_threads) {
    // The pool runs a busy region inline on one thread; then so does this product.
    const bool full_team = region_threads == nthreads && join_team(team, tid, nthreads, patience);
    if (full_team) {
      gemm_split_columns(ks, op, m, n, k, tid, nthreads, barrier, split);
    } else if (tid == 0) {
      gemm_serial(ks, op, 0, m, 0, n, k);
    }
  });
}

// Tall C: split rows; each thread packs its own A and (the smaller) B.
void gemm_parallel_rows(const KernelSet& ks, const Operands& op, int64_t m, int64_t n, int64_t k) {
  const int64_t m_tiles = (m + ks.mr - 1) / ks.mr;
  parallel_run([&](int tid, int region_threads) {
    const int64_t i0 = std::min(m, m_tiles * tid / region_threads * ks.mr);
    const int64_t i1 = std::min(m, m_tiles * (tid + 1) / region_threads * ks.mr);
    if (i0 < i1) gemm_serial(ks, op, i0, i1, 0, n, k);
  });
}

// A with at most SmallMKernels::max_m_* rows, not transposed: C without packing, by the
// ISA's small-m kernel. Products above about kMinParallelWork split the columns of C across
// threads, in whole 128-column blocks of the kernels.
void gemm_small_m(gemm::SmallMFn fn, const Operands& op, int64_t m, int64_t n, int64_t k) {
  constexpr int64_t kUnit = 128;
  const int64_t grain = static_cast<int64_t>(kMinParallelWork / (double(m) * double(k) * double(kUnit))) + 1;
  parallel_for((n + kUnit - 1) / kUnit, grain, [&](int64_t u0, int64_t u1) {
    const int64_t j0 = u0 * kUnit, j1 = std::min(n, u1 * kUnit);
    const float* b = op.trans_b ? op.b + j0 * op.ldb : op.b + j0;
    fn(m, j1 - j0, k, op.alpha, op.a, op.lda, b, op.ldb, op.beta, op.c + j0, op.ldc);
  });
}

}  // namespace

void validate_sgemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda,
                     const float* b, int64_t ldb, const float* c, int64_t ldc) {
  auto fail = [](const std::string& what) { throw_range("sgemm: " + what); };
  if (m < 0 || n < 0 || k < 0)
    fail("m, n, k must be >= 0, got " + std::to_string(m) + ", " + std::to_string(n) + ", " + std::to_string(k));
  const int64_t a_cols = trans_a ? m : k, b_cols = trans_b ? k : n;
  if (lda < std::max<int64_t>(1, a_cols))
    fail("lda " + std::to_string(lda) + " is below the row length " + std::to_string(a_cols) + " of A");
  if (ldb < std::max<int64_t>(1, b_cols))
    fail("ldb " + std::to_string(ldb) + " is below the row length " + std::to_string(b_cols) + " of B");
  if (ldc < std::max<int64_t>(1, n)) fail("ldc " + std::to_string(ldc) + " is below n = " + std::to_string(n));
  if (m > 0 && n > 0 && !c) throw_type("sgemm: C is null");
  if (m > 0 && n > 0 && k > 0 && (!a || !b)) throw_type("sgemm: A or B is null");
}

void sgemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float* a, int64_t lda,
           const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
  validate_sgemm(trans_a, trans_b, m, n, k, a, lda, b, ldb, c, ldc);
  if (m == 0 || n == 0) return;
  if (k == 0 || alpha == 0.f) {
    scale_c(m, n, beta, c, ldc);
    return;
  }
  const Operands op{trans_a, trans_b, alpha, beta, a, lda, b, ldb, c, ldc};
  const gemm::SmallMKernels& sk = small_m_kernels_for(active_isa());
  if (!trans_a && m <= (trans_b ? sk.max_m_dot : sk.max_m_axpy)) {
    gemm_small_m(trans_b ? sk.dot_nt : sk.axpy_nn, op, m, n, k);
    return;
  }
  const KernelSet& ks = kernels_for(active_isa());
  const int nthreads = double(m) * double(n) * double(k) < kMinParallelWork ? 1 : num_threads();
  const int64_t m_tiles = (m + ks.mr - 1) / ks.mr, n_tiles = (n + ks.nr - 1) / ks.nr;
  const bool rows_first = m_tiles >= kRowsPerThreadForRowSplit * nthreads;
  if (nthreads > 1 && !rows_first && n_tiles >= nthreads && (n >= m || m_tiles < nthreads)) {
    gemm_parallel_columns(ks, op, m, n, k, nthreads);
  } else if (nthreads > 1 && m_tiles >= nthreads) {
    gemm_parallel_rows(ks, op, m, n, k);
  } else {
    gemm_serial(ks, op, 0, m, 0, n, k);
  }
}

}  // namespace convkit
