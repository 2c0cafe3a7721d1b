// Internal: per-ISA vector kernels for activations, softmax rows, pooling rows and small
// elementwise helpers, selected at run time through active_vec_kernels().
//
// This header is plain on purpose (only <cstdint>/<cstddef>): it is included by the ISA files,
// which are compiled with wide-instruction flags. Everything those files define lives in an
// anonymous namespace; the only thing they export is one `const VecKernels` table each.
//
// The generic kernel bodies are written once, below, against a tiny vector abstraction `V`
// that each ISA file defines (scalar float, __m256, __m512) before it defines
// CONVKIT_VEC_KERNELS_IMPL and includes this header a second time inside its anonymous
// namespace.
#ifndef CONVKIT_VEC_KERNELS_H_
#define CONVKIT_VEC_KERNELS_H_
#include <cstddef>
#include <cstdint>

#include "convkit/optim.h"

namespace convkit {

struct VecKernels {
  // Elementwise activations (n may be 0). NaN convention: relu(NaN) = NaN (as PyTorch's
  // clamp_min); leaky_relu/sigmoid/tanh propagate NaN. Backward passes: see activation.h.
  void (*relu_fwd)(const float* x, float* y, int64_t n);
  void (*relu_bwd)(const float* x, const float* dy, float* dx, int64_t n);
  void (*leaky_fwd)(const float* x, float* y, int64_t n, float slope);
  void (*leaky_bwd)(const float* x, const float* dy, float* dx, int64_t n, float slope);
  void (*sigmoid_fwd)(const float* x, float* y, int64_t n);
  void (*sigmoid_bwd)(const float* y, const float* dy, float* dx, int64_t n);
  void (*tanh_fwd)(const float* x, float* y, int64_t n);
  void (*tanh_bwd)(const float* y, const float* dy, float* dx, int64_t n);

  // Contiguous rows (softmax with inner == 1, cross-entropy).
  float (*row_max)(const float* x, int64_t n);                      // NaN if any is NaN
  float (*row_sum)(const float* x, int64_t n);
  float (*row_dot)(const float* a, const float* b, int64_t n);
  float (*exp_shift_sum)(const float* x, float shift, float* y, int64_t n);  // y = exp(x - shift), returns sum y
  void (*scale)(float* y, float s, int64_t n);                      // y *= s
  void (*add_scalar)(const float* x, float s, float* y, int64_t n); // y = x + s (in place allowed)
  void (*sub2)(const float* x, float a, float b, float* y, int64_t n);   // y = (x - a) - b (log_softmax)
  void (*softmax_bwd_s)(const float* y, const float* dy, float s, float* dx, int64_t n);     // dx = y*(dy - s)
  void (*logsoftmax_bwd_s)(const float* y, const float* dy, float s, float* dx, int64_t n);  // dx = dy - exp(y)*s

  // Strided softmax (inner > 1): the same steps with a per-lane vector m / s of length n.
  void (*vmax_acc)(float* m, const float* x, int64_t n);                      // m = max(m, x), NaN sticks
  void (*exp_sub_v)(const float* x, const float* m, float* y, int64_t n);     // y = exp(x - m)
  void (*vadd_acc)(float* s, const float* x, int64_t n);                      // s += x
  void (*vfma_acc)(float* s, const float* a, const float* b, int64_t n);      // s += a*b
  void (*vmul_v)(float* y, const float* s, int64_t n);                        // y *= s
  void (*vsub2_v)(const float* x, const float* a, const float* b, float* y, int64_t n);  // y = (x - a) - b
  void (*softmax_bwd_v)(const float* y, const float* dy, const float* s, float* dx, int64_t n);
  void (*logsoftmax_bwd_v)(const float* y, const float* dy, const float* s, float* dx, int64_t n);

  // im2col / col2im of one column-matrix row (one (ci, ky, kx)) for horizontal stride 1 and
  // output rows [oy0, oy1): input row iy = oy*stride_h + iy0 (skipped / zero when outside
  // [0, h)); output column ox reads input column ox + xoff, valid for ox in [lo, hi).
  // im2col writes dst[(oy-oy0)*ow + ox] (zero outside [lo, hi)); col2im adds it back into xc.
  void (*im2col_s1)(const float* xc, int64_t h, int64_t w, float* dst, int64_t oy0, int64_t oy1, int64_t ow,
                    int64_t stride_h, int64_t iy0, int64_t xoff, int64_t lo, int64_t hi);
  void (*col2im_s1)(const float* src, int64_t h, int64_t w, float* xc, int64_t oy0, int64_t oy1, int64_t ow,
                    int64_t stride_h, int64_t iy0, int64_t xoff, int64_t lo, int64_t hi);

