// AVX-512 vector kernels (compiled with -mavx512f/dq/bw/vl). No STL: everything but the
// exported table is in an anonymous namespace.
// GCC 12's AVX-512 intrinsics initialise their pass-through operand from itself
// (`__m512 __Y = __Y;`), which -Wall reports as uninitialised: a false positive.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <cstddef>
#include <cstdint>

#include "vec_kernels.h"

namespace convkit {
namespace {

struct V {
  using T = __m512;
  static constexpr int W = 16;
  static __mmask16 tmask(int n) { return __mmask16((1u << n) - 1u); }
  static T load(const float* p) { return _mm512_loadu_ps(p); }
  static void store(float* p, T v) { _mm512_storeu_ps(p, v); }
  static T load_tail(const float* p, int n, float fill) { return _mm512_mask_loadu_ps(_mm512_set1_ps(fill), tmask(n), p); }
  static void store_tail(float* p, T v, int n) { _mm512_mask_storeu_ps(p, tmask(n), v); }
  static T set1(float a) { return _mm512_set1_ps(a); }
  static T add(T a, T b) { return _mm512_add_ps(a, b); }
  static T sub(T a, T b) { return _mm512_sub_ps(a, b); }
  static T mul(T a, T b) { return _mm512_mul_ps(a, b); }
  static T div(T a, T b) { return _mm512_div_ps(a, b); }
  static T sqrt(T x) { return _mm512_sqrt_ps(x); }
  static T fma(T a, T b, T c) { return _mm512_fmadd_ps(a, b, c); }
  static T maxnan(T a, T b) {  // max_ps returns b when either is NaN; restore a's NaN
    return _mm512_mask_mov_ps(_mm512_max_ps(a, b), _mm512_cmp_ps_mask(a, a, _CMP_UNORD_Q), a);
  }
  static T clamp(T x, float lo, float hi) { return _mm512_max_ps(set1(lo), _mm512_min_ps(set1(hi), x)); }
  static T gt0(T x, T a, T b) { return _mm512_mask_mov_ps(b, _mm512_cmp_ps_mask(x, _mm512_setzero_ps(), _CMP_GT_OQ), a); }
  static T le0(T x, T a, T b) { return _mm512_mask_mov_ps(b, _mm512_cmp_ps_mask(x, _mm512_setzero_ps(), _CMP_LE_OQ), a); }
  static T abs(T x) { return _mm512_abs_ps(x); }
  static T copysign(T mag, T sgn) {
    const __m512i sign = _mm512_set1_epi32(int32_t(0x80000000u));
    return _mm512_castsi512_ps(_mm512_ternarylogic_epi32(_mm512_castps_si512(mag), _mm512_castps_si512(sgn), sign, 0xD8));
  }
  static T abs_lt(T x, float c, T a, T b) { return _mm512_mask_mov_ps(b, _mm512_cmp_ps_mask(abs(x), set1(c), _CMP_LT_OQ), a); }
  static T in_range(T x, float lo, float hi, T a, T b) {
    const __mmask16 in = _mm512_cmp_ps_mask(x, set1(lo), _CMP_GE_OQ) & _mm512_cmp_ps_mask(x, set1(hi), _CMP_LE_OQ);
    return _mm512_mask_mov_ps(b, in, a);
  }
  static T round(T x) { return _mm512_roundscale_ps(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
  static T scale_pow2(T p, T n) { return _mm512_scalef_ps(p, n); }
  static float hsum(T v) { return _mm512_reduce_add_ps(v); }
  static float hmax(T v) {
    if (_mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q)) return __builtin_nanf("");
    return _mm512_reduce_max_ps(v);
  }
};

#define CONVKIT_VEC_KERNELS_IMPL
#include "vec_kernels.h"

void k_maxpool2x2_row(const float* x0, const float* x1, float* y, int32_t* argmax, int64_t count, int32_t base,
                      int32_t w) {
  const __m512i ie = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  const __m512i io = _mm512_add_epi32(ie, _mm512_set1_epi32(1));
  const __m512i one = _mm512_set1_epi32(1), wv = _mm512_set1_epi32(w);
  for (int64_t j = 0; j < count; j += 16) {
    int64_t rem = count - j;
    __m512 a0, a1, b0, b1;
    __mmask16 mo = 0xFFFF;
    if (rem >= 16) {
      a0 = _mm512_loadu_ps(x0 + 2 * j);
      a1 = _mm512_loadu_ps(x0 + 2 * j + 16);
      b0 = _mm512_loadu_ps(x1 + 2 * j);
      b1 = _mm512_loadu_ps(x1 + 2 * j + 16);
    } else {
      int n2 = int(2 * rem);
      __mmask16 m0 = n2 >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << n2) - 1u);
      __mmask16 m1 = n2 > 16 ? __mmask16((1u << (n2 - 16)) - 1u) : __mmask16(0);
      mo = __mmask16((1u << rem) - 1u);
      a0 = _mm512_maskz_loadu_ps(m0, x0 + 2 * j);
      a1 = _mm512_maskz_loadu_ps(m1, x0 + 2 * j + 16);
      b0 = _mm512_maskz_loadu_ps(m0, x1 + 2 * j);
      b1 = _mm512_maskz_loadu_ps(m1, x1 + 2 * j + 16);
    }
    __m512 te = _mm512_permutex2var_ps(a0, ie, a1), to = _mm512_permutex2var_ps(a0, io, a1);
    __m512 be = _mm512_permutex2var_ps(b0, ie, b1), bo = _mm512_permutex2var_ps(b0, io, b1);
    if (!argmax) {
      __m512 r = V::maxnan(V::maxnan(te, to), V::maxnan(be, bo));
      _mm512_mask_storeu_ps(y + j, mo, r);
      continue;
    }
    __m512i i0 = _mm512_add_epi32(_mm512_set1_epi32(base + int32_t(2 * j)), _mm512_slli_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15), 1));
    __m512 m = te;
    __m512i id = i0;
    __mmask16 k = _mm512_cmp_ps_mask(to, m, _CMP_GT_OQ) | _mm512_cmp_ps_mask(to, to, _CMP_UNORD_Q);
    m = _mm512_mask_mov_ps(m, k, to);
    id = _mm512_mask_mov_epi32(id, k, _mm512_add_epi32(i0, one));
    k = _mm512_cmp_ps_mask(be, m, _CMP_GT_OQ) | _mm512_cmp_ps_mask(be, be, _CMP_UNORD_Q);
    m = _mm512_mask_mov_ps(m, k, be);
    id = _mm512_mask_mov_epi32(id, k, _mm512_add_epi32(i0, wv));
    k = _mm512_cmp_ps_mask(bo, m, _CMP_GT_OQ) | _mm512_cmp_ps_mask(bo, bo, _CMP_UNORD_Q);
    m = _mm512_mask_mov_ps(m, k, bo);
    id = _mm512_mask_mov_epi32(id, k, _mm512_add_epi32(i0, _mm512_add_epi32(wv, one)));
    _mm512_mask_storeu_ps(y + j, mo, m);
    _mm512_mask_storeu_epi32(argmax + j, mo, id);
  }
}

