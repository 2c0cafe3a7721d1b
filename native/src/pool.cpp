// Max and average pooling, NCHW, PyTorch semantics. Work is split over (plane, output row)
// pairs; the 2x2 stride-2 unpadded max pool (the common case) runs a per-ISA vector row
// kernel, everything else a general loop. Backward passes zero dx, then scatter per plane
// (planes are independent, so threads never write the same element).
#include "convkit/pool.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "convkit/error.h"
#include "convkit/threads.h"
#include "vec_kernels.h"

namespace convkit {
namespace {

std::string s(int64_t v) { return std::to_string(v); }

constexpr int64_t kMaxElements = int64_t(1) << 40;

// a*b, or -1 when it overflows kMaxElements.
int64_t mul_cap(int64_t a, int64_t b) {
  if (a < 0 || b < 0) return -1;
  if (a == 0 || b == 0) return 0;
  if (a > kMaxElements / b) return -1;
  return a * b;
}

int64_t elems4(int64_t a, int64_t b, int64_t c, int64_t d) { return mul_cap(mul_cap(mul_cap(a, b), c), d); }

constexpr int64_t kRowGrainElems = 16384;  // output elements per thread chunk, at least

void need(const void* ptr, const char* op, const char* what) {
  if (!ptr) throw_type(std::string(op) + ": " + what + " must not be null");
}

}  // namespace

int64_t pool_output_size(int64_t in, int64_t k, int64_t stride, int64_t pad_before, int64_t pad_after,
                         int64_t dilation, bool ceil_mode) {
  if (in < 1 || k < 1 || stride < 1 || dilation < 1 || pad_before < 0 || pad_after < 0) return 0;
  if (k > kMaxElements || dilation > kMaxElements || in > kMaxElements || pad_before > kMaxElements ||
      pad_after > kMaxElements)
    return 0;
  int64_t eff = dilation * (k - 1) + 1;
  int64_t num = in + pad_before + pad_after - eff;
  if (num < 0) return 0;
  int64_t out = (ceil_mode ? (num + stride - 1) / stride : num / stride) + 1;
  if (ceil_mode && (out - 1) * stride >= in + pad_before) --out;
  return out;
}

void validate(const PoolShape& p) {
  const char* op = "pool2d";
  if (p.n < 1 || p.c < 1 || p.h < 1 || p.w < 1)
    throw_range(std::string(op) + ": input shape [" + s(p.n) + ", " + s(p.c) + ", " + s(p.h) + ", " + s(p.w) +
                "] must have every size >= 1");
  if (p.kh < 1 || p.kw < 1)
    throw_range(std::string(op) + ": kernel " + s(p.kh) + "x" + s(p.kw) + " must be >= 1 in each dimension");
  if (p.stride_h < 1 || p.stride_w < 1)
    throw_range(std::string(op) + ": stride " + s(p.stride_h) + "x" + s(p.stride_w) + " must be >= 1");
  if (p.dilation_h < 1 || p.dilation_w < 1)
    throw_range(std::string(op) + ": dilation " + s(p.dilation_h) + "x" + s(p.dilation_w) + " must be >= 1");
  if (p.pad_top < 0 || p.pad_left < 0 || p.pad_bottom < 0 || p.pad_right < 0)
    throw_range(std::string(op) + ": padding (top " + s(p.pad_top) + ", left " + s(p.pad_left) + ", bottom " +
                s(p.pad_bottom) + ", right " + s(p.pad_right) + ") must be >= 0");
  if (elems4(p.n, p.c, p.h, p.w) < 0 || p.kh > kMaxElements || p.kw > kMaxElements ||
      p.dilation_h > kMaxElements || p.dilation_w > kMaxElements || p.pad_top > kMaxElements ||
      p.pad_bottom > kMaxElements || p.pad_left > kMaxElements || p.pad_right > kMaxElements ||
      p.stride_h > kMaxElements || p.stride_w > kMaxElements)
    throw_range(std::string(op) + ": input [" + s(p.n) + ", " + s(p.c) + ", " + s(p.h) + ", " + s(p.w) +
                "] or window sizes are too large (more than 2^40 elements)");
  if (p.h * p.w > int64_t(std::numeric_limits<int32_t>::max()))
    throw_range(std::string(op) + ": an input plane of " + s(p.h) + "x" + s(p.w) +
                " is too large for int32 argmax indices");
  // Pads may exceed half the kernel (ONNX allows it; the TypeScript layer enforces PyTorch's
  // limit for its own ops): a window wholly in the padding gives -inf (max) or 0 (average).
  int64_t eh = p.dilation_h * (p.kh - 1) + 1, ew = p.dilation_w * (p.kw - 1) + 1;
  if (eh > p.h + p.pad_top + p.pad_bottom || ew > p.w + p.pad_left + p.pad_right)
    throw_range(std::string(op) + ": kernel " + s(p.kh) + "x" + s(p.kw) + " (dilated " + s(eh) + "x" + s(ew) +
                ") is larger than the padded input " + s(p.h + p.pad_top + p.pad_bottom) + "x" +
                s(p.w + p.pad_left + p.pad_right));
  int64_t oh = pool_output_size(p.h, p.kh, p.stride_h, p.pad_top, p.pad_bottom, p.dilation_h, p.ceil_mode);
  int64_t ow = pool_output_size(p.w, p.kw, p.stride_w, p.pad_left, p.pad_right, p.dilation_w, p.ceil_mode);
  if (oh < 1 || ow < 1)
    throw_range(std::string(op) + ": output size " + s(oh) + "x" + s(ow) + " is empty for input " + s(p.h) + "x" +
                s(p.w));
  if (p.oh != oh || p.ow != ow)
    throw_range(std::string(op) + ": output size " + s(p.oh) + "x" + s(p.ow) + " does not match the expected " +
                s(oh) + "x" + s(ow) + " for input " + s(p.h) + "x" + s(p.w) + ", kernel " + s(p.kh) + "x" + s(p.kw) +
                ", stride " + s(p.stride_h) + "x" + s(p.stride_w) + (p.ceil_mode ? " (ceil mode)" : ""));
}

namespace {

// The taps [k0, k1) of a window starting at `start` (maybe in the padding) with `k` taps
// `dilation` apart that land inside [0, size): the loops visit only those, so a kernel far
// larger than the input (padding 'same' with a huge kernel) costs what the input holds.
struct Taps {
  int64_t k0, k1;
};
Taps taps_inside(int64_t start, int64_t dilation, int64_t k, int64_t size) {
  const int64_t k0 = start >= 0 ? 0 : (-start + dilation - 1) / dilation;
  const int64_t k1 = start >= size ? 0 : std::min(k, (size - 1 - start) / dilation + 1);
  return {k0, std::max(k0, k1)};
}

// General max pool over output columns [ox0, ox1) of one output row.
void max_row_general(const PoolShape& p, const float* xp, float* yrow, int32_t* amrow, int64_t oy, int64_t ox0,
                     int64_t ox1) {
  const int64_t h = p.h, w = p.w;
  const int64_t hs = oy * p.stride_h - p.pad_top;
  const Taps ty = taps_inside(hs, p.dilation_h, p.kh, h);
  for (int64_t ox = ox0; ox < ox1; ++ox) {
    const int64_t ws = ox * p.stride_w - p.pad_left;
    const Taps tx = taps_inside(ws, p.dilation_w, p.kw, w);
    float m = -std::numeric_limits<float>::infinity();
    int64_t idx = -1;
    for (int64_t ky = ty.k0; ky < ty.k1; ++ky) {
      const int64_t iy = hs + ky * p.dilation_h;
      const float* xr = xp + iy * w;
      for (int64_t kx = tx.k0; kx < tx.k1; ++kx) {
        const int64_t ix = ws + kx * p.dilation_w;
        float v = xr[ix];
        if (idx < 0 || v > m || std::isnan(v)) {
          m = v;
          idx = iy * w + ix;
        }
      }
    }
    yrow[ox] = m;
    if (amrow) amrow[ox] = int32_t(idx);  // -1: a window wholly in the padding (-inf) passes no gradient
  }
}

}  // namespace

void max_pool2d_forward(const PoolShape& p, const float* x, float* y, int32_t* argmax) {
  validate(p);
  need(x, "max_pool2d", "input");
  need(y, "max_pool2d", "output");
  const int64_t planes = p.n * p.c, oh = p.oh, ow = p.ow, h = p.h, w = p.w;
  const bool fast = p.kh == 2 && p.kw == 2 && p.stride_h == 2 && p.stride_w == 2 && p.dilation_h == 1 &&
                    p.dilation_w == 1 && p.pad_top == 0 && p.pad_left == 0;
  auto row_kernel = active_vec_kernels().maxpool2x2_row;
  const int64_t rows = planes * oh;
  const int64_t grain = std::max<int64_t>(1, kRowGrainElems / (ow * p.kh * p.kw));
  parallel_for(rows, grain, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const int64_t plane = r / oh, oy = r % oh;
      const float* xp = x + plane * h * w;
      float* yrow = y + r * ow;
      int32_t* amrow = argmax ? argmax + r * ow : nullptr;
      int64_t done = 0;
      if (fast && 2 * oy + 1 < h) {
        done = std::min(ow, w / 2);
        const float* x0 = xp + 2 * oy * w;
        row_kernel(x0, x0 + w, yrow, amrow, done, int32_t(2 * oy * w), int32_t(w));
      }
      if (done < ow) max_row_general(p, xp, yrow, amrow, oy, done, ow);
    }
  });
}

