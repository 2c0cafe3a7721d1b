// AVX2 + FMA vector kernels. No STL: everything but the exported table is in an anonymous
// namespace.
#include <immintrin.h>

#include <cstddef>
#include <cstdint>

#include "vec_kernels.h"

namespace convkit {
namespace {

struct V {
  using T = __m256;
  static constexpr int W = 8;
  static __m256i tmask(int n) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  }
  static T load(const float* p) { return _mm256_loadu_ps(p); }
  static void store(float* p, T v) { _mm256_storeu_ps(p, v); }
  static T load_tail(const float* p, int n, float fill) {
    __m256i m = tmask(n);
    return _mm256_blendv_ps(_mm256_set1_ps(fill), _mm256_maskload_ps(p, m), _mm256_castsi256_ps(m));
  }
  static void store_tail(float* p, T v, int n) { _mm256_maskstore_ps(p, tmask(n), v); }
  static T set1(float a) { return _mm256_set1_ps(a); }
  static T add(T a, T b) { return _mm256_add_ps(a, b); }
  static T sub(T a, T b) { return _mm256_sub_ps(a, b); }
  static T mul(T a, T b) { return _mm256_mul_ps(a, b); }
  static T div(T a, T b) { return _mm256_div_ps(a, b); }
  static T sqrt(T x) { return _mm256_sqrt_ps(x); }
  static T fma(T a, T b, T c) { return _mm256_fmadd_ps(a, b, c); }
  static T maxnan(T a, T b) {
    return _mm256_blendv_ps(_mm256_max_ps(a, b), a, _mm256_cmp_ps(a, a, _CMP_UNORD_Q));
  }
  static T clamp(T x, float lo, float hi) { return _mm256_max_ps(set1(lo), _mm256_min_ps(set1(hi), x)); }
  static T gt0(T x, T a, T b) { return _mm256_blendv_ps(b, a, _mm256_cmp_ps(x, _mm256_setzero_ps(), _CMP_GT_OQ)); }
  static T le0(T x, T a, T b) { return _mm256_blendv_ps(b, a, _mm256_cmp_ps(x, _mm256_setzero_ps(), _CMP_LE_OQ)); }
  static T signbit() { return _mm256_castsi256_ps(_mm256_set1_epi32(int32_t(0x80000000u))); }
  static T abs(T x) { return _mm256_andnot_ps(signbit(), x); }
  static T copysign(T mag, T sgn) {
    return _mm256_or_ps(_mm256_andnot_ps(signbit(), mag), _mm256_and_ps(signbit(), sgn));
  }
  static T abs_lt(T x, float c, T a, T b) { return _mm256_blendv_ps(b, a, _mm256_cmp_ps(abs(x), set1(c), _CMP_LT_OQ)); }
  static T in_range(T x, float lo, float hi, T a, T b) {
    const __m256 in = _mm256_and_ps(_mm256_cmp_ps(x, set1(lo), _CMP_GE_OQ), _mm256_cmp_ps(x, set1(hi), _CMP_LE_OQ));
    return _mm256_blendv_ps(b, a, in);
  }
  static T round(T x) { return _mm256_round_ps(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
  // p * 2^n in two halves (each 2^k stays a normal number for n in [-150, 128]).
  static T scale_pow2(T p, T n) {
    __m256i ni = _mm256_cvtps_epi32(n);
    __m256i n1 = _mm256_srai_epi32(ni, 1);
    __m256i n2 = _mm256_sub_epi32(ni, n1);
    const __m256i bias = _mm256_set1_epi32(127);
    T s1 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n1, bias), 23));
    T s2 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n2, bias), 23));
    return _mm256_mul_ps(_mm256_mul_ps(p, s1), s2);
  }
  static float hsum(T v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
  }
  static float hmax(T v) {
    float t[8];
    _mm256_storeu_ps(t, v);
    float m = t[0];
    for (int i = 1; i < 8; ++i) {
      if (t[i] != t[i]) return t[i];
      if (t[i] > m) m = t[i];
    }
    return m;
  }
};

#define CONVKIT_VEC_KERNELS_IMPL
#include "vec_kernels.h"

// [a0 a1 ... a7], [b0 ... b7] -> evens [a0 a2 a4 a6 b0 b2 b4 b6], odds likewise.
inline void deinterleave(__m256 a, __m256 b, __m256* even, __m256* odd) {
  __m256 e = _mm256_shuffle_ps(a, b, _MM_SHUFFLE(2, 0, 2, 0));
  __m256 o = _mm256_shuffle_ps(a, b, _MM_SHUFFLE(3, 1, 3, 1));
  *even = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(e), _MM_SHUFFLE(3, 1, 2, 0)));
  *odd = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(o), _MM_SHUFFLE(3, 1, 2, 0)));
}