  // Max pool 2x2 stride 2, one output row: output j reads x0[2j], x0[2j+1], x1[2j], x1[2j+1]
  // (x1 = x0 + w). argmax (may be null) gets base + 2j (+1, +w, +w+1) of the first maximum in
  // PyTorch's scan order (a NaN wins and sticks).
  void (*maxpool2x2_row)(const float* x0, const float* x1, float* y, int32_t* argmax, int64_t count,
                         int32_t base, int32_t w);

  // Direct convolution of one image with stride 1, dilation 1 and one group (conv.cpp's path
  // for layers with few channels, where im2col's copies cost as much as the arithmetic). xp
  // holds the c input planes already padded, ph x pw each, followed by at least 16 floats of
  // slack: a vector load that runs past a row's end stays inside. Writes y[o][oy][ox] (oh x ow
  // per channel) = bias[o] + the o x c x kh x kw weights w over the window, then max(y, 0)
  // when relu (NaN kept). bias may be null.
  void (*conv_direct)(const float* xp, int64_t c, int64_t ph, int64_t pw, const float* w, const float* bias,
                      int64_t o, int64_t kh, int64_t kw, float* y, int64_t oh, int64_t ow, bool relu);
  // The same, vectorised over output channels instead of pixels, for narrow rows: o is a
  // multiple of the vector width (conv_lanes), and wp holds the weights repacked as
  // [c][kh][kw][o]. Each pixel keeps o / conv_lanes accumulators; y as above.
  void (*conv_direct_channels)(const float* xp, int64_t c, int64_t ph, int64_t pw, const float* wp,
                               const float* bias, int64_t o, int64_t kh, int64_t kw, float* y, int64_t oh,
                               int64_t ow, bool relu);
  int conv_lanes;

  // Optimizer updates over n elements, formulas in convkit/optim.h. A null state pointer
  // turns off what needs it: buf (SGD momentum, null when momentum is 0), vmax (AMSGrad),
  // buf (RMSprop momentum, null when momentum is 0) and gavg (centered RMSprop).
  void (*sgd_step)(const SgdStep& o, float* p, const float* g, float* buf, int64_t n);
  void (*adam_step)(const AdamScalars& s, float* p, const float* g, float* m, float* v, float* vmax, int64_t n);
  void (*rmsprop_step)(const RmspropStep& o, float* p, const float* g, float* sq, float* buf, float* gavg,
                       int64_t n);

  // The autograd's elementwise helpers (elementwise.cpp).
  void (*axpy)(const float* x, float alpha, float* y, int64_t n);     // y += alpha*x, fused where FMA exists
  void (*scale_to)(const float* x, float s, float* y, int64_t n);     // y = x*s (y may be x)
  void (*fill)(float* y, float value, int64_t n);
  // out[j] = sum over i < m of x[i*stride + j] for j < n: float accumulators, rows in order.
  void (*col_sums)(const float* x, int64_t m, int64_t n, int64_t stride, float* out);
  double (*sum_f64)(const float* x, int64_t n);                       // accumulated in double

  // Broadcasting arithmetic (arith.cpp), one function per BinaryOp (add, sub, mul, div):
  // both operands vectors, a vector and a scalar b, a scalar a and a vector.
  void (*binary_vv[4])(const float* a, const float* b, float* y, int64_t n);
  void (*binary_vs[4])(const float* a, float b, float* y, int64_t n);
  void (*binary_sv[4])(float a, const float* b, float* y, int64_t n);
  void (*clamp_fwd)(const float* x, float lo, float hi, float* y, int64_t n);  // lo <= hi, NaN kept
  void (*clamp_bwd)(const float* x, const float* dy, float lo, float hi, float* dx, int64_t n);  // dy where lo <= x <= hi
  void (*acc_f64)(double* acc, const float* x, int64_t n);            // acc[i] += x[i], exactly
};

extern const VecKernels vec_kernels_scalar;
extern const VecKernels vec_kernels_avx2;
extern const VecKernels vec_kernels_avx512;

// The table for convkit::active_isa() (defined in activation.cpp, baseline code).
const VecKernels& active_vec_kernels();

}  // namespace convkit
#endif  // CONVKIT_VEC_KERNELS_H_

// ------------------------------------------------------------------------------------------
// Generic bodies, instantiated inside each ISA file's anonymous namespace. V provides:
//   T, W, load, store, load_tail(p, n, fill), store_tail(p, v, n), set1, add, sub, mul, div,
//   fma(a, b, c) = a*b + c, maxnan(a, b) (NaN if either), clamp(x, lo, hi) (keeps NaN),
//   gt0(x, a, b) = x > 0 ? a : b, le0(x, a, b) = x <= 0 ? a : b, abs, copysign(mag, sgn),
//   abs_lt(x, c, a, b) = |x| < c ? a : b, in_range(x, lo, hi, a, b) = lo <= x <= hi ? a : b, round, scale_pow2(p, n) = p * 2^n (n integral,
//   in [-150, 128]), sqrt, hsum, hmax (NaN-propagating).
#if defined(CONVKIT_VEC_KERNELS_IMPL) && !defined(CONVKIT_VEC_KERNELS_IMPL_DONE)
#define CONVKIT_VEC_KERNELS_IMPL_DONE

