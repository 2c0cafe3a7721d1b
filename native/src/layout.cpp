// The layout kernels (convkit/layout.h): a strided copy with three paths (memcpy of contiguous
// runs, tiled 2-D transposes, a strided line loop) and argmax over rows or columns, each split
// over threads in units of the outer dims; the vector bodies are in isa/layout_*.cpp.
#include "convkit/layout.h"

#include <algorithm>
#include <climits>
#include <cstring>
#include <string>

#include "convkit/error.h"
#include "convkit/isa.h"
#include "convkit/threads.h"
#include "layout_kernels.h"

namespace convkit {

const LayoutKernels& active_layout_kernels() {
  switch (active_isa()) {
#if CONVKIT_X86_KERNELS  // CMakeLists.txt builds the AVX files on x86 only
    case Isa::avx512: return layout_kernels_avx512;
    case Isa::avx2: return layout_kernels_avx2;
#endif
    default: break;
  }
  return layout_kernels_scalar;
}

namespace {

// Below this many elements one thread does the work (a copy is memory-bound: a second thread
// pays off only when the arrays leave L2).
constexpr int64_t kGrain = int64_t(1) << 15;
// Contiguous runs and strided lines are cut into pieces this long, so that one long line (a
// plain copy) still spreads over the threads.
constexpr int64_t kPiece = int64_t(1) << 14;
// Transpose tiles: 32 x 32 floats, 4 KiB read and 4 KiB written, well inside L1.
constexpr int64_t kTile = 32;
// Argmax over columns: blocks of this many columns, so a thread's unit is a narrow slab.
constexpr int64_t kColumns = 256;

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

std::string str(int64_t v) { return std::to_string(v); }

// The lowest and highest element one region of a copy touches (shape has no zero).
void extent(const std::vector<int64_t>& shape, const std::vector<int64_t>& strides, int64_t offset, int64_t* lo,
            int64_t* hi, const char* which) {
  *lo = *hi = offset;
  for (size_t k = 0; k < shape.size(); ++k) {
    int64_t span = 0;
    if (__builtin_mul_overflow(shape[k] - 1, strides[k], &span) ||
        __builtin_add_overflow(span < 0 ? *lo : *hi, span, span < 0 ? lo : hi))
      throw_range(std::string("strided_copy: the ") + which + " strides overflow");
  }
}

// The dims a path walks with an odometer (outermost first), and where each unit starts.
struct Outer {
  std::vector<int64_t> n, src_stride, dst_stride;

  int64_t count() const {
    int64_t c = 1;
    for (int64_t v : n) c *= v;
    return c;
  }
};

struct Cursor {
  std::vector<int64_t> index;
  int64_t src, dst;

  Cursor(const Outer& o, int64_t at, int64_t src0, int64_t dst0) : index(o.n.size()), src(src0), dst(dst0) {
    for (size_t k = o.n.size(); k-- > 0;) {
      index[k] = at % o.n[k];
      at /= o.n[k];
      src += index[k] * o.src_stride[k];
      dst += index[k] * o.dst_stride[k];
    }
  }

