// The autograd's elementwise helpers (convkit/elementwise.h): argument checks and the split
// over threads here (elementwise_split.h), the vector loops in vec_kernels.h.
#include "convkit/elementwise.h"

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "convkit/error.h"
#include "convkit/threads.h"
#include "elementwise_split.h"
#include "vec_kernels.h"

namespace convkit {
namespace {

// [1, n] sums at least this wide split by columns; narrower ones by rows, into at most
// kMaxRowChunks partial sums.
constexpr int64_t kWideColumns = 1024;
constexpr int64_t kMaxRowChunks = 64;

void check_count(const char* op, int64_t n) {
  if (n < 0) throw_range(std::string(op) + ": element count must be >= 0, got " + std::to_string(n));
}

void need(const void* p, const char* op, const char* name) {
  if (!p) throw_type(std::string(op) + ": " + name + " is null");
}

void check_broadcast(const char* op, int64_t rows, int64_t cols, int64_t m, int64_t n) {
  if (m < 0 || n < 0 || (rows != 1 && rows != m) || (cols != 1 && cols != n))
    throw_range(std::string(op) + ": [" + std::to_string(rows) + ", " + std::to_string(cols) +
                "] does not broadcast to [" + std::to_string(m) + ", " + std::to_string(n) + "]");
}

// fn(i0, i1) over the rows of an [m, n] array, at least kGrain elements per thread.
template <class F>
void for_rows(int64_t m, int64_t n, F&& fn) {
  parallel_for(m, ceil_div(kGrain, std::max<int64_t>(n, 1)), fn);
}

void scale_in_place(const VecKernels& k, float* x, float beta, int64_t n) {
  if (beta != 1.f) k.scale_to(x, beta, x, n);
}

// dc[j] = beta * sum over i of dy[i][j]. Wide: each column down all rows on one thread.
// Narrow: row chunks (cut by the shape) give partial sums, whose column sums are dc.
void column_sums(const VecKernels& k, const float* dy, int64_t m, int64_t n, float beta, float* dc) {
  if (n >= kWideColumns) {
    constexpr int64_t kUnit = 128;
    parallel_for(ceil_div(n, kUnit), ceil_div(kGrain, m * kUnit), [&](int64_t u0, int64_t u1) {
      const int64_t j0 = u0 * kUnit, j1 = std::min(n, u1 * kUnit);
      k.col_sums(dy + j0, m, j1 - j0, n, dc + j0);
      scale_in_place(k, dc + j0, beta, j1 - j0);
    });
    return;
  }
  const int64_t chunk_rows = std::max(ceil_div(kGrain, n), ceil_div(m, kMaxRowChunks));
  const int64_t chunks = ceil_div(m, chunk_rows);
  if (chunks > 1) {
    std::vector<float> partial(static_cast<size_t>(chunks * n));
    parallel_for(chunks, 1, [&](int64_t c0, int64_t c1) {
      for (int64_t c = c0; c < c1; ++c) {
        const int64_t i0 = c * chunk_rows, rows = std::min(chunk_rows, m - i0);
        k.col_sums(dy + i0 * n, rows, n, n, partial.data() + c * n);
      }
    });
    k.col_sums(partial.data(), chunks, n, n, dc);
  } else {
    k.col_sums(dy, m, n, n, dc);
  }
  scale_in_place(k, dc, beta, n);
}

// dc[0] = beta * the sum of all `total` elements, in double over fixed blocks.
void total_sum(const VecKernels& k, const float* dy, int64_t total, float beta, float* dc) {
  const int64_t blocks = ceil_div(total, kGrain);
  double sum = 0;
  if (blocks == 1) {
    sum = k.sum_f64(dy, total);
  } else {
    std::vector<double> partial(static_cast<size_t>(blocks));
    parallel_for(blocks, 1, [&](int64_t b0, int64_t b1) {
      for (int64_t b = b0; b < b1; ++b) partial[b] = k.sum_f64(dy + b * kGrain, std::min(kGrain, total - b * kGrain));
    });
    for (double p : partial) sum += p;
  }
  dc[0] = float(sum) * beta;
}

}  // namespace

void axpy(int64_t n, float alpha, const float* x, float* y) {
  check_count("axpy", n);
  if (n == 0) return;
  need(x, "axpy", "x");
  need(y, "axpy", "y");
  const VecKernels& k = active_vec_kernels();
  for_elems(n, [&](int64_t a, int64_t b) { k.axpy(x + a, alpha, y + a, b - a); });
}

void scale(int64_t n, float alpha, float* x) {
  check_count("scale", n);
  if (n == 0 || alpha == 1.f) return;  // x * 1 is x, NaN and -0 included
  need(x, "scale", "x");
  const VecKernels& k = active_vec_kernels();
  for_elems(n, [&](int64_t a, int64_t b) { k.scale_to(x + a, alpha, x + a, b - a); });
}

void broadcast2d(const float* c, int64_t rows, int64_t cols, int64_t m, int64_t n, float* y) {
  check_broadcast("broadcast2d", rows, cols, m, n);
  const int64_t total = m * n;
  if (total == 0) return;
  need(c, "broadcast2d", "c");
  need(y, "broadcast2d", "y");
  const VecKernels& k = active_vec_kernels();
  if (rows == m && cols == n) {
    for_elems(total, [&](int64_t a, int64_t b) { std::memcpy(y + a, c + a, size_t(b - a) * sizeof(float)); });
  } else if (rows == 1 && cols == 1) {
    for_elems(total, [&](int64_t a, int64_t b) { k.fill(y + a, c[0], b - a); });
  } else if (cols == 1) {  // [m, 1]: row i is c[i]
    for_rows(m, n, [&](int64_t i0, int64_t i1) {
      for (int64_t i = i0; i < i1; ++i) k.fill(y + i * n, c[i], n);
    });
  } else {  // [1, n]: every row is c
    for_rows(m, n, [&](int64_t i0, int64_t i1) {
      for (int64_t i = i0; i < i1; ++i) std::memcpy(y + i * n, c, size_t(n) * sizeof(float));
    });
  }
}

void reduce2d(const float* dy, int64_t rows, int64_t cols, int64_t m, int64_t n, float beta, float* dc) {
  check_broadcast("reduce2d", rows, cols, m, n);
  const int64_t out = rows * cols;
  if (out == 0) return;
  need(dc, "reduce2d", "dc");
  const VecKernels& k = active_vec_kernels();
  if (m == 0 || n == 0) {
    k.fill(dc, 0.f * beta, out);  // a sum over nothing, scaled like any other
    return;
  }
  need(dy, "reduce2d", "dy");
  if (rows == m && cols == n) {
    for_elems(out, [&](int64_t a, int64_t b) { k.scale_to(dy + a, beta, dc + a, b - a); });
  } else if (rows == 1 && cols == 1) {
    total_sum(k, dy, m * n, beta, dc);
  } else if (cols == 1) {  // [m, 1]: the sum of each row
    for_rows(m, n, [&](int64_t i0, int64_t i1) {
      for (int64_t i = i0; i < i1; ++i) dc[i] = float(k.sum_f64(dy + i * n, n)) * beta;
    });
  } else {  // [1, n]: the sum of each column
    column_sums(k, dy, m, n, beta, dc);
  }
}

}  // namespace convkit