using T = V::T;
constexpr int W = V::W;

// exp(x): Cephes-style range reduction x = n*ln2 + r, degree-6 polynomial on |r| <= ln2/2
// (about 1 ulp), and 2^n applied in two halves so results down to the subnormals and up to
// overflow (inf for x > 88.72) come out right. exp(-inf) = 0, exp(+inf) = inf, NaN -> NaN.
inline T vexp(T x) {
  x = V::clamp(x, -104.f, 88.8f);
  T fx = V::round(V::mul(x, V::set1(1.44269504088896341f)));
  T r = V::fma(fx, V::set1(-0.693359375f), x);
  r = V::fma(fx, V::set1(2.12194440e-4f), r);
  T p = V::set1(1.9875691500e-4f);
  p = V::fma(p, r, V::set1(1.3981999507e-3f));
  p = V::fma(p, r, V::set1(8.3334519073e-3f));
  p = V::fma(p, r, V::set1(4.1665795894e-2f));
  p = V::fma(p, r, V::set1(1.6666665459e-1f));
  p = V::fma(p, r, V::set1(5.0000001201e-1f));
  T r2 = V::mul(r, r);
  p = V::fma(p, r2, V::add(r, V::set1(1.f)));
  return V::scale_pow2(p, fx);
}

inline T vsigmoid(T x) {
  T e = vexp(V::sub(V::set1(0.f), x));
  return V::div(V::set1(1.f), V::add(V::set1(1.f), e));
}

// tanh: odd polynomial (Cephes tanhf) for |x| < 0.625, else 1 - 2/(exp(2|x|) + 1) with the
// sign of x. Saturates to +-1; NaN -> NaN.
inline T vtanh(T x) {
  T z = V::mul(x, x);
  T p = V::set1(-5.70498872745e-3f);
  p = V::fma(p, z, V::set1(2.06390887954e-2f));
  p = V::fma(p, z, V::set1(-5.37397155531e-2f));
  p = V::fma(p, z, V::set1(1.33314422036e-1f));
  p = V::fma(p, z, V::set1(-3.33332819422e-1f));
  T small = V::fma(V::mul(p, z), x, x);
  T e = vexp(V::mul(V::abs(x), V::set1(2.f)));
  T big = V::sub(V::set1(1.f), V::div(V::set1(2.f), V::add(e, V::set1(1.f))));
  big = V::copysign(big, x);
  return V::abs_lt(x, 0.625f, small, big);
}

template <class F>
inline void map1(const float* x, float* y, int64_t n, F f) {
  int64_t i = 0;
  for (; i + W <= n; i += W) V::store(y + i, f(V::load(x + i)));
  if (i < n) {
    int r = int(n - i);
    V::store_tail(y + i, f(V::load_tail(x + i, r, 0.f)), r);
  }
}

template <class F>
inline void map2(const float* a, const float* b, float* y, int64_t n, F f) {
  int64_t i = 0;
  for (; i + W <= n; i += W) V::store(y + i, f(V::load(a + i), V::load(b + i)));
  if (i < n) {
    int r = int(n - i);
    V::store_tail(y + i, f(V::load_tail(a + i, r, 0.f), V::load_tail(b + i, r, 0.f)), r);
  }
}

template <class F>
inline void map3(const float* a, const float* b, const float* c, float* y, int64_t n, F f) {
  int64_t i = 0;
  for (; i + W <= n; i += W) V::store(y + i, f(V::load(a + i), V::load(b + i), V::load(c + i)));
  if (i < n) {
    int r = int(n - i);
    V::store_tail(y + i, f(V::load_tail(a + i, r, 0.f), V::load_tail(b + i, r, 0.f), V::load_tail(c + i, r, 0.f)), r);
  }
}

void k_relu_fwd(const float* x, float* y, int64_t n) {
  map1(x, y, n, [](T v) { return V::le0(v, V::set1(0.f), v); });  // NaN is not <= 0: kept
}
void k_relu_bwd(const float* x, const float* dy, float* dx, int64_t n) {
  map2(x, dy, dx, n, [](T v, T g) { return V::le0(v, V::set1(0.f), g); });  // as PyTorch: NaN passes dy
}
void k_leaky_fwd(const float* x, float* y, int64_t n, float slope) {
  T s = V::set1(slope);
  map1(x, y, n, [s](T v) { return V::gt0(v, v, V::mul(v, s)); });
}
void k_leaky_bwd(const float* x, const float* dy, float* dx, int64_t n, float slope) {
  T s = V::set1(slope);
  map2(x, dy, dx, n, [s](T v, T g) { return V::gt0(v, g, V::mul(g, s)); });
}
void k_sigmoid_fwd(const float* x, float* y, int64_t n) { map1(x, y, n, [](T v) { return vsigmoid(v); }); }
void k_sigmoid_bwd(const float* y, const float* dy, float* dx, int64_t n) {
  map2(y, dy, dx, n, [](T v, T g) { return V::mul(g, V::mul(v, V::sub(V::set1(1.f), v))); });
}
void k_tanh_fwd(const float* x, float* y, int64_t n) { map1(x, y, n, [](T v) { return vtanh(v); }); }
void k_tanh_bwd(const float* y, const float* dy, float* dx, int64_t n) {
  map2(y, dy, dx, n, [](T v, T g) { return V::mul(g, V::sub(V::set1(1.f), V::mul(v, v))); });
}

