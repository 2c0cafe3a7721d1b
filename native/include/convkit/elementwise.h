// The autograd's elementwise helpers for the cpu backend, vectorised per ISA and split over
// threads for large arrays. They mean what the js backend's loops mean (lib/backend/host.ts).
// Errors: convkit::Error, range for bad sizes or shapes, type for a null array that is needed.
#pragma once
#include <cstdint>

namespace convkit {

// y[i] += alpha * x[i] for i < n, one rounding where the CPU has FMA. x may be y.
void axpy(int64_t n, float alpha, const float* x, float* y);

// x[i] *= alpha for i < n.
void scale(int64_t n, float alpha, float* x);

// y [m, n] = c broadcast from [rows, cols], rows 1 or m, cols 1 or n (a Linear bias):
// y[i][j] = c[(rows == 1 ? 0 : i) * cols + (cols == 1 ? 0 : j)].
void broadcast2d(const float* c, int64_t rows, int64_t cols, int64_t m, int64_t n, float* y);

// dc [rows, cols] = beta * dy [m, n] summed over the dims broadcast2d broadcasts along (its
// adjoint; a Linear bias gradient is [1, n]); dc is overwritten, and is beta * 0 when m*n
// is 0. Column sums ([1, n]) accumulate in float vectors, row and total sums ([m, 1],
// [1, 1]) in double. Partial sums are cut by the shape alone, so a result does not depend on
// the number of threads.
void reduce2d(const float* dy, int64_t rows, int64_t cols, int64_t m, int64_t n, float beta, float* dc);

}  // namespace convkit
