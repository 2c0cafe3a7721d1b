// Broadcasting arithmetic, clamp and sums over axes (convkit/arith.h): shape checks, the walk
// over the outer dims and the split over threads here, the vector loops in vec_kernels.h.
//
// binary: the innermost dim is the vector loop (operands contiguous or one of them a scalar
// there: after coalescing its strides are 1 or 0), every outer dim a row; rows, and pieces
// of long rows, are split over threads. Each element is computed alone, so the split cannot
// change a result.
//
// sum_axes: x is an innermost dim of length L (contiguous) and outer dims, kept or reduced.
// When the innermost dim is reduced, each output is a sum of runs of L: output by output,
// cut into fixed pieces of kGrain elements, or, when a reduced dim lies outside a kept one,
// in memory order in blocks of runs with a row of partial outputs each. When it is kept,
// each output row is a sum of rows of L, added into double accumulators column chunk by
// column chunk, with the rows cut into blocks only when there are too few (row, column
// chunk) units to share out. Every cut depends on the shape alone, and partials are added
// in a fixed order.
#include "convkit/arith.h"

#include <algorithm>
#include <string>
#include <vector>

#include "convkit/error.h"
#include "convkit/threads.h"
#include "elementwise_split.h"
#include "vec_kernels.h"

namespace convkit {
namespace {

// Doubles per column accumulator (16 KiB, in L1): wide enough that a row is read in long
// sequential stretches (a chunk of 256 made each row a page of its own, and the prefetcher
// stops at page boundaries: column sums of [4096, 1024] ran at 2.7 GB/s, now about 10).
constexpr int64_t kColumnChunk = 2048;
constexpr int64_t kMinUnits = 64;       // fewer (row, column chunk) units: cut the rows too
constexpr int64_t kMaxRowBlocks = 16;
constexpr int64_t kMaxPartials = int64_t(1) << 20;  // doubles of per-block partial outputs

void need(const void* p, const char* op, const char* name) {
  if (!p) throw_type(std::string(op) + ": " + name + " is null");
}

void check_count(const char* op, int64_t n) {
  if (n < 0) throw_range(std::string(op) + ": element count must be >= 0, got " + std::to_string(n));
}

void check_rank(int32_t rank, const char* op) {
  if (rank < 1 || rank > kMaxArithDims)
    throw_range(std::string(op) + ": rank must be in [1, " + std::to_string(kMaxArithDims) + "], got " +
                std::to_string(rank));
}

// The product of n sizes, RangeError beyond 2^62 (a hostile shape must not wrap around).
int64_t checked_product(const int64_t* sizes, int n, const char* op) {
  int64_t p = 1;
  for (int i = 0; i < n; ++i) {
    if (sizes[i] == 0) return 0;
    if (__builtin_mul_overflow(p, sizes[i], &p) || p > (int64_t(1) << 62))
      throw_range(std::string(op) + ": the shape has too many elements");
  }
  return p;
}

float apply(int op, float a, float b) {
  switch (op) {
    case 0: return a + b;
    case 1: return a - b;
    case 2: return a * b;
    default: return a / b;
  }
}

// Some dims of x (sizes and x's element strides) walked as one mixed-radix counter.
struct Dims {
  int n = 0;
  int64_t size[kMaxArithDims] = {};
  int64_t stride[kMaxArithDims] = {};
  int64_t count() const {
    int64_t c = 1;
    for (int i = 0; i < n; ++i) c *= size[i];
    return c;
  }
};

// A position in Dims and its offset in x.
struct Cursor {
  const Dims& d;
  int64_t idx[kMaxArithDims] = {};
  int64_t offset = 0;
  Cursor(const Dims& dims, int64_t i) : d(dims) { seek(i); }
  void seek(int64_t i) {
    offset = 0;
    for (int k = d.n - 1; k >= 0; --k) {
      idx[k] = i % d.size[k];
      i /= d.size[k];
      offset += idx[k] * d.stride[k];
    }
  }
  void next() {
    for (int k = d.n - 1; k >= 0; --k) {
      offset += d.stride[k];
      if (++idx[k] < d.size[k]) return;
      offset -= d.size[k] * d.stride[k];
      idx[k] = 0;
    }
  }
};

// Innermost dim reduced: y[k] = beta * the sum over the runs of x that belong to output k,
// each run L contiguous elements at the offset of (k, r). Output by output: each output's
// runs, cut into pieces of kGrain elements when long (double partials added in order).
void sum_runs_by_output(const VecKernels& vk, const Dims& kept, const Dims& red, int64_t len, const float* x,
                        float beta, float* y) {
  const int64_t outputs = kept.count(), runs = red.count(), per_output = runs * len;
  const int64_t pieces = ceil_div(per_output, kGrain);
  // The sum of elements [e0, e1) of output k's reduction, in run order.
  auto partial = [&](int64_t k, int64_t e0, int64_t e1) {
    const int64_t base = Cursor(kept, k).offset;
    Cursor r(red, e0 / len);
    int64_t pos = e0 % len;
    double s = 0;
    while (e0 < e1) {
      const int64_t take = std::min(len - pos, e1 - e0);
      s += vk.sum_f64(x + base + r.offset + pos, take);
      e0 += take;
      pos = 0;
      r.next();
    }
    return s;
  };
  if (pieces == 1) {
    parallel_for(outputs, std::max<int64_t>(1, kGrain / per_output), [&](int64_t k0, int64_t k1) {
      for (int64_t k = k0; k < k1; ++k) y[k] = float(partial(k, 0, per_output)) * beta;
    });
    return;
  }
  std::vector<double> parts(size_t(outputs * pieces));
  parallel_for(outputs * pieces, 1, [&](int64_t u0, int64_t u1) {
    for (int64_t u = u0; u < u1; ++u) {
      const int64_t e0 = (u % pieces) * kGrain;
      parts[size_t(u)] = partial(u / pieces, e0, std::min(per_output, e0 + kGrain));
    }
  });
  for (int64_t k = 0; k < outputs; ++k) {
    double s = 0;
    for (int64_t p = 0; p < pieces; ++p) s += parts[size_t(k * pieces + p)];
    y[k] = float(s) * beta;
  }
}

// The same sums with x read in memory order, for a reduced dim outside a kept one (a
// per-channel bias gradient, [N, C, HW] summed over N and HW): output by output, each run
// would be a jump of C * HW elements. The runs are cut into blocks (by the shape), each
// adding its runs' sums into its own row of double partials, which are then added in order.
void sum_runs_in_order(const VecKernels& vk, const Dims& outer_out, int64_t outputs, int64_t len, int64_t blocks,
                       const float* x, float beta, float* y) {
  const int64_t runs = outer_out.count(), block_runs = ceil_div(runs, blocks);
  blocks = ceil_div(runs, block_runs);
  std::vector<double> parts(size_t(blocks * outputs), 0.0);
  parallel_for(blocks, 1, [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) {
      double* acc = parts.data() + b * outputs;
      const int64_t r0 = b * block_runs, r1 = std::min(runs, r0 + block_runs);
      Cursor k(outer_out, r0);  // its offset is the output index of run r
      for (int64_t r = r0; r < r1; ++r, k.next()) acc[k.offset] += vk.sum_f64(x + r * len, len);
    }
  });
  for (int64_t k = 0; k < outputs; ++k) {
    double s = 0;
    for (int64_t b = 0; b < blocks; ++b) s += parts[size_t(b * outputs + k)];
    y[k] = float(s) * beta;
  }
}

// Innermost dim kept: output row k (L wide) = beta * the sum of the rows of x at (k, r).
void sum_rows(const VecKernels& vk, const Dims& kept, const Dims& red, int64_t len, const float* x, float beta,
              float* y) {
  const int64_t outputs = kept.count(), rows = red.count();
  const int64_t chunks = ceil_div(len, kColumnChunk), chunk = std::min(len, kColumnChunk);
  int64_t blocks = 1;
  if (outputs * chunks < kMinUnits) {
    blocks = std::clamp<int64_t>(ceil_div(rows * chunk, kGrain), 1, kMaxRowBlocks);
    blocks = std::max<int64_t>(1, std::min(blocks, kMaxPartials / (outputs * len)));  // at most 8 MiB of partials
  }
  const int64_t block_rows = ceil_div(rows, blocks);
  blocks = ceil_div(rows, block_rows);
  std::vector<double> parts(blocks > 1 ? size_t(blocks * outputs * len) : 0);
  const int64_t units = outputs * chunks * blocks;
  parallel_for(units, std::max<int64_t>(1, kGrain / (block_rows * chunk)), [&](int64_t u0, int64_t u1) {
    std::vector<double> acc(static_cast<size_t>(chunk));
    for (int64_t u = u0; u < u1; ++u) {
      const int64_t b = u % blocks, c = (u / blocks) % chunks, k = u / (blocks * chunks);
      const int64_t j0 = c * kColumnChunk, width = std::min(kColumnChunk, len - j0);
      const int64_t r0 = b * block_rows, r1 = std::min(rows, r0 + block_rows);
      const float* base = x + Cursor(kept, k).offset + j0;
      std::fill(acc.begin(), acc.begin() + width, 0.0);
      Cursor r(red, r0);
      for (int64_t i = r0; i < r1; ++i, r.next()) vk.acc_f64(acc.data(), base + r.offset, width);
      if (blocks == 1) {
        for (int64_t j = 0; j < width; ++j) y[k * len + j0 + j] = float(acc[size_t(j)]) * beta;
      } else {
        std::copy(acc.begin(), acc.begin() + width, parts.begin() + (b * outputs + k) * len + j0);
      }
    }
  });
  if (blocks == 1) return;
  for (int64_t i = 0; i < outputs * len; ++i) {
    double s = 0;
    for (int64_t b = 0; b < blocks; ++b) s += parts[size_t(b * outputs * len + i)];
    y[i] = float(s) * beta;
  }
}

}  // namespace