float k_row_max(const float* x, int64_t n) {
  T acc = V::set1(-__builtin_inff());
  int64_t i = 0;
  for (; i + W <= n; i += W) acc = V::maxnan(acc, V::load(x + i));
  if (i < n) acc = V::maxnan(acc, V::load_tail(x + i, int(n - i), -__builtin_inff()));
  return V::hmax(acc);
}
float k_row_sum(const float* x, int64_t n) {
  T acc = V::set1(0.f);
  int64_t i = 0;
  for (; i + W <= n; i += W) acc = V::add(acc, V::load(x + i));
  if (i < n) acc = V::add(acc, V::load_tail(x + i, int(n - i), 0.f));
  return V::hsum(acc);
}
float k_row_dot(const float* a, const float* b, int64_t n) {
  T acc = V::set1(0.f);
  int64_t i = 0;
  for (; i + W <= n; i += W) acc = V::fma(V::load(a + i), V::load(b + i), acc);
  if (i < n) acc = V::fma(V::load_tail(a + i, int(n - i), 0.f), V::load_tail(b + i, int(n - i), 0.f), acc);
  return V::hsum(acc);
}
float k_exp_shift_sum(const float* x, float shift, float* y, int64_t n) {
  T acc = V::set1(0.f), sh = V::set1(shift);
  int64_t i = 0;
  for (; i + W <= n; i += W) {
    T e = vexp(V::sub(V::load(x + i), sh));
    V::store(y + i, e);
    acc = V::add(acc, e);
  }
  if (i < n) {
    int r = int(n - i);
    T e = vexp(V::sub(V::load_tail(x + i, r, -__builtin_inff()), sh));
    V::store_tail(y + i, e, r);
    acc = V::add(acc, e);
  }
  return V::hsum(acc);
}
void k_scale(float* y, float s, int64_t n) {
  T sv = V::set1(s);
  map1(y, y, n, [sv](T v) { return V::mul(v, sv); });
}
void k_add_scalar(const float* x, float s, float* y, int64_t n) {
  T sv = V::set1(s);
  map1(x, y, n, [sv](T v) { return V::add(v, sv); });
}
void k_sub2(const float* x, float a, float b, float* y, int64_t n) {
  T av = V::set1(a), bv = V::set1(b);
  map1(x, y, n, [av, bv](T v) { return V::sub(V::sub(v, av), bv); });
}
void k_softmax_bwd_s(const float* y, const float* dy, float s, float* dx, int64_t n) {
  T sv = V::set1(s);
  map2(y, dy, dx, n, [sv](T v, T g) { return V::mul(v, V::sub(g, sv)); });
}
void k_logsoftmax_bwd_s(const float* y, const float* dy, float s, float* dx, int64_t n) {
  T sv = V::set1(s);
  map2(y, dy, dx, n, [sv](T v, T g) { return V::sub(g, V::mul(vexp(v), sv)); });
}
void k_vmax_acc(float* m, const float* x, int64_t n) {
  map2(m, x, m, n, [](T a, T b) { return V::maxnan(a, b); });
}
void k_exp_sub_v(const float* x, const float* m, float* y, int64_t n) {
  map2(x, m, y, n, [](T a, T b) { return vexp(V::sub(a, b)); });
}
void k_vadd_acc(float* s, const float* x, int64_t n) {
  map2(s, x, s, n, [](T a, T b) { return V::add(a, b); });
}
void k_vfma_acc(float* s, const float* a, const float* b, int64_t n) {
  map3(s, a, b, s, n, [](T acc, T u, T v) { return V::fma(u, v, acc); });
}
void k_vmul_v(float* y, const float* s, int64_t n) {
  map2(y, s, y, n, [](T a, T b) { return V::mul(a, b); });
}
void k_vsub2_v(const float* x, const float* a, const float* b, float* y, int64_t n) {
  map3(x, a, b, y, n, [](T v, T u, T w) { return V::sub(V::sub(v, u), w); });
}
void k_softmax_bwd_v(const float* y, const float* dy, const float* s, float* dx, int64_t n) {
  map3(y, dy, s, dx, n, [](T v, T g, T sv) { return V::mul(v, V::sub(g, sv)); });
}
void k_logsoftmax_bwd_v(const float* y, const float* dy, const float* s, float* dx, int64_t n) {
  map3(y, dy, s, dx, n, [](T v, T g, T sv) { return V::sub(g, V::mul(vexp(v), sv)); });
}

