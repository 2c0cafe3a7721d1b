// Max and average pooling, NCHW, with the CPU core's semantics (native/src/pool.cpp): PyTorch
// windows, ceil mode, asymmetric padding, dilation (max), count_include_pad (avg).
// Forward passes run one thread per output. Backward passes gather: one thread per input
// element sums, in output order, the outputs whose window covers it, so there are no atomics,
// the result is deterministic, every dx element is written, and the sums round exactly as the
// CPU scatter does.
#include <string>

#include "convkit/error.h"
#include "convkit_cuda/kernels.h"
#include "launch.cuh"

namespace convkit::cuda {
namespace {

__device__ __forceinline__ int64_t thread_index() { return blockIdx.x * int64_t(blockDim.x) + threadIdx.x; }
__device__ __forceinline__ int64_t thread_count() { return int64_t(gridDim.x) * blockDim.x; }

// First output whose window (starting at o*stride - pad, spanning `reach` inputs) reaches
// input i, and the last one that starts at or before it, clipped to [0, outs).
__device__ __forceinline__ int64_t first_cover(int64_t i, int64_t pad, int64_t reach, int64_t stride) {
  const int64_t a = i + pad - reach + 1;
  return a <= 0 ? 0 : (a + stride - 1) / stride;
}
__device__ __forceinline__ int64_t last_cover(int64_t i, int64_t pad, int64_t stride, int64_t outs) {
  return min((i + pad) / stride, outs - 1);
}

// The taps [k0, k1) of a window starting at `start` with `k` taps `dilation` apart that land in
// [0, size), as on the CPU: a kernel far larger than the input costs what the input holds.
struct Taps {
  int64_t k0, k1;
};
__device__ __forceinline__ Taps taps_inside(int64_t start, int64_t dilation, int64_t k, int64_t size) {
  const int64_t k0 = start >= 0 ? 0 : (-start + dilation - 1) / dilation;
  const int64_t k1 = start >= size ? 0 : min(k, (size - 1 - start) / dilation + 1);
  return {k0, max(k0, k1)};
}

// Scans the window in (ky, kx) order and takes v when it is the first, larger, or NaN, as the
// CPU; a window with no input inside (only possible with dilation > input size) gives -inf, 0.
__global__ void max_pool_fwd(PoolShape p, const float* x, float* y, int32_t* argmax, int64_t total) {
  for (int64_t o = thread_index(); o < total; o += thread_count()) {
    const int64_t ox = o % p.ow, t = o / p.ow, oy = t % p.oh, plane = t / p.oh;
    const float* xp = x + plane * p.h * p.w;
    const int64_t hs = oy * p.stride_h - p.pad_top, ws = ox * p.stride_w - p.pad_left;
    float m = -INFINITY;
    int64_t idx = -1;
    const Taps ty = taps_inside(hs, p.dilation_h, p.kh, p.h), tx = taps_inside(ws, p.dilation_w, p.kw, p.w);
    for (int64_t ky = ty.k0; ky < ty.k1; ++ky) {
      const int64_t iy = hs + ky * p.dilation_h;
      for (int64_t kx = tx.k0; kx < tx.k1; ++kx) {
        const int64_t ix = ws + kx * p.dilation_w;
        const float v = xp[iy * p.w + ix];
        if (idx < 0 || v > m || v != v) {
          m = v;
          idx = iy * p.w + ix;
        }
      }
    }
    y[o] = m;
    if (argmax) argmax[o] = int32_t(idx);  // -1: a window wholly in the padding passes no gradient
  }
}

// dx[j] = sum of dy[o] over outputs o with argmax[o] == j, in output order. Only outputs whose
// window covers j on a dilation tap can hold j; empty windows hold -1, which no j matches. (When
// empty windows may exist, scan_all still has input 0 of each plane scan every output of its
// plane, which stays correct.)
__global__ void max_pool_bwd(PoolShape p, const float* dy, const int32_t* argmax, float* dx, int64_t total,
                             bool scan_all) {
  const int64_t eh = p.dilation_h * (p.kh - 1) + 1, ew = p.dilation_w * (p.kw - 1) + 1;
  const int64_t ohw = p.oh * p.ow;
  for (int64_t i = thread_index(); i < total; i += thread_count()) {
    const int64_t ix = i % p.w, t = i / p.w, iy = t % p.h, plane = t / p.h;
    const int64_t j = iy * p.w + ix;
    const float* g = dy + plane * ohw;
    const int32_t* am = argmax + plane * ohw;
    float acc = 0.f;
    if (scan_all && j == 0) {
      for (int64_t o = 0; o < ohw; ++o)
        if (am[o] == 0) acc += g[o];
    } else {
      const int64_t oy1 = last_cover(iy, p.pad_top, p.stride_h, p.oh);
      const int64_t ox0 = first_cover(ix, p.pad_left, ew, p.stride_w);
      const int64_t ox1 = last_cover(ix, p.pad_left, p.stride_w, p.ow);
      for (int64_t oy = first_cover(iy, p.pad_top, eh, p.stride_h); oy <= oy1; ++oy) {
        if ((iy + p.pad_top - oy * p.stride_h) % p.dilation_h != 0) continue;
        for (int64_t ox = ox0; ox <= ox1; ++ox) {
          if ((ix + p.pad_left - ox * p.stride_w) % p.dilation_w != 0) continue;
          const int64_t o = oy * p.ow + ox;
          if (am[o] == j) acc += g[o];
        }
      }
    }
    dx[i] = acc;
  }
}

// PyTorch's window on one axis, as the CPU window(): start/end clamped to the input and the
// size counted by count_include_pad (clipped to the padded input only).
struct Win {
  int64_t start, end, padded;
};
__device__ __forceinline__ Win window(int64_t o, int64_t stride, int64_t pad_before, int64_t pad_after, int64_t k,
                                      int64_t in) {
  const int64_t st = o * stride - pad_before;
  const int64_t en = min(st + k, in + pad_after);
  return {max(st, int64_t(0)), min(en, in), en - st};
}

__device__ __forceinline__ int64_t divisor(const PoolShape& p, const Win& wy, const Win& wx) {
  return p.count_include_pad ? wy.padded * wx.padded : (wy.end - wy.start) * (wx.end - wx.start);
}

// Sums column by column (each column over the window's rows first), the CPU's order.
__global__ void avg_pool_fwd(PoolShape p, const float* x, float* y, int64_t total) {
  for (int64_t o = thread_index(); o < total; o += thread_count()) {
    const int64_t ox = o % p.ow, t = o / p.ow, oy = t % p.oh, plane = t / p.oh;
    const float* xp = x + plane * p.h * p.w;
    const Win wy = window(oy, p.stride_h, p.pad_top, p.pad_bottom, p.kh, p.h);
    const Win wx = window(ox, p.stride_w, p.pad_left, p.pad_right, p.kw, p.w);
    float acc = 0.f;
    if (wy.end > wy.start) {
      for (int64_t ix = wx.start; ix < wx.end; ++ix) {
        float col = xp[wy.start * p.w + ix];
        for (int64_t iy = wy.start + 1; iy < wy.end; ++iy) col += xp[iy * p.w + ix];
        acc += col;
      }
    }
    const int64_t div = divisor(p, wy, wx);
    y[o] = div > 0 ? acc / float(div) : 0.f;
  }
}

__global__ void avg_pool_bwd(PoolShape p, const float* dy, float* dx, int64_t total) {
  const int64_t ohw = p.oh * p.ow;
  for (int64_t i = thread_index(); i < total; i += thread_count()) {
    const int64_t ix = i % p.w, t = i / p.w, iy = t % p.h, plane = t / p.h;
    const float* g = dy + plane * ohw;
    const int64_t oy1 = last_cover(iy, p.pad_top, p.stride_h, p.oh);
    const int64_t ox0 = first_cover(ix, p.pad_left, p.kw, p.stride_w);
    const int64_t ox1 = last_cover(ix, p.pad_left, p.stride_w, p.ow);
    float acc = 0.f;
    for (int64_t oy = first_cover(iy, p.pad_top, p.kh, p.stride_h); oy <= oy1; ++oy) {
      const Win wy = window(oy, p.stride_h, p.pad_top, p.pad_bottom, p.kh, p.h);
      for (int64_t ox = ox0; ox <= ox1; ++ox) {
        const Win wx = window(ox, p.stride_w, p.pad_left, p.pad_right, p.kw, p.w);
        const int64_t div = divisor(p, wy, wx);
        if (div > 0) acc += g[oy * p.ow + ox] / float(div);
      }
    }
    dx[i] = acc;
  }
}

void check_avg(const PoolShape& p) {
  validate(p);
  if (p.dilation_h != 1 || p.dilation_w != 1)
    throw_range("avg_pool2d: dilation must be 1x1 for average pooling, got " + std::to_string(p.dilation_h) + "x" +
                std::to_string(p.dilation_w));
}

}  // namespace

void max_pool2d_forward(const PoolShape& p, const float* x, float* y, int32_t* argmax) {
  validate(p);
  need(x, "max_pool2d", "input");
  need(y, "max_pool2d", "output");
  const int64_t total = p.n * p.c * p.oh * p.ow;
  max_pool_fwd<<<grid_for(total), kThreads, 0, stream()>>>(p, x, y, argmax, total);
  check_launch("max_pool2d");
}

void max_pool2d_backward(const PoolShape& p, const float* dy, const int32_t* argmax, float* dx) {
  validate(p);
  need(dy, "max_pool2d_backward", "output gradient");
  need(argmax, "max_pool2d_backward", "argmax (from a forward pass that kept it)");
  need(dx, "max_pool2d_backward", "input gradient");
  const int64_t total = p.n * p.c * p.h * p.w;
  // Taps dilation apart always hit an input unless the dilation exceeds the input size.
  const bool scan_all = p.dilation_h > p.h || p.dilation_w > p.w;
  max_pool_bwd<<<grid_for(total), kThreads, 0, stream()>>>(p, dy, argmax, dx, total, scan_all);
  check_launch("max_pool2d_backward");
}

void avg_pool2d_forward(const PoolShape& p, const float* x, float* y) {
  check_avg(p);
  need(x, "avg_pool2d", "input");
  need(y, "avg_pool2d", "output");
  const int64_t total = p.n * p.c * p.oh * p.ow;
  avg_pool_fwd<<<grid_for(total), kThreads, 0, stream()>>>(p, x, y, total);
  check_launch("avg_pool2d");
}

void avg_pool2d_backward(const PoolShape& p, const float* dy, float* dx) {
  check_avg(p);
  need(dy, "avg_pool2d_backward", "output gradient");
  need(dx, "avg_pool2d_backward", "input gradient");
  const int64_t total = p.n * p.c * p.h * p.w;
  avg_pool_bwd<<<grid_for(total), kThreads, 0, stream()>>>(p, dy, dx, total);
  check_launch("avg_pool2d_backward");
}

}  // namespace convkit::cuda
