// 2-D convolution: im2col + sgemm, with bounded, reused per-thread workspaces.
//
// Work is cut into chunks of about 256-2048 GEMM columns (kL2Floats of im2col, so the column
// matrix is still in cache when sgemm packs it). A chunk is either several whole images side
// by side (small outputs such as LeNet's: one GEMM with images*oh*ow columns, then a scatter
// back to NCHW, bias fused into the scatter) or a range of output rows of one image (large
// outputs: the GEMM writes straight into y, or reads straight from dy, with ldc = oh*ow).
// A 1x1, stride-1, unpadded conv skips im2col: the input plane already is the column matrix.
//
// Threads. Forward: chunks are independent, so each thread takes a contiguous run of them and
// calls sgemm from inside our parallel region, where it runs single-threaded (no barriers, no
// shared packing); a single chunk runs on the caller with the threaded sgemm. Backward: with
// at least as many images as threads, each thread takes a range of images (dW accumulated
// per thread, then summed; dx planes are disjoint); with fewer images, chunks run one after
// another, each using every thread (parallel im2col / gather / col2im and the threaded sgemm).
//
// Workspace: a thread_local buffer per executing thread, grown on demand and kept (never
// allocated per image); a chunk's im2col part is at most kColBudget floats (32 MiB), except
// that it always holds one output row, which validate() caps at 2^26 elements.
#include "convkit/conv.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "convkit/activation.h"
#include "convkit/error.h"
#include "convkit/gemm.h"
#include "convkit/scheduling.h"
#include "convkit/threads.h"
#include "im2col.h"
#include "vec_kernels.h"