inline void zero_span(float* dst, int64_t n) {
  int64_t j = 0;
  for (; j + W <= n; j += W) V::store(dst + j, V::set1(0.f));
  if (j < n) V::store_tail(dst + j, V::set1(0.f), int(n - j));
}

inline void copy_span(const float* src, float* dst, int64_t n) {
  int64_t j = 0;
  for (; j + W <= n; j += W) V::store(dst + j, V::load(src + j));
  if (j < n) V::store_tail(dst + j, V::load_tail(src + j, int(n - j), 0.f), int(n - j));
}

void k_im2col_s1(const float* xc, int64_t h, int64_t w, float* dst, int64_t oy0, int64_t oy1, int64_t ow,
                 int64_t stride_h, int64_t iy0, int64_t xoff, int64_t lo, int64_t hi) {
  if (stride_h == 1 && w == ow && hi > lo) {
    // "Same"-width conv: the rows with a valid input row form one contiguous block of the
    // input shifted by xoff, so copy it in one long span (from the first valid element to the
    // last) and zero the few padding columns of each row afterwards.
    const int64_t a = oy0 > -iy0 ? oy0 : -iy0;
    const int64_t b = oy1 < h - iy0 ? oy1 : h - iy0;
    if (a >= b) {
      zero_span(dst, (oy1 - oy0) * ow);
      return;
    }
    if (a > oy0) zero_span(dst, (a - oy0) * ow);
    float* blk = dst + (a - oy0) * ow;
    const float* src = xc + (a + iy0) * w + xoff;
    copy_span(src + lo, blk + lo, (b - a - 1) * ow + hi - lo);
    for (int64_t oy = a; oy < b; ++oy) {
      float* row = blk + (oy - a) * ow;
      for (int64_t j = 0; j < lo; ++j) row[j] = 0.f;
      for (int64_t j = hi; j < ow; ++j) row[j] = 0.f;
    }
    if (b < oy1) zero_span(dst + (b - oy0) * ow, (oy1 - b) * ow);
    return;
  }
  for (int64_t oy = oy0; oy < oy1; ++oy, dst += ow) {
    const int64_t iy = oy * stride_h + iy0;
    if (iy < 0 || iy >= h) {
      int64_t j = 0;
      for (; j + W <= ow; j += W) V::store(dst + j, V::set1(0.f));
      if (j < ow) V::store_tail(dst + j, V::set1(0.f), int(ow - j));
      continue;
    }
    const float* src = xc + iy * w + xoff;
    for (int64_t j = 0; j < lo; ++j) dst[j] = 0.f;
    int64_t j = lo;
    for (; j + W <= hi; j += W) V::store(dst + j, V::load(src + j));
    if (j < hi) V::store_tail(dst + j, V::load_tail(src + j, int(hi - j), 0.f), int(hi - j));
    for (j = hi; j < ow; ++j) dst[j] = 0.f;
  }
}

void k_col2im_s1(const float* src, int64_t h, int64_t w, float* xc, int64_t oy0, int64_t oy1, int64_t ow,
                 int64_t stride_h, int64_t iy0, int64_t xoff, int64_t lo, int64_t hi) {
  for (int64_t oy = oy0; oy < oy1; ++oy, src += ow) {
    const int64_t iy = oy * stride_h + iy0;
    if (iy < 0 || iy >= h) continue;
    float* d = xc + iy * w + xoff;
    int64_t j = lo;
    for (; j + W <= hi; j += W) V::store(d + j, V::add(V::load(d + j), V::load(src + j)));
    if (j < hi) {
      int r = int(hi - j);
      V::store_tail(d + j, V::add(V::load_tail(d + j, r, 0.f), V::load_tail(src + j, r, 0.f)), r);
    }
  }
}

// Scalar 2x2/2 max pool for tails (and the whole row on the scalar ISA).
inline void maxpool2x2_row_scalar(const float* x0, const float* x1, float* y, int32_t* argmax, int64_t count,
                                  int32_t base, int32_t w) {
  for (int64_t j = 0; j < count; ++j) {
    const float v[4] = {x0[2 * j], x0[2 * j + 1], x1[2 * j], x1[2 * j + 1]};
    const int32_t off[4] = {0, 1, w, w + 1};
    float m = v[0];
    int k = 0;
    for (int t = 1; t < 4; ++t) {
      if (v[t] > m || v[t] != v[t]) {
        m = v[t];
        k = t;
      }
    }
    y[j] = m;
    if (argmax) argmax[j] = base + int32_t(2 * j) + off[k];
  }
}