  void advance(const Outer& o) {
    for (size_t k = o.n.size(); k-- > 0;) {
      src += o.src_stride[k];
      dst += o.dst_stride[k];
      if (++index[k] < o.n[k]) return;
      src -= o.n[k] * o.src_stride[k];
      dst -= o.n[k] * o.dst_stride[k];
      index[k] = 0;
    }
  }
};

// Runs piece(cursor, p) for every outer position and each of its `pieces` pieces, split over
// threads with about kGrain elements per thread at least.
template <class Piece>
void for_units(const Outer& outer, int64_t pieces, int64_t total, int64_t src0, int64_t dst0, Piece&& piece) {
  const int64_t units = outer.count() * pieces;
  const int64_t grain = std::max<int64_t>(1, kGrain / std::max<int64_t>(1, total / units));
  parallel_for(units, grain, [&](int64_t u0, int64_t u1) {
    Cursor c(outer, u0 / pieces, src0, dst0);
    for (int64_t u = u0, p = u0 % pieces; u < u1; ++u) {
      piece(c, p);
      if (++p == pieces) {
        p = 0;
        c.advance(outer);
      }
    }
  });
}

Outer outer_dims(const StridedCopyShape& s, int skip0, int skip1) {
  Outer o;
  for (int k = 0; k < int(s.shape.size()); ++k) {
    if (k == skip0 || k == skip1) continue;
    o.n.push_back(s.shape[k]);
    o.src_stride.push_back(s.src_strides[k]);
    o.dst_stride.push_back(s.dst_strides[k]);
  }
  return o;
}

}  // namespace

void validate(const StridedCopyShape& s, int64_t src_length, int64_t dst_length) {
  const size_t rank = s.shape.size();
  if (s.src_strides.size() != rank || s.dst_strides.size() != rank)
    throw_range("strided_copy: shape has " + str(int64_t(rank)) + " dims but the strides have " +
                str(int64_t(s.src_strides.size())) + " and " + str(int64_t(s.dst_strides.size())));
  for (size_t k = 0; k < rank; ++k) {
    if (s.shape[k] < 0) throw_range("strided_copy: shape[" + str(int64_t(k)) + "] is negative: " + str(s.shape[k]));
  }
  for (int64_t n : s.shape)
    if (n == 0) return;  // nothing is read or written
  int64_t lo, hi;
  extent(s.shape, s.src_strides, s.src_offset, &lo, &hi, "source");
  if (lo < 0 || hi >= src_length)
    throw_range("strided_copy: the copy reads elements " + str(lo) + " to " + str(hi) + " of a source of " +
                str(src_length));
  extent(s.shape, s.dst_strides, s.dst_offset, &lo, &hi, "destination");
  if (lo < 0 || hi >= dst_length)
    throw_range("strided_copy: the copy writes elements " + str(lo) + " to " + str(hi) + " of a destination of " +
                str(dst_length));
}

void strided_copy(const StridedCopyShape& s, const float* src, int64_t src_length, float* dst, int64_t dst_length) {
  validate(s, src_length, dst_length);
  int64_t total = 1;
  for (int64_t n : s.shape)
    if (__builtin_mul_overflow(total, n, &total)) throw_range("strided_copy: the shape has more than 2^63 elements");
  if (total == 0) return;
  if (!src || !dst) throw_type("strided_copy: src and dst must not be null");
  if (src < dst + dst_length && dst < src + src_length) throw_range("strided_copy: src and dst overlap");
  const int rank = int(s.shape.size());
  if (rank == 0) {
    dst[s.dst_offset] = src[s.src_offset];
    return;
  }
  const int last = rank - 1;
  const int64_t line = s.shape[last], ss = s.src_strides[last], ds = s.dst_strides[last];

  if (ss == 1 && ds == 1) {  // contiguous runs
    const int64_t pieces = ceil_div(line, kPiece);
    for_units(outer_dims(s, last, -1), pieces, total, s.src_offset, s.dst_offset, [&](const Cursor& c, int64_t p) {
      const int64_t at = p * kPiece;
      std::memcpy(dst + c.dst + at, src + c.src + at, size_t(std::min(kPiece, line - at)) * sizeof(float));
    });
    return;
  }

  // The destination runs along the last dim and the source along dim t: a transpose of the
  // (t, last) plane, in tiles.
  int t = -1;
  if (ds == 1)
    for (int q = last - 1; q >= 0 && t < 0; --q)
      if (s.src_strides[q] == 1) t = q;
  if (t >= 0) {
    const LayoutKernels& k = active_layout_kernels();
    const int64_t rows = s.shape[t], cols = line, dst_row = s.dst_strides[t];
    for_units(outer_dims(s, t, last), ceil_div(rows, kTile), total, s.src_offset, s.dst_offset,
              [&](const Cursor& c, int64_t p) {
                const int64_t i0 = p * kTile, h = std::min(kTile, rows - i0);
                for (int64_t j0 = 0; j0 < cols; j0 += kTile)
                  k.transpose(src + c.src + i0 + j0 * ss, ss, dst + c.dst + i0 * dst_row + j0, dst_row, h,
                              std::min(kTile, cols - j0));
              });
    return;
  }

  const int64_t pieces = ceil_div(line, kPiece);  // strided lines
  for_units(outer_dims(s, last, -1), pieces, total, s.src_offset, s.dst_offset, [&](const Cursor& c, int64_t p) {
    const int64_t at = p * kPiece, n = std::min(kPiece, line - at);
    const float* from = src + c.src + at * ss;
    float* to = dst + c.dst + at * ds;
    for (int64_t i = 0; i < n; ++i) to[i * ds] = from[i * ss];
  });
}

void argmax(const float* x, int64_t outer, int64_t dim, int64_t inner, int32_t* out) {
  if (outer < 0 || inner < 0) throw_range("argmax: outer and inner must be >= 0, got " + str(outer) + " and " + str(inner));
  if (dim < 1 || dim > INT32_MAX) throw_range("argmax: dim must be in [1, 2^31 - 1], got " + str(dim));
  if (outer == 0 || inner == 0) return;
  if (!x || !out) throw_type("argmax: x and out must not be null");
  const LayoutKernels& k = active_layout_kernels();
  if (inner == 1) {
    parallel_for(outer, std::max<int64_t>(1, kGrain / dim), [&](int64_t o0, int64_t o1) {
      for (int64_t o = o0; o < o1; ++o) out[o] = int32_t(k.argmax_row(x + o * dim, dim));
    });
    return;
  }
  const int64_t blocks = ceil_div(inner, kColumns);
  const int64_t per_unit = dim * std::min(inner, kColumns);
  parallel_for(outer * blocks, std::max<int64_t>(1, kGrain / per_unit), [&](int64_t u0, int64_t u1) {
    for (int64_t u = u0; u < u1; ++u) {
      const int64_t o = u / blocks, j0 = (u % blocks) * kColumns;
      k.argmax_columns(x + o * dim * inner + j0, dim, inner, std::min(kColumns, inner - j0), out + o * inner + j0);
    }
  });
}

}  // namespace convkit