void max_pool2d_backward(const PoolShape& p, const float* dy, const int32_t* argmax, float* dx) {
  validate(p);
  need(dy, "max_pool2d_backward", "output gradient");
  need(argmax, "max_pool2d_backward", "argmax (from a forward pass that kept it)");
  need(dx, "max_pool2d_backward", "input gradient");
  const int64_t planes = p.n * p.c, hw = p.h * p.w, ohw = p.oh * p.ow;
  // Non-overlapping windows that tile the input (stride == kernel, no padding or dilation,
  // no partial ceil-mode window): every dx element is written exactly once, no zeroing pass.
  const bool tiled = p.stride_h == p.kh && p.stride_w == p.kw && p.dilation_h == 1 && p.dilation_w == 1 &&
                     p.pad_top == 0 && p.pad_left == 0 && p.pad_bottom == 0 && p.pad_right == 0 &&
                     p.oh * p.kh <= p.h && p.ow * p.kw <= p.w;
  if (tiled) {
    const int64_t h = p.h, w = p.w, oh = p.oh, ow = p.ow, kh = p.kh, kw = p.kw;
    parallel_for(planes * oh, std::max<int64_t>(1, kRowGrainElems / (kh * w)), [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r) {
        const int64_t pl = r / oh, oy = r % oh;
        float* dxp = dx + pl * hw;
        const float* g = dy + r * ow;
        const int32_t* am = argmax + r * ow;
        for (int64_t ky = 0; ky < kh; ++ky) {
          const int64_t iy = oy * kh + ky;
          float* drow = dxp + iy * w;
          const int64_t rowbase = iy * w;
          // Branch-free selects on the bits (argmax positions are random, and g * 0 would turn
          // an inf/NaN gradient into NaN at the other positions).
          const int32_t rb = int32_t(rowbase);
          if (kw == 2) {
            for (int64_t ox = 0; ox < ow; ++ox) {
              const int32_t idx = am[ox] - rb - int32_t(2 * ox);  // 0 or 1 when the max is in this row
              const uint32_t gb = __builtin_bit_cast(uint32_t, g[ox]);
              drow[2 * ox] = __builtin_bit_cast(float, gb & (0u - uint32_t(idx == 0)));
              drow[2 * ox + 1] = __builtin_bit_cast(float, gb & (0u - uint32_t(idx == 1)));
            }
          } else {
            for (int64_t ox = 0; ox < ow; ++ox) {
              const int32_t idx = am[ox] - rb - int32_t(kw * ox);
              const uint32_t gb = __builtin_bit_cast(uint32_t, g[ox]);
              for (int64_t kx = 0; kx < kw; ++kx)
                drow[kw * ox + kx] = __builtin_bit_cast(float, gb & (0u - uint32_t(idx == int32_t(kx))));
            }
          }
          if (ow * kw < w) std::memset(drow + ow * kw, 0, size_t(w - ow * kw) * sizeof(float));
        }
        if (oy == oh - 1 && oh * kh < h)  // rows below the last window
          std::memset(dxp + oh * kh * w, 0, size_t((h - oh * kh) * w) * sizeof(float));
      }
    });
    return;
  }
  parallel_for(planes, std::max<int64_t>(1, kRowGrainElems / std::max(hw, ohw)), [&](int64_t p0, int64_t p1) {
    for (int64_t pl = p0; pl < p1; ++pl) {
      float* dxp = dx + pl * hw;
      std::memset(dxp, 0, size_t(hw) * sizeof(float));
      const float* g = dy + pl * ohw;
      const int32_t* am = argmax + pl * ohw;
      for (int64_t i = 0; i < ohw; ++i) {
        int64_t idx = am[i];
        if (idx >= 0 && idx < hw) dxp[idx] += g[i];  // out-of-range indices are ignored, never written
      }
    }
  });
}