// Runs f(i, r) over [0, n): full vectors (r == W), then one tail (r < W).
template <class F>
inline void for_lanes(int64_t n, F f) {
  int64_t i = 0;
  for (; i + W <= n; i += W) f(i, W);
  if (i < n) f(i, int(n - i));
}
inline T ld(const float* p, int r) { return r == W ? V::load(p) : V::load_tail(p, r, 0.f); }
inline void st(float* p, T v, int r) {
  if (r == W) V::store(p, v);
  else V::store_tail(p, v, r);
}

// One block of OB output channels: each output vector (W pixels of a row) keeps OB
// accumulators in registers while it walks the c x kh x kw taps, one input load per tap.
template <int OB>
void conv_direct_block(const float* xp, int64_t c, int64_t ph, int64_t pw, const float* w, const float* bias,
                       int64_t kh, int64_t kw, float* y, int64_t oh, int64_t ow, bool relu) {
  const int64_t per_out = c * kh * kw;
  const int64_t plane = oh * ow;
  for (int64_t oy = 0; oy < oh; ++oy) {
    for (int64_t ox = 0; ox < ow; ox += W) {
      const int r = ow - ox < W ? int(ow - ox) : W;
      T acc[OB];
      for (int o = 0; o < OB; ++o) acc[o] = V::set1(bias ? bias[o] : 0.f);
      for (int64_t ci = 0; ci < c; ++ci) {
        for (int64_t ky = 0; ky < kh; ++ky) {
          const float* row = xp + (ci * ph + oy + ky) * pw + ox;
          const float* wk = w + (ci * kh + ky) * kw;
          for (int64_t kx = 0; kx < kw; ++kx) {
            const T xv = V::load(row + kx);
            for (int o = 0; o < OB; ++o) acc[o] = V::fma(V::set1(wk[o * per_out + kx]), xv, acc[o]);
          }
        }
      }
      for (int o = 0; o < OB; ++o) {
        const T v = relu ? V::le0(acc[o], V::set1(0.f), acc[o]) : acc[o];
        st(y + o * plane + oy * ow + ox, v, r);
      }
    }
  }
}

template <int OB>
void conv_direct_blocks(const float* xp, int64_t c, int64_t ph, int64_t pw, const float* w, const float* bias,
                        int64_t o, int64_t kh, int64_t kw, float* y, int64_t oh, int64_t ow, bool relu) {
  // Full blocks of OB, then one block of what is left (dispatched down to its size).
  int64_t o0 = 0;
  for (; o0 + OB <= o; o0 += OB)
    conv_direct_block<OB>(xp, c, ph, pw, w + o0 * c * kh * kw, bias ? bias + o0 : nullptr, kh, kw, y + o0 * oh * ow, oh, ow, relu);
  if constexpr (OB > 1) {
    if (o0 < o)
      conv_direct_blocks<OB - 1>(xp, c, ph, pw, w + o0 * c * kh * kw, bias ? bias + o0 : nullptr, o - o0, kh, kw,
                                 y + o0 * oh * ow, oh, ow, relu);
  }
}

// P pixels of one output row x OV vectors of output channels (o = OV * W), all in registers:
// per tap, OV weight loads serve P * OV broadcast FMAs. The accumulators go out through a small
// [P][o] buffer, transposed into the rows of y.
template <int P, int OV>
void conv_channels_pixels(const float* xp, int64_t c, int64_t ph, int64_t pw, const float* wp, const float* bias,
                          int64_t kh, int64_t kw, float* y, int64_t oh, int64_t ow, int64_t oy, int64_t ox, bool relu) {
  constexpr int64_t O = int64_t(OV) * W;
  T acc[P][OV];
  for (int v = 0; v < OV; ++v) {
    const T b = bias ? V::load(bias + v * W) : V::set1(0.f);
    for (int p = 0; p < P; ++p) acc[p][v] = b;
  }
  for (int64_t ci = 0; ci < c; ++ci) {
    for (int64_t ky = 0; ky < kh; ++ky) {
      const float* row = xp + (ci * ph + oy + ky) * pw + ox;
      const float* wk = wp + ((ci * kh + ky) * kw) * O;
      for (int64_t kx = 0; kx < kw; ++kx) {
        T wv[OV];
        for (int v = 0; v < OV; ++v) wv[v] = V::load(wk + kx * O + v * W);
        for (int p = 0; p < P; ++p) {
          const T xb = V::set1(row[p + kx]);
          for (int v = 0; v < OV; ++v) acc[p][v] = V::fma(xb, wv[v], acc[p][v]);
        }
      }
    }
  }
  float out[P * O];
  for (int p = 0; p < P; ++p)
    for (int v = 0; v < OV; ++v) V::store(out + p * O + v * W, relu ? V::le0(acc[p][v], V::set1(0.f), acc[p][v]) : acc[p][v]);
  const int64_t plane = oh * ow;
  for (int64_t ch = 0; ch < O; ++ch)
    for (int p = 0; p < P; ++p) y[ch * plane + oy * ow + ox + p] = out[p * O + ch];
}