// The sum in double (each float converts exactly), four accumulators of eight lanes.
double k_sum_f64(const float* x, int64_t n) {
  __m512d acc0 = _mm512_setzero_pd(), acc1 = _mm512_setzero_pd(), acc2 = _mm512_setzero_pd(),
          acc3 = _mm512_setzero_pd();
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    const __m512 a = _mm512_loadu_ps(x + i), b = _mm512_loadu_ps(x + i + 16);
    acc0 = _mm512_add_pd(acc0, _mm512_cvtps_pd(_mm512_castps512_ps256(a)));
    acc1 = _mm512_add_pd(acc1, _mm512_cvtps_pd(_mm512_extractf32x8_ps(a, 1)));
    acc2 = _mm512_add_pd(acc2, _mm512_cvtps_pd(_mm512_castps512_ps256(b)));
    acc3 = _mm512_add_pd(acc3, _mm512_cvtps_pd(_mm512_extractf32x8_ps(b, 1)));
  }
  for (; i < n; i += 16) {
    const __m512 a = _mm512_maskz_loadu_ps(V::tmask(n - i < 16 ? int(n - i) : 16), x + i);
    acc0 = _mm512_add_pd(acc0, _mm512_cvtps_pd(_mm512_castps512_ps256(a)));
    acc1 = _mm512_add_pd(acc1, _mm512_cvtps_pd(_mm512_extractf32x8_ps(a, 1)));
  }
  return _mm512_reduce_add_pd(_mm512_add_pd(_mm512_add_pd(acc0, acc1), _mm512_add_pd(acc2, acc3)));
}


// acc[i] += x[i] in double (each float converts exactly): sum_axes's column accumulators.
void k_acc_f64(double* acc, const float* x, int64_t n) {
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m512 a = _mm512_loadu_ps(x + i);
    _mm512_storeu_pd(acc + i, _mm512_add_pd(_mm512_loadu_pd(acc + i), _mm512_cvtps_pd(_mm512_castps512_ps256(a))));
    _mm512_storeu_pd(acc + i + 8, _mm512_add_pd(_mm512_loadu_pd(acc + i + 8),
                                                _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(a), 1)))));
  }
  for (; i < n; ++i) acc[i] += double(x[i]);
}

}  // namespace

extern const VecKernels vec_kernels_avx512 = {
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