void check_broadcast_shape(const BroadcastShape& g, const char* op) {
  check_rank(g.rank, op);
  for (int i = 0; i < g.rank; ++i) {
    if (g.shape[i] < 0 || g.a_stride[i] < 0 || g.b_stride[i] < 0)
      throw_range(std::string(op) + ": dim " + std::to_string(i) + " has size " + std::to_string(g.shape[i]) +
                  " and strides " + std::to_string(g.a_stride[i]) + ", " + std::to_string(g.b_stride[i]) +
                  " (each must be >= 0)");
  }
  checked_product(g.shape, g.rank, op);
}

int64_t broadcast_size(const BroadcastShape& g) { return checked_product(g.shape, g.rank, "broadcast"); }

int64_t broadcast_extent(const BroadcastShape& g, const int64_t* strides) {
  if (broadcast_size(g) == 0) return 0;
  int64_t last = 0, step = 0;
  for (int i = 0; i < g.rank; ++i) {
    if (__builtin_mul_overflow(g.shape[i] - 1, strides[i], &step) || __builtin_add_overflow(last, step, &last) ||
        last > (int64_t(1) << 62))
      throw_range("broadcast: the strides reach too far");
  }
  return last + 1;
}

void binary(BinaryOp op, const BroadcastShape& g, const float* a, const float* b, float* y) {
  const char* fn = "binary";
  check_broadcast_shape(g, fn);
  const int o = int(op);
  if (o < 0 || o > 3) throw_range(std::string(fn) + ": op must be 0..3 (add, sub, mul, div), got " + std::to_string(o));
  const int64_t total = broadcast_size(g);
  if (total == 0) return;
  need(a, fn, "a");
  need(b, fn, "b");
  need(y, fn, "y");
  const VecKernels& vk = active_vec_kernels();
  const int inner = g.rank - 1;
  const int64_t n = g.shape[inner], sa = g.a_stride[inner], sb = g.b_stride[inner];
  const int64_t piece = std::min(n, kGrain), pieces = ceil_div(n, piece);
  Dims outer;  // the rows: every dim but the innermost, with a's and b's strides below
  outer.n = inner;
  for (int d = 0; d < inner; ++d) outer.size[d] = g.shape[d];
  Dims a_outer = outer, b_outer = outer;
  for (int d = 0; d < inner; ++d) {
    a_outer.stride[d] = g.a_stride[d];
    b_outer.stride[d] = g.b_stride[d];
  }
  auto run = [&](const float* pa, const float* pb, float* py, int64_t len) {
    if (sa == 1 && sb == 1) vk.binary_vv[o](pa, pb, py, len);
    else if (sa == 1 && sb == 0) vk.binary_vs[o](pa, *pb, py, len);
    else if (sa == 0 && sb == 1) vk.binary_sv[o](*pa, pb, py, len);
    else
      for (int64_t i = 0; i < len; ++i) py[i] = apply(o, pa[i * sa], pb[i * sb]);
  };
  parallel_for((total / n) * pieces, std::max<int64_t>(1, kGrain / piece), [&](int64_t u0, int64_t u1) {
    int64_t row = u0 / pieces, p = u0 % pieces;
    Cursor ca(a_outer, row), cb(b_outer, row);
    for (int64_t u = u0; u < u1; ++u) {
      const int64_t j0 = p * piece, len = std::min(piece, n - j0);
      run(a + ca.offset + j0 * sa, b + cb.offset + j0 * sb, y + row * n + j0, len);
      if (++p == pieces) {
        p = 0;
        ++row;
        ca.next();
        cb.next();
      }
    }
  });
}