// A row's pixels in runs of P, then the rest by smaller runs.
template <int P, int OV>
void conv_channels_row(const float* xp, int64_t c, int64_t ph, int64_t pw, const float* wp, const float* bias,
                       int64_t kh, int64_t kw, float* y, int64_t oh, int64_t ow, int64_t oy, int64_t ox0, bool relu) {
  int64_t ox = ox0;
  for (; ox + P <= ow; ox += P) conv_channels_pixels<P, OV>(xp, c, ph, pw, wp, bias, kh, kw, y, oh, ow, oy, ox, relu);
  if constexpr (P > 1) {
    if (ox < ow) conv_channels_row<P - 1, OV>(xp, c, ph, pw, wp, bias, kh, kw, y, oh, ow, oy, ox, relu);
  }
}

void k_conv_direct_channels(const float* xp, int64_t c, int64_t ph, int64_t pw, const float* wp, const float* bias,
                            int64_t o, int64_t kh, int64_t kw, float* y, int64_t oh, int64_t ow, bool relu) {
  // 12 pixels x 1 vector or 6 x 2 keep 12 accumulators: within the registers of every ISA.
  for (int64_t oy = 0; oy < oh; ++oy) {
    if (o == W) conv_channels_row<12, 1>(xp, c, ph, pw, wp, bias, kh, kw, y, oh, ow, oy, 0, relu);
    else conv_channels_row<6, 2>(xp, c, ph, pw, wp, bias, kh, kw, y, oh, ow, oy, 0, relu);
  }
}

// Blocks of up to 16 channels where there are 32 vector registers (AVX-512), 8 elsewhere.
void k_conv_direct(const float* xp, int64_t c, int64_t ph, int64_t pw, const float* w, const float* bias, int64_t o,
                   int64_t kh, int64_t kw, float* y, int64_t oh, int64_t ow, bool relu) {
  conv_direct_blocks<(W >= 16 ? 16 : 8)>(xp, c, ph, pw, w, bias, o, kh, kw, y, oh, ow, relu);
}

void k_sgd_step(const SgdStep& o, float* p, const float* g, float* buf, int64_t n) {
  const T lr = V::set1(o.lr), wd = V::set1(o.weight_decay), mom = V::set1(o.momentum);
  const T grad_scale = V::set1(1.f - o.dampening);
  for_lanes(n, [&](int64_t i, int r) {
    const T w = ld(p + i, r);
    T gi = V::fma(wd, w, ld(g + i, r));
    if (buf) {
      const T b = o.first ? gi : V::fma(mom, ld(buf + i, r), V::mul(grad_scale, gi));
      st(buf + i, b, r);
      gi = o.nesterov ? V::fma(mom, b, gi) : b;
    }
    st(p + i, V::sub(w, V::mul(lr, gi)), r);
  });
}

void k_adam_step(const AdamScalars& s, float* p, const float* g, float* m, float* v, float* vmax, int64_t n) {
  const T b1 = V::set1(s.beta1), c1 = V::set1(s.one_minus_beta1), b2 = V::set1(s.beta2),
          c2 = V::set1(s.one_minus_beta2), eps = V::set1(s.eps), decay = V::set1(s.decay), l2 = V::set1(s.l2),
          step_size = V::set1(s.step_size), bc2 = V::set1(s.sqrt_bias_corr2);
  for_lanes(n, [&](int64_t i, int r) {
    const T w = V::mul(ld(p + i, r), decay);
    const T gi = V::fma(l2, w, ld(g + i, r));
    const T mi = V::fma(b1, ld(m + i, r), V::mul(c1, gi));
    T vi = V::fma(b2, ld(v + i, r), V::mul(V::mul(c2, gi), gi));
    st(m + i, mi, r);
    st(v + i, vi, r);
    if (vmax) {
      vi = V::maxnan(ld(vmax + i, r), vi);
      st(vmax + i, vi, r);
    }
    const T denom = V::add(V::div(V::sqrt(vi), bc2), eps);
    st(p + i, V::sub(w, V::div(V::mul(step_size, mi), denom)), r);
  });
}

