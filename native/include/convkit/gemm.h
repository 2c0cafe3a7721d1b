// Single-precision GEMM, row-major, BLIS-style (packed panels + per-ISA micro-kernel):
//   C[m x n] = alpha * op(A) * op(B) + beta * C
// op(A) is m x k: A is stored m x k (lda >= k), or k x m when trans_a (lda >= m).
// op(B) is k x n: B is stored k x n (ldb >= n), or n x k when trans_b (ldb >= k).
// beta == 0 overwrites C (NaN/Inf already in C do not leak through). Runs on the thread pool.
#pragma once
#include <cstdint>

namespace convkit {

void sgemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha,
           const float* a, int64_t lda, const float* b, int64_t ldb, float beta, float* c,
           int64_t ldc);

// Throws Error naming the argument when the sizes, leading dimensions or pointers are
// inconsistent; sgemm calls it, and so do the other backends' GEMMs.
void validate_sgemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda,
                    const float* b, int64_t ldb, const float* c, int64_t ldc);

}  // namespace convkit
