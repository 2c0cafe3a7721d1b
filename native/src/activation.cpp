// Activations and softmax: thin drivers over the per-ISA vector kernels (vec_kernels.h),
// parallel over large tensors. NaN convention (as PyTorch): relu(NaN) = NaN, and
// leaky_relu / sigmoid / tanh / softmax propagate NaN. relu_backward is PyTorch's
// threshold_backward, dx = x <= 0 ? 0 : dy, so a NaN input passes dy (like the js backend).
#include "convkit/activation.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "convkit/error.h"
#include "convkit/isa.h"
#include "convkit/threads.h"
#include "vec_kernels.h"

namespace convkit {

const VecKernels& active_vec_kernels() {
  switch (active_isa()) {
#if CONVKIT_X86_KERNELS  // CMakeLists.txt builds the AVX files on x86 only
    case Isa::avx512: return vec_kernels_avx512;
    case Isa::avx2: return vec_kernels_avx2;
#endif
    default: break;
  }
  return vec_kernels_scalar;
}

namespace {

constexpr int64_t kElemGrain = int64_t(1) << 15;  // below this, one thread

void check_n(const char* op, int64_t n, const void* a, const void* b, const void* c = nullptr, bool three = false) {
  if (n < 0) throw_range(std::string(op) + ": element count must be >= 0, got " + std::to_string(n));
  if (n > 0 && (!a || !b || (three && !c))) throw_type(std::string(op) + ": a data pointer is null");
}

// Splits [0, n) into per-thread ranges aligned to 64 elements.
template <class F>
void for_elems(int64_t n, F&& fn) {
  if (n <= kElemGrain) {
    if (n > 0) fn(int64_t(0), n);
    return;
  }
  int64_t blocks = (n + 63) / 64;
  parallel_for(blocks, kElemGrain / 64, [&](int64_t b0, int64_t b1) {
    int64_t i0 = b0 * 64, i1 = std::min(n, b1 * 64);
    if (i0 < i1) fn(i0, i1);
  });
}

void check_softmax(const char* op, int64_t outer, int64_t dim, int64_t inner) {
  if (outer < 0 || dim < 0 || inner < 0)
    throw_range(std::string(op) + ": shape [outer, dim, inner] must be non-negative, got [" + std::to_string(outer) +
                ", " + std::to_string(dim) + ", " + std::to_string(inner) + "]");
}

constexpr int64_t kInnerBlock = 1024;

// Runs fn(base_offset, len) for each (outer, inner block) pair of a strided softmax, with
// per-thread scratch arrays a, b of kInnerBlock floats.
template <class F>
void for_strided(int64_t outer, int64_t dim, int64_t inner, F&& fn) {
  int64_t nblk = (inner + kInnerBlock - 1) / kInnerBlock;
  int64_t items = outer * nblk;
  int64_t work_per_item = dim * std::min(inner, kInnerBlock);
  int64_t grain = std::max<int64_t>(1, kElemGrain / std::max<int64_t>(1, work_per_item));
  parallel_for(items, grain, [&](int64_t i0, int64_t i1) {
    std::vector<float> a(static_cast<size_t>(kInnerBlock)), b(static_cast<size_t>(kInnerBlock));
    for (int64_t it = i0; it < i1; ++it) {
      int64_t o = it / nblk, blk = it % nblk;
      int64_t start = blk * kInnerBlock, len = std::min(kInnerBlock, inner - start);
      fn(o * dim * inner + start, len, a.data(), b.data());
    }
  });
}

template <bool kLog>
void softmax_fwd_impl(const float* x, float* y, int64_t outer, int64_t dim, int64_t inner) {
  check_softmax(kLog ? "log_softmax" : "softmax", outer, dim, inner);
  if (outer == 0 || dim == 0 || inner == 0) return;
  const VecKernels& k = active_vec_kernels();
  if (inner == 1) {
    int64_t grain = std::max<int64_t>(1, kElemGrain / dim);
    parallel_for(outer, grain, [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r) {
        const float* xr = x + r * dim;
        float* yr = y + r * dim;
        float m = k.row_max(xr, dim);
        float s = k.exp_shift_sum(xr, m, yr, dim);
        if (kLog) k.sub2(xr, m, std::log(s), yr, dim);  // (x - m) - log s: no rounding of m + log s
        else k.scale(yr, 1.f / s, dim);
      }
    });
    return;
  }
  for_strided(outer, dim, inner, [&](int64_t base, int64_t len, float* m, float* s) {
    std::copy(x + base, x + base + len, m);
    for (int64_t d = 1; d < dim; ++d) k.vmax_acc(m, x + base + d * inner, len);
    std::fill(s, s + len, 0.f);
    for (int64_t d = 0; d < dim; ++d) {
      k.exp_sub_v(x + base + d * inner, m, y + base + d * inner, len);
      k.vadd_acc(s, y + base + d * inner, len);
    }
    if (kLog) {
      for (int64_t i = 0; i < len; ++i) s[i] = std::log(s[i]);
      for (int64_t d = 0; d < dim; ++d) k.vsub2_v(x + base + d * inner, m, s, y + base + d * inner, len);
    } else {
      for (int64_t i = 0; i < len; ++i) s[i] = 1.f / s[i];
      for (int64_t d = 0; d < dim; ++d) k.vmul_v(y + base + d * inner, s, len);
    }
  });
}

template <bool kLog>
void softmax_bwd_impl(const float* y, const float* dy, float* dx, int64_t outer, int64_t dim, int64_t inner) {
  check_softmax(kLog ? "log_softmax_backward" : "softmax_backward", outer, dim, inner);
  if (outer == 0 || dim == 0 || inner == 0) return;
  const VecKernels& k = active_vec_kernels();
  if (inner == 1) {
    int64_t grain = std::max<int64_t>(1, kElemGrain / dim);
    parallel_for(outer, grain, [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r) {
        const float* yr = y + r * dim;
        const float* gr = dy + r * dim;
        if (kLog) k.logsoftmax_bwd_s(yr, gr, k.row_sum(gr, dim), dx + r * dim, dim);
        else k.softmax_bwd_s(yr, gr, k.row_dot(gr, yr, dim), dx + r * dim, dim);
      }
    });
    return;
  }
  for_strided(outer, dim, inner, [&](int64_t base, int64_t len, float* s, float*) {
    std::fill(s, s + len, 0.f);
    for (int64_t d = 0; d < dim; ++d) {
      if (kLog) k.vadd_acc(s, dy + base + d * inner, len);
      else k.vfma_acc(s, dy + base + d * inner, y + base + d * inner, len);
    }
    for (int64_t d = 0; d < dim; ++d) {
      int64_t off = base + d * inner;
      if (kLog) k.logsoftmax_bwd_v(y + off, dy + off, s, dx + off, len);
      else k.softmax_bwd_v(y + off, dy + off, s, dx + off, len);
    }
  });
}

}  // namespace