inline __m256 take_mask(__m256 v, __m256 m) {  // v > m || isnan(v)
  return _mm256_or_ps(_mm256_cmp_ps(v, m, _CMP_GT_OQ), _mm256_cmp_ps(v, v, _CMP_UNORD_Q));
}

void k_maxpool2x2_row(const float* x0, const float* x1, float* y, int32_t* argmax, int64_t count, int32_t base,
                      int32_t w) {
  int64_t j = 0;
  const __m256i lane2 = _mm256_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14);
  const __m256i one = _mm256_set1_epi32(1), wv = _mm256_set1_epi32(w);
  for (; j + 8 <= count; j += 8) {
    __m256 te, to, be, bo;
    deinterleave(_mm256_loadu_ps(x0 + 2 * j), _mm256_loadu_ps(x0 + 2 * j + 8), &te, &to);
    deinterleave(_mm256_loadu_ps(x1 + 2 * j), _mm256_loadu_ps(x1 + 2 * j + 8), &be, &bo);
    if (!argmax) {
      _mm256_storeu_ps(y + j, V::maxnan(V::maxnan(te, to), V::maxnan(be, bo)));
      continue;
    }
    __m256i i0 = _mm256_add_epi32(_mm256_set1_epi32(base + int32_t(2 * j)), lane2);
    __m256 m = te;
    __m256i id = i0;
    __m256 k = take_mask(to, m);
    m = _mm256_blendv_ps(m, to, k);
    id = _mm256_castps_si256(_mm256_blendv_ps(_mm256_castsi256_ps(id), _mm256_castsi256_ps(_mm256_add_epi32(i0, one)), k));
    k = take_mask(be, m);
    m = _mm256_blendv_ps(m, be, k);
    id = _mm256_castps_si256(_mm256_blendv_ps(_mm256_castsi256_ps(id), _mm256_castsi256_ps(_mm256_add_epi32(i0, wv)), k));
    k = take_mask(bo, m);
    m = _mm256_blendv_ps(m, bo, k);
    id = _mm256_castps_si256(_mm256_blendv_ps(_mm256_castsi256_ps(id),
                                              _mm256_castsi256_ps(_mm256_add_epi32(i0, _mm256_add_epi32(wv, one))), k));
    _mm256_storeu_ps(y + j, m);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(argmax + j), id);
  }
  if (j < count)
    maxpool2x2_row_scalar(x0 + 2 * j, x1 + 2 * j, y + j, argmax ? argmax + j : nullptr, count - j,
                          base + int32_t(2 * j), w);
}

// The sum in double (each float converts exactly), four accumulators of four lanes.
double k_sum_f64(const float* x, int64_t n) {
  __m256d acc0 = _mm256_setzero_pd(), acc1 = _mm256_setzero_pd(), acc2 = _mm256_setzero_pd(),
          acc3 = _mm256_setzero_pd();
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m256 a = _mm256_loadu_ps(x + i), b = _mm256_loadu_ps(x + i + 8);
    acc0 = _mm256_add_pd(acc0, _mm256_cvtps_pd(_mm256_castps256_ps128(a)));
    acc1 = _mm256_add_pd(acc1, _mm256_cvtps_pd(_mm256_extractf128_ps(a, 1)));
    acc2 = _mm256_add_pd(acc2, _mm256_cvtps_pd(_mm256_castps256_ps128(b)));
    acc3 = _mm256_add_pd(acc3, _mm256_cvtps_pd(_mm256_extractf128_ps(b, 1)));
  }
  for (; i < n; i += 8) {
    const __m256 a = V::load_tail(x + i, n - i < 8 ? int(n - i) : 8, 0.f);
    acc0 = _mm256_add_pd(acc0, _mm256_cvtps_pd(_mm256_castps256_ps128(a)));
    acc1 = _mm256_add_pd(acc1, _mm256_cvtps_pd(_mm256_extractf128_ps(a, 1)));
  }
  const __m256d s = _mm256_add_pd(_mm256_add_pd(acc0, acc1), _mm256_add_pd(acc2, acc3));
  const __m128d h = _mm_add_pd(_mm256_castpd256_pd128(s), _mm256_extractf128_pd(s, 1));
  return _mm_cvtsd_f64(_mm_add_sd(h, _mm_unpackhi_pd(h, h)));
}


// acc[i] += x[i] in double (each float converts exactly): sum_axes's column accumulators.
void k_acc_f64(double* acc, const float* x, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 a = _mm256_loadu_ps(x + i);
    _mm256_storeu_pd(acc + i, _mm256_add_pd(_mm256_loadu_pd(acc + i), _mm256_cvtps_pd(_mm256_castps256_ps128(a))));
    _mm256_storeu_pd(acc + i + 4, _mm256_add_pd(_mm256_loadu_pd(acc + i + 4), _mm256_cvtps_pd(_mm256_extractf128_ps(a, 1))));
  }
  for (; i < n; ++i) acc[i] += double(x[i]);
}

}  // namespace

extern const VecKernels vec_kernels_avx2 = {
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