namespace convkit {
namespace {

std::string s(int64_t v) { return std::to_string(v); }

constexpr int64_t kMaxElements = int64_t(1) << 40;
constexpr int64_t kMaxRowWorkspace = int64_t(1) << 26;
constexpr int64_t kColBudget = int64_t(8) << 20;  // floats (32 MiB) of im2col per thread per chunk

int64_t mul_cap(int64_t a, int64_t b) {
  if (a < 0 || b < 0) return -1;
  if (a == 0 || b == 0) return 0;
  if (a > kMaxElements / b) return -1;
  return a * b;
}

// Columns per GEMM chunk: about kL2Floats of im2col, at least kMinCols for GEMM efficiency and
// at most kMaxCols. Measured on the 64->64 56x56 3x3 layer: 448..1568 columns are equally good,
// 112 and a whole image (3136) are 5-25% slower. CONVKIT_CONV_COLS overrides it (tuning only).
constexpr int64_t kL2Floats = int64_t(384) << 10;  // 1.5 MiB: L2 is 1-2 MiB per core on current x86
constexpr int64_t kMinCols = 256, kMaxCols = 2048;

int64_t cols_override() {
  static const int64_t v = [] {
    const char* e = std::getenv("CONVKIT_CONV_COLS");
    return e ? std::max<int64_t>(0, std::atoll(e)) : int64_t(0);
  }();
  return v;
}

struct Workspace {
  std::vector<float> col, tmp;
  static float* get(std::vector<float>& v, int64_t n) {
    if (int64_t(v.size()) < n) {
      v.clear();
      v.shrink_to_fit();
      v.resize(size_t(n));
    }
    return v.data();
  }
};
thread_local Workspace tls_ws;

struct Geo {
  int64_t cg, og, kg, K, hw, ohw;
  bool is1x1;
};

Geo geometry(const ConvShape& c) {
  Geo g;
  g.cg = c.c / c.groups;
  g.og = c.o / c.groups;
  g.kg = g.cg * c.kh * c.kw;
  g.K = c.c * c.kh * c.kw;
  g.hw = c.h * c.w;
  g.ohw = c.oh * c.ow;
  g.is1x1 = c.kh == 1 && c.kw == 1 && c.stride_h == 1 && c.stride_w == 1 && c.pad_top == 0 && c.pad_left == 0 &&
            c.pad_bottom == 0 && c.pad_right == 0;
  return g;
}

// How the batch is cut into chunks: groups of `images` whole images (when images > 1), or
// one image in chunks of `rows` output rows (the last one may be shorter).
struct Plan {
  int64_t images;      // images per chunk (>= 1)
  int64_t rows;        // output rows per chunk when images == 1
  int64_t row_chunks;  // chunks per image when images == 1
  int64_t units;       // chunks in the whole batch
};

Plan make_plan(const ConvShape& c, const Geo& g) {
  int64_t cols = cols_override();
  if (cols <= 0) cols = std::min(kMaxCols, std::max(kMinCols, kL2Floats / g.K));
  cols = std::min(cols, std::max<int64_t>(c.ow, kColBudget / g.K));  // hard workspace bound
  Plan p{1, c.oh, 1, c.n};
  // A 1x1 conv with a decent plane reads x in place: no copy beats a bigger GEMM there.
  if (2 * g.ohw >= cols || c.n == 1 || (g.is1x1 && g.ohw >= 128)) {
    p.rows = std::min(c.oh, std::max<int64_t>(1, cols / c.ow));
    p.row_chunks = (c.oh + p.rows - 1) / p.rows;
    p.units = c.n * p.row_chunks;
  } else {
    p.images = std::min(c.n, (cols + g.ohw - 1) / g.ohw);
    p.units = (c.n + p.images - 1) / p.images;
  }
  return p;
}

struct Chunk {
  int64_t i0, nb, oy0, oy1;
};

Chunk chunk_of(const ConvShape& c, const Plan& p, int64_t u) {
  if (p.images > 1) return {u * p.images, std::min(p.images, c.n - u * p.images), 0, c.oh};
  const int64_t img = u / p.row_chunks, rc = u % p.row_chunks;
  return {img, 1, rc * p.rows, std::min(c.oh, (rc + 1) * p.rows)};
}

bool use_image_parallel(int64_t n) {
  int nt = num_threads();
  return nt > 1 && n >= nt && (n >= 4 * int64_t(nt) || n % nt == 0);
}

// Fills col [K x nb*ohw] (ld) for images [i0, i0+nb), or rows [oy0, oy1) of image i0.
void fill_col(const ConvShape& c, const Geo& g, const float* x, int64_t i0, int64_t nb, int64_t oy0, int64_t oy1,
              float* col, int64_t ld) {
  const int64_t cols_per = (oy1 - oy0) * c.ow;
  const int64_t items = nb * g.K;
  parallel_for(items, std::max<int64_t>(1, 32768 / std::max<int64_t>(1, cols_per)), [&](int64_t a, int64_t b) {
    for (int64_t it = a; it < b;) {
      int64_t img = it / g.K, r = it % g.K;
      int64_t r1 = std::min(g.K, r + (b - it));
      detail::im2col_rows(c, x + (i0 + img) * c.c * g.hw, r, r1, oy0, oy1, col + img * cols_per, ld);
      it += r1 - r;
    }
  });
}

void add_bias_rows(float* y, int64_t ld, int64_t rows, int64_t len, const float* bias, const VecKernels& k) {
  for (int64_t r = 0; r < rows; ++r) k.add_scalar(y + r * ld, bias[r], y + r * ld, len);
}

// ---- forward -------------------------------------------------------------------------------

void forward_chunk(const ConvShape& c, const Geo& g, const Chunk& ch, const float* x, const float* w,
                   const float* bias, float* y) {
  const VecKernels& k = active_vec_kernels();
  Workspace& ws = tls_ws;
  const int64_t i0 = ch.i0, nb = ch.nb, oy0 = ch.oy0, oy1 = ch.oy1;
  if (nb == 1) {
    const float* xi = x + i0 * c.c * g.hw;
    float* yi = y + i0 * c.o * g.ohw;
    const int64_t ncols = (oy1 - oy0) * c.ow;
    const float* col;
    int64_t ld;
    if (g.is1x1) {
      col = xi + oy0 * c.ow;
      ld = g.hw;
    } else {
      float* buf = Workspace::get(ws.col, g.K * ncols);
      fill_col(c, g, x, i0, 1, oy0, oy1, buf, ncols);
      col = buf;
      ld = ncols;
    }
    for (int64_t gi = 0; gi < c.groups; ++gi)
      sgemm(false, false, g.og, ncols, g.kg, 1.f, w + gi * g.og * g.kg, g.kg, col + gi * g.kg * ld, ld, 0.f,
            yi + gi * g.og * g.ohw + oy0 * c.ow, g.ohw);
    if (bias) add_bias_rows(yi + oy0 * c.ow, g.ohw, c.o, ncols, bias, k);
    return;
  }
  // Several images side by side: col [K, nb*ohw], GEMM into tmp [o, nb*ohw], scatter.
  const int64_t ncols = nb * g.ohw;
  float* col = Workspace::get(ws.col, g.K * ncols);
  float* tmp = Workspace::get(ws.tmp, c.o * ncols);
  fill_col(c, g, x, i0, nb, 0, c.oh, col, ncols);
  for (int64_t gi = 0; gi < c.groups; ++gi)
    sgemm(false, false, g.og, ncols, g.kg, 1.f, w + gi * g.og * g.kg, g.kg, col + gi * g.kg * ncols, ncols, 0.f,
          tmp + gi * g.og * ncols, ncols);
  parallel_for(nb * c.o, std::max<int64_t>(1, 32768 / g.ohw), [&](int64_t a, int64_t b) {
    for (int64_t it = a; it < b; ++it) {
      const int64_t img = it / c.o, oc = it % c.o;
      const float* src = tmp + oc * ncols + img * g.ohw;
      float* dst = y + ((i0 + img) * c.o + oc) * g.ohw;
      if (bias) k.add_scalar(src, bias[oc], dst, g.ohw);
      else std::memcpy(dst, src, size_t(g.ohw) * sizeof(float));
    }
  });
}

// ---- direct forward: few channels ----------------------------------------------------------
// A layer with few output channels per group and a short kernel (LeNet's 1->6 and 6->16 5x5, a
// depthwise 3x3) gives the GEMM too small a tile to beat the cost of im2col's copies; the direct kernel keeps a block
// of output channels in registers and reads each input once per tap. Measured on LeNet's two
// layers (AVX-512, one thread, batch 256): conv1 1.5x and conv2 2.7x (by channels, below)
// faster than im2col + GEMM.
constexpr int64_t kDirectMaxOut = 32;
constexpr int64_t kDirectMaxTaps = 512;  // c * kh * kw

bool use_direct(const ConvShape& c) {
  if (const char* e = std::getenv("CONVKIT_CONV_DIRECT"); e && *e == '0') return false;  // tuning only
  return c.stride_h == 1 && c.stride_w == 1 && c.dilation_h == 1 && c.dilation_w == 1 &&
         c.o / c.groups <= kDirectMaxOut && (c.c / c.groups) * c.kh * c.kw <= kDirectMaxTaps && c.ow >= 4;
}

// Whether to vectorise over output channels rather than pixels: when a group's channels fill
// one or two vectors exactly and the rows would leave vector lanes idle (LeNet's conv2: 16
// channels, rows of 10 pixels, 1.6x fewer multiply-adds).
bool by_channels(const ConvShape& c, int lanes) {
  const int64_t og = c.o / c.groups;
  return (og == lanes || og == 2 * lanes) && c.ow % lanes != 0 && c.ow < 4 * lanes;
}

// The weights as [group][c][kh][kw][o], the layout the channel-vectorised kernel loads.
std::vector<float> weights_by_channel(const ConvShape& c, const float* w) {
  const int64_t cg = c.c / c.groups, og = c.o / c.groups, taps = cg * c.kh * c.kw;
  std::vector<float> wp(size_t(c.o * taps));
  for (int64_t gi = 0; gi < c.groups; ++gi)
    for (int64_t o = 0; o < og; ++o)
      for (int64_t t = 0; t < taps; ++t) wp[size_t((gi * taps + t) * og + o)] = w[(gi * og + o) * taps + t];
  return wp;
}

// Images [a, b): each padded into a thread-local buffer (with slack for the kernel's loads),
// then convolved. wp: weights_by_channel, when by_channels.
void direct_images(const ConvShape& c, const float* x, const float* w, const float* wp, const float* bias, float* y,
                   bool relu, int64_t a, int64_t b) {
  const VecKernels& k = active_vec_kernels();
  const int64_t ph = c.h + c.pad_top + c.pad_bottom, pw = c.w + c.pad_left + c.pad_right;
  const int64_t padded_size = c.c * ph * pw + 16;
  thread_local std::vector<float> padded;
  if (int64_t(padded.size()) < padded_size) padded.assign(size_t(padded_size), 0.f);
  const bool no_pad = ph == c.h && pw == c.w;
  if (!no_pad) std::fill(padded.begin(), padded.begin() + padded_size, 0.f);
  for (int64_t i = a; i < b; ++i) {
    const float* xi = x + i * c.c * c.h * c.w;
    if (no_pad) {
      std::memcpy(padded.data(), xi, size_t(c.c * c.h * c.w) * sizeof(float));
    } else {
      for (int64_t ci = 0; ci < c.c; ++ci)
        for (int64_t iy = 0; iy < c.h; ++iy)
          std::memcpy(padded.data() + (ci * ph + iy + c.pad_top) * pw + c.pad_left, xi + (ci * c.h + iy) * c.w,
                      size_t(c.w) * sizeof(float));
    }
    // Group by group (a depthwise layer: one input and one output channel each).
    const int64_t cg = c.c / c.groups, og = c.o / c.groups;
    for (int64_t gi = 0; gi < c.groups; ++gi) {
      const float* xg = padded.data() + gi * cg * ph * pw;
      const float* bg = bias ? bias + gi * og : nullptr;
      float* yg = y + (i * c.o + gi * og) * c.oh * c.ow;
      const int64_t wg = gi * og * cg * c.kh * c.kw;
      if (wp) k.conv_direct_channels(xg, cg, ph, pw, wp + wg, bg, og, c.kh, c.kw, yg, c.oh, c.ow, relu);
      else k.conv_direct(xg, cg, ph, pw, w + wg, bg, og, c.kh, c.kw, yg, c.oh, c.ow, relu);
    }
  }
}

// prepacked: weights_by_channel(c, w) made ahead (a compiled plan), or null to repack here.
void direct_forward(const ConvShape& c, const float* x, const float* w, const float* bias, float* y, bool relu,
                    const float* prepacked = nullptr) {
  std::vector<float> wp;
  const float* packed = nullptr;
  if (by_channels(c, active_vec_kernels().conv_lanes)) {
    if (!prepacked) wp = weights_by_channel(c, w);
    packed = prepacked ? prepacked : wp.data();
  }
  parallel_for(c.n, 1, [&](int64_t a, int64_t b) { direct_images(c, x, w, packed, bias, y, relu, a, b); });
}

// ---- backward ------------------------------------------------------------------------------

// dx of a stride-1, undilated, ungrouped conv is itself a conv: dy padded by k-1-pad, with the
// weights flipped and in/out swapped. Where that conv takes the direct kernel (few input
// channels: LeNet's conv2 has 6), it beats the GEMM + col2im path (conv2 at 8 images, one
// thread: 65-70 us of CPU time against 100). Sets t and returns true when it applies.
bool transposed_direct(const ConvShape& c, ConvShape& t) {
  if (c.stride_h != 1 || c.stride_w != 1 || c.dilation_h != 1 || c.dilation_w != 1 || c.groups != 1) return false;
  t = ConvShape{c.n, c.o, c.oh, c.ow, c.c, c.kh, c.kw, 1, 1, c.kh - 1 - c.pad_top, c.kw - 1 - c.pad_left,
                c.kh - 1 - c.pad_bottom, c.kw - 1 - c.pad_right, 1, 1, 1, c.h, c.w};
  if (t.pad_top < 0 || t.pad_left < 0 || t.pad_bottom < 0 || t.pad_right < 0) return false;
  return use_direct(t);
}

void transposed_backward_data(const ConvShape& c, const ConvShape& t, const float* w, const float* dy, float* dx) {
  std::vector<float> flipped(size_t(c.o * c.c * c.kh * c.kw));  // [c][o][kh][kw], each kernel turned 180 degrees
  const int64_t taps = c.kh * c.kw;
  for (int64_t o = 0; o < c.o; ++o)
    for (int64_t ci = 0; ci < c.c; ++ci)
      for (int64_t k = 0; k < taps; ++k) flipped[size_t((ci * c.o + o) * taps + k)] = w[(o * c.c + ci) * taps + taps - 1 - k];
  direct_forward(t, dy, flipped.data(), nullptr, dx, false);
}

// dw_acc (o x kg) is overwritten by the first GEMM of this range, accumulated after that.
void backward_range(const ConvShape& c, const Geo& g, const float* x, const float* w, const float* dy, float* dx,
                    float* dw_acc, int64_t n0, int64_t n1) {
  Workspace& ws = tls_ws;
  Plan plan = make_plan(c, g);
  bool first_dw = true;
  for (int64_t i0 = n0; i0 < n1; i0 += plan.images) {
    const int64_t nb = std::min(plan.images, n1 - i0);
    const int64_t chunk_rows = nb == 1 ? plan.rows : c.oh;
    const float* xi = x + i0 * c.c * g.hw;
    float* dxi = dx ? dx + i0 * c.c * g.hw : nullptr;
    if (dx && nb == 1 && !g.is1x1 && chunk_rows < c.oh) {
      // One image in row chunks: col2im accumulates across chunks, so zero dx once.
      std::memset(dxi, 0, size_t(c.c * g.hw) * sizeof(float));
    }
    for (int64_t oy0 = 0; oy0 < c.oh; oy0 += chunk_rows) {
      const int64_t oy1 = std::min(c.oh, oy0 + chunk_rows);
      const int64_t ncols = nb * (oy1 - oy0) * c.ow;
      // dY of the chunk as [o, ncols] with leading dimension ldg.
      const float* gy;
      int64_t ldg;
      if (nb == 1) {
        gy = dy + i0 * c.o * g.ohw + oy0 * c.ow;
        ldg = g.ohw;
      } else {
        float* tmp = Workspace::get(ws.tmp, c.o * ncols);
        parallel_for(nb * c.o, std::max<int64_t>(1, 32768 / g.ohw), [&](int64_t a, int64_t b) {
          for (int64_t it = a; it < b; ++it) {
            const int64_t img = it / c.o, oc = it % c.o;
            std::memcpy(tmp + oc * ncols + img * g.ohw, dy + ((i0 + img) * c.o + oc) * g.ohw,
                        size_t(g.ohw) * sizeof(float));
          }
        });
        gy = tmp;
        ldg = ncols;
      }
      const bool direct = g.is1x1 && nb == 1;  // x / dx planes are the column matrices
      float* col = nullptr;
      int64_t ldc = ncols;
      if (dw_acc) {
        const float* cm;
        int64_t ld;
        if (direct) {
          cm = xi + oy0 * c.ow;
          ld = g.hw;
        } else {
          col = Workspace::get(ws.col, g.K * ncols);
          fill_col(c, g, x, i0, nb, oy0, oy1, col, ncols);
          cm = col;
          ld = ncols;
        }
        for (int64_t gi = 0; gi < c.groups; ++gi)
          sgemm(false, true, g.og, g.kg, ncols, 1.f, gy + gi * g.og * ldg, ldg, cm + gi * g.kg * ld, ld,
                first_dw ? 0.f : 1.f, dw_acc + gi * g.og * g.kg, g.kg);
        first_dw = false;
      }
      if (dx) {
        if (direct) {
          for (int64_t gi = 0; gi < c.groups; ++gi)
            sgemm(true, false, g.kg, ncols, g.og, 1.f, w + gi * g.og * g.kg, g.kg, gy + gi * g.og * ldg, ldg, 0.f,
                  dxi + gi * g.cg * g.hw + oy0 * c.ow, g.hw);
        } else {
          if (!col) col = Workspace::get(ws.col, g.K * ncols);  // reused as dcol
          for (int64_t gi = 0; gi < c.groups; ++gi)
            sgemm(true, false, g.kg, ncols, g.og, 1.f, w + gi * g.og * g.kg, g.kg, gy + gi * g.og * ldg, ldg, 0.f,
                  col + gi * g.kg * ldc, ldc);
          const int64_t cols_per = (oy1 - oy0) * c.ow;
          const bool zero = chunk_rows == c.oh;
          parallel_for(nb * c.c, std::max<int64_t>(1, 16384 / (cols_per * c.kh * c.kw)), [&](int64_t a, int64_t b) {
            for (int64_t it = a; it < b;) {
              const int64_t img = it / c.c, ci = it % c.c;
              const int64_t ci1 = std::min(c.c, ci + (b - it));
              detail::col2im_channels(c, col + img * cols_per, ldc, oy0, oy1, ci, ci1, dxi + img * c.c * g.hw, zero);
              it += ci1 - ci;
            }
          });
        }
      }
    }
  }
}

void check_ptr(const void* p, const char* what) {
  if (!p) throw_type(std::string("conv2d: ") + what + " must not be null");
}

}  // namespace

int64_t conv_output_size(int64_t in, int64_t k, int64_t stride, int64_t pad_before, int64_t pad_after,
                         int64_t dilation) {
  if (in < 1 || k < 1 || stride < 1 || dilation < 1 || pad_before < 0 || pad_after < 0) return 0;
  if (in > kMaxElements || k > kMaxElements || dilation > kMaxElements || pad_before > kMaxElements ||
      pad_after > kMaxElements)
    return 0;
  const int64_t num = in + pad_before + pad_after - dilation * (k - 1) - 1;
  if (num < 0) return 0;
  return num / stride + 1;
}

void validate(const ConvShape& c) {
  auto shape4 = [](int64_t a, int64_t b, int64_t cc, int64_t d) {
    return "[" + s(a) + ", " + s(b) + ", " + s(cc) + ", " + s(d) + "]";
  };
  if (c.n < 1 || c.c < 1 || c.h < 1 || c.w < 1)
    throw_range("conv2d: input shape " + shape4(c.n, c.c, c.h, c.w) + " must have every size >= 1");
  if (c.o < 1 || c.kh < 1 || c.kw < 1)
    throw_range("conv2d: weight needs out channels >= 1 and a kernel >= 1x1, got out channels " + s(c.o) +
                ", kernel " + s(c.kh) + "x" + s(c.kw));
  if (c.stride_h < 1 || c.stride_w < 1)
    throw_range("conv2d: stride " + s(c.stride_h) + "x" + s(c.stride_w) + " must be >= 1");
  if (c.dilation_h < 1 || c.dilation_w < 1)
    throw_range("conv2d: dilation " + s(c.dilation_h) + "x" + s(c.dilation_w) + " must be >= 1");
  if (c.pad_top < 0 || c.pad_left < 0 || c.pad_bottom < 0 || c.pad_right < 0)
    throw_range("conv2d: padding (top " + s(c.pad_top) + ", left " + s(c.pad_left) + ", bottom " + s(c.pad_bottom) +
                ", right " + s(c.pad_right) + ") must be >= 0");
  if (c.groups < 1) throw_range("conv2d: groups must be >= 1, got " + s(c.groups));
  if (c.c % c.groups != 0 || c.o % c.groups != 0)
    throw_range("conv2d: groups " + s(c.groups) + " must divide both the input channels " + s(c.c) +
                " and the output channels " + s(c.o));
  for (int64_t v : {c.n, c.c, c.h, c.w, c.o, c.kh, c.kw, c.stride_h, c.stride_w, c.dilation_h, c.dilation_w,
                    c.pad_top, c.pad_left, c.pad_bottom, c.pad_right, c.oh, c.ow}) {
    if (v > kMaxElements)
      throw_range("conv2d: a size of " + s(v) + " is absurd (input " + shape4(c.n, c.c, c.h, c.w) + ", kernel " +
                  s(c.kh) + "x" + s(c.kw) + ")");
  }
  const int64_t eh = c.dilation_h * (c.kh - 1) + 1, ew = c.dilation_w * (c.kw - 1) + 1;
  const int64_t ph = c.h + c.pad_top + c.pad_bottom, pw = c.w + c.pad_left + c.pad_right;
  if (eh > ph || ew > pw)
    throw_range("conv2d: kernel " + s(c.kh) + "x" + s(c.kw) + " (dilated " + s(eh) + "x" + s(ew) +
                ") is larger than the padded input " + s(ph) + "x" + s(pw));
  const int64_t oh = conv_output_size(c.h, c.kh, c.stride_h, c.pad_top, c.pad_bottom, c.dilation_h);
  const int64_t ow = conv_output_size(c.w, c.kw, c.stride_w, c.pad_left, c.pad_right, c.dilation_w);
  if (oh < 1 || ow < 1)
    throw_range("conv2d: output size " + s(oh) + "x" + s(ow) + " is empty for input " + s(c.h) + "x" + s(c.w));
  if (c.oh != oh || c.ow != ow)
    throw_range("conv2d: output size " + s(c.oh) + "x" + s(c.ow) + " does not match the expected " + s(oh) + "x" +
                s(ow) + " for input " + s(c.h) + "x" + s(c.w) + ", kernel " + s(c.kh) + "x" + s(c.kw) + ", stride " +
                s(c.stride_h) + "x" + s(c.stride_w) + ", padding (top " + s(c.pad_top) + ", left " + s(c.pad_left) +
                ", bottom " + s(c.pad_bottom) + ", right " + s(c.pad_right) + "), dilation " + s(c.dilation_h) +
                "x" + s(c.dilation_w));
  const int64_t x_el = mul_cap(mul_cap(mul_cap(c.n, c.c), c.h), c.w);
  const int64_t w_el = mul_cap(mul_cap(mul_cap(c.o, c.c / c.groups), c.kh), c.kw);
  const int64_t y_el = mul_cap(mul_cap(mul_cap(c.n, c.o), oh), ow);
  const int64_t col_el = mul_cap(mul_cap(mul_cap(c.c, c.kh), c.kw), mul_cap(oh, ow));
  if (x_el < 0) throw_range("conv2d: input " + shape4(c.n, c.c, c.h, c.w) + " has more than 2^40 elements");
  if (w_el < 0)
    throw_range("conv2d: weight " + shape4(c.o, c.c / c.groups, c.kh, c.kw) + " has more than 2^40 elements");
  if (y_el < 0) throw_range("conv2d: output " + shape4(c.n, c.o, oh, ow) + " has more than 2^40 elements");
  if (col_el < 0)
    throw_range("conv2d: the im2col matrix of one image (" + s(c.c) + "*" + s(c.kh) + "*" + s(c.kw) + " rows x " +
                s(oh) + "*" + s(ow) + " columns) has more than 2^40 elements");
  // The workspace holds at least one output row of the im2col matrix.
  if (mul_cap(mul_cap(mul_cap(c.c, c.kh), c.kw), ow) > kMaxRowWorkspace)
    throw_range("conv2d: one output row of the im2col matrix (" + s(c.c) + "*" + s(c.kh) + "*" + s(c.kw) +
                " rows x " + s(ow) + " columns) is larger than the workspace limit of 2^26 elements");
}

void conv2d_forward(const ConvShape& c, const float* x, const float* w, const float* bias, float* y) {
  validate(c);
  check_ptr(x, "input");
  check_ptr(w, "weight");
  check_ptr(y, "output");
  if (use_direct(c)) return direct_forward(c, x, w, bias, y, false);
  const Geo g = geometry(c);
  const Plan plan = make_plan(c, g);
  // Chunks are independent: each thread takes a contiguous run of them and calls sgemm from
  // inside this region, where it runs single-threaded. One chunk (batch 1, small image) runs
  // on the calling thread with the threaded sgemm.
  if (plan.units == 1) {
    forward_chunk(c, g, chunk_of(c, plan, 0), x, w, bias, y);
    return;
  }
  parallel_run([&](int tid, int nt) {
    const int64_t a = plan.units * tid / nt, b = plan.units * (tid + 1) / nt;
    YieldPoints yield_points;  // between chunks no other thread waits for this one
    for (int64_t u = a; u < b; ++u) {
      yield_points.maybe_yield();
      forward_chunk(c, g, chunk_of(c, plan, u), x, w, bias, y);
    }
  });
}

void conv2d_forward_relu(const ConvShape& c, const float* x, const float* w, const float* bias, float* y) {
  if (use_direct(c)) {
    validate(c);
    check_ptr(x, "input");
    check_ptr(w, "weight");
    check_ptr(y, "output");
    return direct_forward(c, x, w, bias, y, true);
  }
  conv2d_forward(c, x, w, bias, y);
  relu_forward(y, y, c.n * c.o * c.oh * c.ow);
}

std::vector<float> conv2d_prepack_weights(const ConvShape& c, const float* w) {
  // Whether the layout is used depends on the ISA's vector width, which can change at run
  // time (tests walk every ISA); the layout itself does not, so pack whenever it may be used.
  if (!use_direct(c)) return {};
  const int64_t og = c.o / c.groups;
  if (og != 8 && og != 16 && og != 32) return {};
  return weights_by_channel(c, w);
}

void conv2d_forward_prepacked(const ConvShape& c, const float* x, const float* w, const float* packed,
                              const float* bias, float* y, bool relu) {
  if (!packed || !use_direct(c)) {
    if (relu) return conv2d_forward_relu(c, x, w, bias, y);
    return conv2d_forward(c, x, w, bias, y);
  }
  validate(c);
  check_ptr(x, "input");
  check_ptr(w, "weight");
  check_ptr(y, "output");
  direct_forward(c, x, w, bias, y, relu, packed);
}

void conv2d_backward(const ConvShape& c, const float* x, const float* w, const float* dy, float* dx, float* dw,
                     float* db) {
  validate(c);
  check_ptr(dy, "output gradient");
  if (dw) check_ptr(x, "input");
  if (dx) check_ptr(w, "weight");
  const Geo g = geometry(c);
  if (db) {
    const VecKernels& k = active_vec_kernels();
    parallel_for(c.o, std::max<int64_t>(1, 32768 / (c.n * g.ohw)), [&](int64_t a, int64_t b) {
      for (int64_t oc = a; oc < b; ++oc) {
        double acc = 0;
        for (int64_t i = 0; i < c.n; ++i) acc += k.row_sum(dy + (i * c.o + oc) * g.ohw, g.ohw);
        db[oc] = float(acc);
      }
    });
  }
  if (ConvShape t; dx && transposed_direct(c, t)) {
    transposed_backward_data(c, t, w, dy, dx);
    dx = nullptr;
  }
  if (!dx && !dw) return;
  const int64_t wsize = c.o * g.kg;
  if (use_image_parallel(c.n)) {
    const int nt_max = num_threads();
    std::vector<float> partial(dw ? size_t(wsize) * size_t(std::max(nt_max - 1, 0)) : 0);
    int used = 1;
    parallel_run([&](int tid, int nt) {
      if (tid == 0) used = nt;
      const int64_t a = c.n * tid / nt, b = c.n * (tid + 1) / nt;
      float* acc = dw ? (tid == 0 ? dw : partial.data() + size_t(tid - 1) * size_t(wsize)) : nullptr;
      if (a < b) backward_range(c, g, x, w, dy, dx, acc, a, b);
      else if (acc) std::fill(acc, acc + wsize, 0.f);
    });
    if (dw) {
      for (int t = 1; t < used; ++t) {
        const float* p = partial.data() + size_t(t - 1) * size_t(wsize);
        for (int64_t i = 0; i < wsize; ++i) dw[i] += p[i];
      }
    }
  } else {
    backward_range(c, g, x, w, dy, dx, dw, 0, c.n);
  }
}

}  // namespace convkit