void check_reduce_shape(const ReduceShape& g, const char* op) {
  check_rank(g.rank, op);
  for (int i = 0; i < g.rank; ++i)
    if (g.shape[i] < 0)
      throw_range(std::string(op) + ": dim " + std::to_string(i) + " has size " + std::to_string(g.shape[i]));
  checked_product(g.shape, g.rank, op);
}

int64_t reduce_input_size(const ReduceShape& g) { return checked_product(g.shape, g.rank, "sum_axes"); }

int64_t reduce_output_size(const ReduceShape& g) {
  int64_t kept[kMaxArithDims];
  int n = 0;
  for (int i = 0; i < g.rank; ++i)
    if (!g.reduced[i]) kept[n++] = g.shape[i];
  return checked_product(kept, n, "sum_axes");
}

void sum_axes(const ReduceShape& g, const float* x, float beta, float* y) {
  const char* fn = "sum_axes";
  check_reduce_shape(g, fn);
  const int64_t in = reduce_input_size(g), out = reduce_output_size(g);
  if (out == 0) return;
  need(y, fn, "y");
  const VecKernels& vk = active_vec_kernels();
  if (in == 0) {
    vk.fill(y, 0.f * beta, out);  // a sum over nothing, scaled like any other
    return;
  }
  need(x, fn, "x");
  if (in == out) {  // nothing to add up: y = float(double(x)) * beta = x * beta
    for_elems(in, [&](int64_t i0, int64_t i1) { vk.scale_to(x + i0, beta, y + i0, i1 - i0); });
    return;
  }
  const int inner = g.rank - 1;
  const int64_t len = g.shape[inner];
  Dims kept, red;
  int64_t stride = len;
  for (int d = inner - 1; d >= 0; --d) {  // outermost first in each list: fill from the back
    Dims& to = g.reduced[d] ? red : kept;
    to.size[to.n] = g.shape[d];
    to.stride[to.n] = stride;
    ++to.n;
    stride *= g.shape[d];
  }
  std::reverse(kept.size, kept.size + kept.n);
  std::reverse(kept.stride, kept.stride + kept.n);
  std::reverse(red.size, red.size + red.n);
  std::reverse(red.stride, red.stride + red.n);
  if (!g.reduced[inner]) return sum_rows(vk, kept, red, len, x, beta, y);
  // A reduced dim outside a kept one: read x in memory order, if the partials stay small.
  const int64_t blocks = std::clamp<int64_t>(ceil_div(in, kGrain), 1, kMaxRowBlocks);
  if (kept.n > 0 && g.reduced[0] && blocks * out <= kMaxPartials) {
    Dims outer_out;  // every outer dim, with the output's strides (0 along the reduced ones)
    int64_t out_stride = 1;
    for (int d = inner - 1; d >= 0; --d) {
      outer_out.size[d] = g.shape[d];
      outer_out.stride[d] = g.reduced[d] ? 0 : out_stride;
      if (!g.reduced[d]) out_stride *= g.shape[d];
    }
    outer_out.n = inner;
    return sum_runs_in_order(vk, outer_out, out, len, blocks, x, beta, y);
  }
  sum_runs_by_output(vk, kept, red, len, x, beta, y);
}

void clamp(int64_t n, const float* x, float lo, float hi, float* y) {
  check_count("clamp", n);
  if (!(lo <= hi)) throw_range("clamp: lo must be <= hi, got " + std::to_string(lo) + " and " + std::to_string(hi));
  if (n == 0) return;
  need(x, "clamp", "x");
  need(y, "clamp", "y");
  const VecKernels& vk = active_vec_kernels();
  for_elems(n, [&](int64_t a, int64_t b) { vk.clamp_fwd(x + a, lo, hi, y + a, b - a); });
}

void clamp_backward(int64_t n, const float* x, const float* dy, float lo, float hi, float* dx) {
  check_count("clamp_backward", n);
  if (!(lo <= hi))
    throw_range("clamp_backward: lo must be <= hi, got " + std::to_string(lo) + " and " + std::to_string(hi));
  if (n == 0) return;
  need(x, "clamp_backward", "x");
  need(dy, "clamp_backward", "dy");
  need(dx, "clamp_backward", "dx");
  const VecKernels& vk = active_vec_kernels();
  for_elems(n, [&](int64_t a, int64_t b) { vk.clamp_bwd(x + a, dy + a, lo, hi, dx + a, b - a); });
}

}  // namespace convkit