void k_rmsprop_step(const RmspropStep& o, float* p, const float* g, float* sq, float* buf, float* gavg,
                    int64_t n) {
  const T lr = V::set1(o.lr), alpha = V::set1(o.alpha), c = V::set1(1.f - o.alpha), eps = V::set1(o.eps),
          wd = V::set1(o.weight_decay), mom = V::set1(o.momentum);
  for_lanes(n, [&](int64_t i, int r) {
    const T w = ld(p + i, r);
    const T gi = V::fma(wd, w, ld(g + i, r));
    const T vi = V::fma(alpha, ld(sq + i, r), V::mul(V::mul(c, gi), gi));
    st(sq + i, vi, r);
    T variance = vi;
    if (gavg) {
      const T a = V::fma(alpha, ld(gavg + i, r), V::mul(c, gi));
      st(gavg + i, a, r);
      // v - a^2 is a variance, >= 0 in exact arithmetic; rounding can take it just below 0 (with
      // alpha = 0 it is g^2 - g^2), and its square root would be NaN. NaN still propagates.
      variance = V::maxnan(V::sub(vi, V::mul(a, a)), V::set1(0.f));
    }
    T step = V::div(gi, V::add(V::sqrt(variance), eps));
    if (buf) {
      step = V::fma(mom, ld(buf + i, r), step);
      st(buf + i, step, r);
    }
    st(p + i, V::sub(w, V::mul(lr, step)), r);
  });
}

void k_axpy(const float* x, float alpha, float* y, int64_t n) {
  const T a = V::set1(alpha);
  map2(x, y, y, n, [a](T xv, T yv) { return V::fma(a, xv, yv); });
}
void k_scale_to(const float* x, float s, float* y, int64_t n) {
  const T sv = V::set1(s);
  map1(x, y, n, [sv](T v) { return V::mul(v, sv); });
}
void k_fill(float* y, float value, int64_t n) {
  const T v = V::set1(value);
  for_lanes(n, [&](int64_t i, int r) { st(y + i, v, r); });
}

// Column sums of NV vectors (the last one `last` lanes wide), each in one register all the
// way down the m rows: one load per element, no accumulator traffic through memory.
template <int NV>
inline void col_sums_block(const float* x, int64_t m, int64_t stride, int last, float* out) {
  T acc[NV];
#pragma GCC unroll 8
  for (int v = 0; v < NV; ++v) acc[v] = V::set1(0.f);
  for (int64_t i = 0; i < m; ++i, x += stride) {
#pragma GCC unroll 8
    for (int v = 0; v < NV; ++v) acc[v] = V::add(acc[v], ld(x + v * W, v + 1 < NV ? W : last));
  }
#pragma GCC unroll 8
  for (int v = 0; v < NV; ++v) st(out + v * W, acc[v], v + 1 < NV ? W : last);
}

void k_col_sums(const float* x, int64_t m, int64_t n, int64_t stride, float* out) {
  constexpr int kVecs = 8;
  int64_t j = 0;
  for (; j + kVecs * W <= n; j += kVecs * W) col_sums_block<kVecs>(x + j, m, stride, W, out + j);
  if (j == n) return;
  const int rest = int(n - j), nv = (rest + W - 1) / W, last = rest - (nv - 1) * W;
  switch (nv) {  // the remaining columns in one pass too
    case 1: return col_sums_block<1>(x + j, m, stride, last, out + j);
    case 2: return col_sums_block<2>(x + j, m, stride, last, out + j);
    case 3: return col_sums_block<3>(x + j, m, stride, last, out + j);
    case 4: return col_sums_block<4>(x + j, m, stride, last, out + j);
    case 5: return col_sums_block<5>(x + j, m, stride, last, out + j);
    case 6: return col_sums_block<6>(x + j, m, stride, last, out + j);
    case 7: return col_sums_block<7>(x + j, m, stride, last, out + j);
    default: return col_sums_block<8>(x + j, m, stride, last, out + j);  // rest < kVecs * W: nv <= 8
  }
}

template <int Op>
inline T binop(T a, T b) {
  if constexpr (Op == 0) return V::add(a, b);
  else if constexpr (Op == 1) return V::sub(a, b);
  else if constexpr (Op == 2) return V::mul(a, b);
  else return V::div(a, b);
}
template <int Op>
void k_binary_vv(const float* a, const float* b, float* y, int64_t n) {
  map2(a, b, y, n, [](T u, T v) { return binop<Op>(u, v); });
}
template <int Op>
void k_binary_vs(const float* a, float b, float* y, int64_t n) {
  const T s = V::set1(b);
  map1(a, y, n, [s](T u) { return binop<Op>(u, s); });
}
template <int Op>
void k_binary_sv(float a, const float* b, float* y, int64_t n) {
  const T s = V::set1(a);
  map1(b, y, n, [s](T v) { return binop<Op>(s, v); });
}
// V::clamp keeps NaN on every ISA; lo <= hi is the caller's (arith.cpp's) promise.
void k_clamp_fwd(const float* x, float lo, float hi, float* y, int64_t n) {
  map1(x, y, n, [lo, hi](T v) { return V::clamp(v, lo, hi); });
}
void k_clamp_bwd(const float* x, const float* dy, float lo, float hi, float* dx, int64_t n) {
  map2(x, dy, dx, n, [lo, hi](T v, T g) { return V::in_range(v, lo, hi, g, V::set1(0.f)); });
}

#endif  // CONVKIT_VEC_KERNELS_IMPL
