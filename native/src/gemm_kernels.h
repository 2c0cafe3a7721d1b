// Internal to the GEMM: one register-blocked micro-kernel and its two packing routines per
// ISA, gathered in a plain table the driver (gemm.cpp) picks from by active_isa().
// Plain C style on purpose: the ISA files include this header while compiled with wide
// instruction flags, so it must define no inline function the linker could share.
#pragma once
#include <cstddef>
#include <cstdint>

namespace convkit {
namespace gemm {

// Packs the mc x kc block of op(A) that starts at `a` into MR-tall slivers:
// out[s*MR*kc + p*MR + r] = op(A)[s*MR + r][p], rows past mc zero-filled.
// op(A)[i][p] is a[i*lda + p], or a[p*lda + i] when trans.
typedef void (*PackAFn)(const float* a, int64_t lda, bool trans, int64_t mc, int64_t kc, float* out);

// Packs the kc x nc block of op(B) that starts at `b` into NR-wide slivers:
// out[s*NR*kc + p*NR + j] = op(B)[p][s*NR + j], columns past nc zero-filled.
// op(B)[p][j] is b[p*ldb + j], or b[j*ldb + p] when trans.
typedef void (*PackBFn)(const float* b, int64_t ldb, bool trans, int64_t kc, int64_t nc, float* out);

// One MR x NR tile: C = alpha * Asliver * Bsliver + beta * C over the first mr rows and nr
// columns (mr <= MR, nr <= NR). beta == 0 writes C without reading it. Row p of the B
// sliver starts at b + p*b_stride: b_stride is NR for a packed sliver, or ldb when the
// kernel reads a row-major B in place (only if KernelSet::reads_b_in_place).
typedef void (*MicroKernelFn)(int64_t kc, const float* a_sliver, const float* b, int64_t b_stride, float* c,
                              int64_t ldc, float alpha, float beta, int mr, int nr);

struct KernelSet {
  const char* name;
  int mr, nr;      // register tile
  int mc, kc, nc;  // cache blocks: mc a multiple of mr, nc a multiple of nr
  PackAFn pack_a;
  PackBFn pack_b;
  MicroKernelFn kernel;
  // The kernel masks its B loads to the nr valid columns, so B can be read unpacked.
  bool reads_b_in_place;
};

extern const KernelSet kernels_scalar;
extern const KernelSet kernels_avx2;
extern const KernelSet kernels_avx512;

// Small-m products without packing (native/src/isa/gemm_small_*.cpp), for the few rows of a
// Linear layer at small batch, where packing B costs more than the arithmetic:
//   C[m x n] = alpha * A * op(B) + beta * C, A row-major m x k (lda), C row-major (ldc),
// alpha != 0 and k > 0. beta == 0 writes C without reading it.
// dot_nt: B stored n x k (ldb); C[i][j] is the dot product of row i of A with row j of B.
// axpy_nn: B stored k x n (ldb); row i of C is the sum over p of A[i][p] * row p of B.
typedef void (*SmallMFn)(int64_t m, int64_t n, int64_t k, float alpha, const float* a, int64_t lda,
                         const float* b, int64_t ldb, float beta, float* c, int64_t ldc);

struct SmallMKernels {
  SmallMFn dot_nt;
  SmallMFn axpy_nn;
  // The most rows of A for which each beats the packed path (measured per ISA).
  int max_m_dot, max_m_axpy;
};

extern const SmallMKernels small_m_scalar;
extern const SmallMKernels small_m_avx2;
extern const SmallMKernels small_m_avx512;

}  // namespace gemm
}  // namespace convkit