namespace {

void check_avg(const PoolShape& p) {
  validate(p);
  if (p.dilation_h != 1 || p.dilation_w != 1)
    throw_range("avg_pool2d: dilation must be 1x1 for average pooling, got " + s(p.dilation_h) + "x" +
                s(p.dilation_w));
}

// PyTorch's window rule for one axis: start/end clamped to the input, and the size counted
// by count_include_pad (the window clipped to the padded input only).
struct Win {
  int64_t start, end, padded;
};
inline Win window(int64_t o, int64_t stride, int64_t pad_before, int64_t pad_after, int64_t k, int64_t in) {
  int64_t st = o * stride - pad_before;
  int64_t en = std::min(st + k, in + pad_after);
  int64_t padded = en - st;
  return {std::max<int64_t>(st, 0), std::min(en, in), padded};
}

}  // namespace

void avg_pool2d_forward(const PoolShape& p, const float* x, float* y) {
  check_avg(p);
  need(x, "avg_pool2d", "input");
  need(y, "avg_pool2d", "output");
  const int64_t planes = p.n * p.c, oh = p.oh, ow = p.ow, h = p.h, w = p.w;
  const int64_t rows = planes * oh;
  parallel_for(rows, std::max<int64_t>(1, kRowGrainElems / (ow * p.kh * p.kw)), [&](int64_t r0, int64_t r1) {
    // Column sums of the window's input rows first (contiguous, vectorisable), then the
    // horizontal windows over those sums.
    thread_local std::vector<float> colsum;
    if (int64_t(colsum.size()) < w) colsum.assign(size_t(w), 0.f);
    float* cs = colsum.data();
    for (int64_t r = r0; r < r1; ++r) {
      const int64_t plane = r / oh, oy = r % oh;
      const float* xp = x + plane * h * w;
      float* yrow = y + r * ow;
      const Win wy = window(oy, p.stride_h, p.pad_top, p.pad_bottom, p.kh, h);
      if (wy.end <= wy.start) {
        std::fill(cs, cs + w, 0.f);
      } else {
        std::copy(xp + wy.start * w, xp + (wy.start + 1) * w, cs);
        for (int64_t iy = wy.start + 1; iy < wy.end; ++iy) {
          const float* xr = xp + iy * w;
          for (int64_t ix = 0; ix < w; ++ix) cs[ix] += xr[ix];
        }
      }
      // Windows wholly inside the row share one divisor: [in_lo, in_hi) needs no clamping.
      const int64_t sw = p.stride_w, pl = p.pad_left, kw = p.kw;
      const int64_t in_lo = std::min(ow, (pl + sw - 1) / sw);
      const int64_t in_hi = w + pl - kw >= 0 ? std::max(in_lo, std::min(ow, (w + pl - kw) / sw + 1)) : in_lo;
      auto edge = [&](int64_t ox) {
        const Win wx = window(ox, sw, pl, p.pad_right, kw, w);
        float acc = 0.f;
        for (int64_t ix = wx.start; ix < wx.end; ++ix) acc += cs[ix];
        const int64_t div =
            p.count_include_pad ? wy.padded * wx.padded : (wy.end - wy.start) * (wx.end - wx.start);
        yrow[ox] = div > 0 ? acc / float(div) : 0.f;
      };
      for (int64_t ox = 0; ox < in_lo; ++ox) edge(ox);
      // A row of windows wholly in the padding sums nothing: 0, not 0/0, without count_include_pad.
      const int64_t rows_in = std::max<int64_t>(0, wy.end - wy.start);
      const float div_in = float(std::max<int64_t>(1, p.count_include_pad ? wy.padded * kw : rows_in * kw));
      if (kw == 2 && sw == 2) {
        const float* c0 = cs - pl;
        for (int64_t ox = in_lo; ox < in_hi; ++ox) yrow[ox] = (c0[2 * ox] + c0[2 * ox + 1]) / div_in;
      } else {
        for (int64_t ox = in_lo; ox < in_hi; ++ox) {
          const float* c0 = cs + ox * sw - pl;
          float acc = 0.f;
          for (int64_t t = 0; t < kw; ++t) acc += c0[t];
          yrow[ox] = acc / div_in;
        }
      }
      for (int64_t ox = in_hi; ox < ow; ++ox) edge(ox);
    }
  });
}