void relu_forward(const float* x, float* y, int64_t n) {
  check_n("relu", n, x, y);
  auto f = active_vec_kernels().relu_fwd;
  for_elems(n, [&](int64_t a, int64_t b) { f(x + a, y + a, b - a); });
}
void relu_backward(const float* x, const float* dy, float* dx, int64_t n) {
  check_n("relu_backward", n, x, dy, dx, true);
  auto f = active_vec_kernels().relu_bwd;
  for_elems(n, [&](int64_t a, int64_t b) { f(x + a, dy + a, dx + a, b - a); });
}
void leaky_relu_forward(const float* x, float* y, int64_t n, float slope) {
  check_n("leaky_relu", n, x, y);
  auto f = active_vec_kernels().leaky_fwd;
  for_elems(n, [&](int64_t a, int64_t b) { f(x + a, y + a, b - a, slope); });
}
void leaky_relu_backward(const float* x, const float* dy, float* dx, int64_t n, float slope) {
  check_n("leaky_relu_backward", n, x, dy, dx, true);
  auto f = active_vec_kernels().leaky_bwd;
  for_elems(n, [&](int64_t a, int64_t b) { f(x + a, dy + a, dx + a, b - a, slope); });
}
void sigmoid_forward(const float* x, float* y, int64_t n) {
  check_n("sigmoid", n, x, y);
  auto f = active_vec_kernels().sigmoid_fwd;
  for_elems(n, [&](int64_t a, int64_t b) { f(x + a, y + a, b - a); });
}
void sigmoid_backward(const float* y, const float* dy, float* dx, int64_t n) {
  check_n("sigmoid_backward", n, y, dy, dx, true);
  auto f = active_vec_kernels().sigmoid_bwd;
  for_elems(n, [&](int64_t a, int64_t b) { f(y + a, dy + a, dx + a, b - a); });
}
void tanh_forward(const float* x, float* y, int64_t n) {
  check_n("tanh", n, x, y);
  auto f = active_vec_kernels().tanh_fwd;
  for_elems(n, [&](int64_t a, int64_t b) { f(x + a, y + a, b - a); });
}
void tanh_backward(const float* y, const float* dy, float* dx, int64_t n) {
  check_n("tanh_backward", n, y, dy, dx, true);
  auto f = active_vec_kernels().tanh_bwd;
  for_elems(n, [&](int64_t a, int64_t b) { f(y + a, dy + a, dx + a, b - a); });
}

void softmax_forward(const float* x, float* y, int64_t outer, int64_t dim, int64_t inner) {
  softmax_fwd_impl<false>(x, y, outer, dim, inner);
}
void log_softmax_forward(const float* x, float* y, int64_t outer, int64_t dim, int64_t inner) {
  softmax_fwd_impl<true>(x, y, outer, dim, inner);
}
void softmax_backward(const float* y, const float* dy, float* dx, int64_t outer, int64_t dim, int64_t inner) {
  softmax_bwd_impl<false>(y, dy, dx, outer, dim, inner);
}
void log_softmax_backward(const float* y, const float* dy, float* dx, int64_t outer, int64_t dim, int64_t inner) {
  softmax_bwd_impl<true>(y, dy, dx, outer, dim, inner);
}

}  // namespace convkit
