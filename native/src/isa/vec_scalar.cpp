// Scalar (baseline x86-64) kernels: the same generic bodies as the vector files, with V a
// plain float. Also the reference for CPUs without AVX2.
#include <cstddef>
#include <cstdint>

#include "vec_kernels.h"

namespace convkit {
namespace {

struct V {
  using T = float;
  static constexpr int W = 1;
  static T load(const float* p) { return *p; }
  static void store(float* p, T v) { *p = v; }
  static T load_tail(const float* p, int, float) { return *p; }  // never used: W == 1
  static void store_tail(float* p, T v, int) { *p = v; }
  static T set1(float a) { return a; }
  static T add(T a, T b) { return a + b; }
  static T sub(T a, T b) { return a - b; }
  static T mul(T a, T b) { return a * b; }
  static T div(T a, T b) { return a / b; }
  static T sqrt(T x) { return __builtin_sqrtf(x); }
  static T fma(T a, T b, T c) { return a * b + c; }
  static T maxnan(T a, T b) { return (a != a || a > b) ? a : b; }  // b NaN: a > b false -> b
  static T clamp(T x, float lo, float hi) { return x < lo ? lo : (x > hi ? hi : x); }
  static T gt0(T x, T a, T b) { return x > 0.f ? a : b; }
  static T le0(T x, T a, T b) { return x <= 0.f ? a : b; }
  static T abs(T x) { return __builtin_fabsf(x); }
  static T copysign(T mag, T sgn) { return __builtin_copysignf(mag, sgn); }
  static T abs_lt(T x, float c, T a, T b) { return __builtin_fabsf(x) < c ? a : b; }
  static T in_range(T x, float lo, float hi, T a, T b) { return x >= lo && x <= hi ? a : b; }
  static T round(T x) {  // |x| < 2^22 here (clamped); NaN passes through
    const float magic = 12582912.f;  // 1.5 * 2^23
    float t = x + magic;  // exact without -ffast-math (not reassociated)
    return t - magic;
  }
  static T scale_pow2(T p, T n) {
    if (n != n) return n;
    int32_t ni = int32_t(n);
    int32_t n1 = ni >> 1, n2 = ni - n1;
    float s1 = __builtin_bit_cast(float, uint32_t(n1 + 127) << 23);
    float s2 = __builtin_bit_cast(float, uint32_t(n2 + 127) << 23);
    return p * s1 * s2;
  }
  static float hsum(T v) { return v; }
  static float hmax(T v) { return v; }
};

#define CONVKIT_VEC_KERNELS_IMPL
#include "vec_kernels.h"

void k_maxpool2x2_row(const float* x0, const float* x1, float* y, int32_t* argmax, int64_t count, int32_t base,
                      int32_t w) {
  maxpool2x2_row_scalar(x0, x1, y, argmax, count, base, w);
}

// The sum in double (each float converts exactly), four partial sums.
double k_sum_f64(const float* x, int64_t n) {
  double s[4] = {0, 0, 0, 0};
  int64_t i = 0;
  for (; i + 4 <= n; i += 4)
    for (int l = 0; l < 4; ++l) s[l] += double(x[i + l]);
  for (; i < n; ++i) s[0] += double(x[i]);
  return (s[0] + s[1]) + (s[2] + s[3]);
}


// acc[i] += x[i] in double (each float converts exactly): sum_axes's column accumulators.
void k_acc_f64(double* acc, const float* x, int64_t n) {
  for (int64_t i = 0; i < n; ++i) acc[i] += double(x[i]);
}

}  // namespace

extern const VecKernels vec_kernels_scalar = {
    k_relu_fwd,      k_relu_bwd,      k_leaky_fwd,     k_leaky_bwd,        k_sigmoid_fwd, k_sigmoid_bwd,
    k_tanh_fwd,      k_tanh_bwd,      k_row_max,       k_row_sum,          k_row_dot,     k_exp_shift_sum,
    k_scale,         k_add_scalar,    k_sub2, k_softmax_bwd_s, k_logsoftmax_bwd_s, k_vmax_acc,    k_exp_sub_v,
    k_vadd_acc,      k_vfma_acc,      k_vmul_v,        k_vsub2_v,           k_softmax_bwd_v, k_logsoftmax_bwd_v,
    k_im2col_s1,     k_col2im_s1,     k_maxpool2x2_row, k_conv_direct, k_conv_direct_channels, W,
    k_sgd_step,      k_adam_step,     k_rmsprop_step,
    k_axpy,          k_scale_to,      k_fill,          k_col_sums,         k_sum_f64,
    {k_binary_vv<0>, k_binary_vv<1>, k_binary_vv<2>, k_binary_vv<3>},
    {k_binary_vs<0>, k_binary_vs<1>, k_binary_vs<2>, k_binary_vs<3>},
    {k_binary_sv<0>, k_binary_sv<1>, k_binary_sv<2>, k_binary_sv<3>},
    k_clamp_fwd,     k_clamp_bwd,     k_acc_f64,
};

}  // namespace convkit