void avg_pool2d_backward(const PoolShape& p, const float* dy, float* dx) {
  check_avg(p);
  need(dy, "avg_pool2d_backward", "output gradient");
  need(dx, "avg_pool2d_backward", "input gradient");
  const int64_t planes = p.n * p.c, oh = p.oh, ow = p.ow, h = p.h, w = p.w;
  parallel_for(planes, std::max<int64_t>(1, kRowGrainElems / (h * w)), [&](int64_t p0, int64_t p1) {
    for (int64_t pl = p0; pl < p1; ++pl) {
      float* dxp = dx + pl * h * w;
      std::memset(dxp, 0, size_t(h * w) * sizeof(float));
      const float* g = dy + pl * oh * ow;
      for (int64_t oy = 0; oy < oh; ++oy) {
        Win wy = window(oy, p.stride_h, p.pad_top, p.pad_bottom, p.kh, h);
        for (int64_t ox = 0; ox < ow; ++ox) {
          Win wx = window(ox, p.stride_w, p.pad_left, p.pad_right, p.kw, w);
          int64_t div = p.count_include_pad ? wy.padded * wx.padded : (wy.end - wy.start) * (wx.end - wx.start);
          if (div <= 0) continue;
          float v = g[oy * ow + ox] / float(div);
          for (int64_t iy = wy.start; iy < wy.end; ++iy)
            for (int64_t ix = wx.start; ix < wx.end; ++ix) dxp[iy * w + ix] += v;
        }
      }
    }
  });
}

}  // namespace convkit
