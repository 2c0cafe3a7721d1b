// convkit::cuda::sgemm against the CPU core's convkit::sgemm on the same inputs: every
// transpose pair, sizes off every tile multiple (1x1x1, primes, tall and skinny, k = 1), shapes
// that pick each tile configuration and the split-k path, padded leading dimensions (the
// padding must stay untouched), alpha/beta variants with NaN in C under beta = 0, k = 0 and
// alpha = 0, base pointers one float off 16-byte alignment, and argument errors. The TF32
// path runs the same shapes with a looser tolerance on sm_80+.
#include <cmath>
#include <cstdio>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "convkit/error.h"
#include "convkit/gemm.h"
#include "convkit_cuda/kernels.h"
#include "cuda_test_util.h"

namespace {

struct Case {
  bool trans_a, trans_b;
  int64_t m, n, k;
  float alpha, beta;
  int64_t pad;    // extra elements on every leading dimension
  bool misalign;  // every base pointer one float past a 16-byte boundary
};

std::string describe(const Case& t, bool tf32) {
  char text[200];
  std::snprintf(text, sizeof text, "%s ta=%d tb=%d m=%lld n=%lld k=%lld alpha=%g beta=%g pad=%lld misalign=%d",
                tf32 ? "tf32" : "fp32", t.trans_a, t.trans_b, (long long)t.m, (long long)t.n, (long long)t.k,
                t.alpha, t.beta, (long long)t.pad, t.misalign);
  return text;
}

void run_case(const Case& t, std::mt19937& rng, bool tf32) {
  const int64_t a_rows = t.trans_a ? t.k : t.m, a_cols = t.trans_a ? t.m : t.k;
  const int64_t b_rows = t.trans_b ? t.n : t.k, b_cols = t.trans_b ? t.k : t.n;
  const int64_t lda = std::max<int64_t>(1, a_cols + t.pad), ldb = std::max<int64_t>(1, b_cols + t.pad);
  const int64_t ldc = t.n + t.pad;
  const int64_t off = t.misalign ? 1 : 0;
  auto a = test::random_vector(size_t(off + std::max<int64_t>(1, a_rows * lda)), rng);
  auto b = test::random_vector(size_t(off + std::max<int64_t>(1, b_rows * ldb)), rng);
  auto c = test::random_vector(size_t(off + std::max<int64_t>(1, t.m * ldc)), rng);
  if (t.beta == 0.f) {
    // beta = 0 must overwrite C: NaN already there may not leak into the result.
    for (int64_t i = 0; i < t.m; ++i)
      for (int64_t j = 0; j < t.n; ++j) c[size_t(off + i * ldc + j)] = std::numeric_limits<float>::quiet_NaN();
  }
  std::vector<float> want = c;
  convkit::sgemm(t.trans_a, t.trans_b, t.m, t.n, t.k, t.alpha, a.data() + off, lda, b.data() + off, ldb, t.beta,
                 want.data() + off, ldc);
  test::DeviceVector<float> da(a), db(b), dc(c);
  convkit::cuda::sgemm(t.trans_a, t.trans_b, t.m, t.n, t.k, t.alpha, da.get() + off, lda, db.get() + off, ldb,
                       t.beta, dc.get() + off, ldc);
  // Errors of both sums grow with sqrt(k); TF32 rounds each input to 10 mantissa bits.
  const double scale = (1 + std::sqrt(double(t.k))) * (1 + std::fabs(t.alpha));
  const double atol = tf32 ? 2e-3 * scale : 1e-5 * scale, rtol = tf32 ? 1e-2 : 1e-4;
  test::expect_close(describe(t, tf32).c_str(), dc.to_host(), want, atol, rtol);
}

void test_shapes(std::mt19937& rng, bool tf32) {
  const float alphas[] = {1.f, 0.5f, -2.f}, betas[] = {0.f, 1.f, 0.3f};
  // Small and awkward sizes on every transpose pair (the 64x64 tiles).
  const int64_t small[][3] = {{1, 1, 1}, {37, 53, 29}, {2, 3, 5}, {64, 64, 64}, {65, 63, 17}, {100, 100, 1},
                              {7, 1000, 33}, {1000, 7, 33}, {1, 257, 300}, {300, 1, 9}};
  // Tiles of 128x128 (m > 64 with enough tiles), 64x128 (m <= 64, many columns), split k
  // (few tiles, long k) with and without beta, and the conv-shaped products.
  const int64_t large[][3] = {{128, 128, 128}, {257, 129, 65},   {1531, 1543, 67}, {60, 17000, 33},
                              {3, 5, 4000},    {64, 576, 20000}, {64, 3136, 576},  {576, 3136, 64},
                              {6, 3136, 25},   {150, 1600, 16}};
  int variant = 0;
  for (bool ta : {false, true})
    for (bool tb : {false, true}) {
      for (auto& s : small) {
        ++variant;
        run_case({ta, tb, s[0], s[1], s[2], alphas[variant % 3], betas[variant / 3 % 3], variant % 2 ? 3 : 0,
                  variant % 5 == 0},
                 rng, tf32);
      }
      for (auto& s : large) {
        ++variant;
        run_case({ta, tb, s[0], s[1], s[2], alphas[variant % 3], betas[variant / 3 % 3], variant % 2 ? 5 : 0,
                  variant % 4 == 0},
                 rng, tf32);
      }
    }
  // Every alpha/beta on one odd shape, padded, aligned and misaligned.
  for (float alpha : alphas)
    for (float beta : betas)
      for (bool misalign : {false, true}) run_case({true, false, 45, 77, 39, alpha, beta, 3, misalign}, rng, tf32);
  // Split k with beta = 0 over NaN, and misaligned operands on the large tiles.
  run_case({false, true, 64, 576, 20000, 1.f, 0.f, 0, false}, rng, tf32);
  run_case({false, false, 1531, 1543, 67, 1.f, 0.f, 1, true}, rng, tf32);
  // k = 0 leaves C = beta * C (beta = 0 clears NaN); alpha = 0 does not read A or B.
  for (float beta : betas) run_case({false, false, 9, 11, 0, 1.f, beta, 2, false}, rng, tf32);
  run_case({false, true, 20, 40, 30, 0.f, 0.3f, 1, false}, rng, tf32);
  run_case({false, false, 0, 5, 3, 1.f, 0.f, 0, false}, rng, tf32);
}

void test_bad_arguments() {
  test::DeviceVector<float> buf(size_t(4));
  float* x = buf.get();
  auto throws_range = [](auto&& call) {
    try {
      call();
    } catch (const convkit::Error& e) {
      return e.kind == convkit::ErrorKind::range;
    }
    return false;
  };
  CHECK(throws_range([&] { convkit::cuda::sgemm(false, false, 2, 2, 2, 1.f, x, 1, x, 2, 0.f, x, 2); }),
        "lda < k must throw a range error");
  CHECK(throws_range([&] { convkit::cuda::sgemm(false, false, -1, 2, 2, 1.f, x, 2, x, 2, 0.f, x, 2); }),
        "negative m must throw a range error");
}

}  // namespace

int main() {
  if (!test::cuda_usable("test_cuda_gemm")) return test::kSkipped;
  std::mt19937 rng(42);
  CHECK(!convkit::cuda::tf32_enabled(), "TF32 must be off by default");
  test_shapes(rng, false);
  test_bad_arguments();
  if (convkit::cuda::probe().cc_major >= 8) {
    convkit::cuda::set_tf32(true);
    CHECK(convkit::cuda::tf32_enabled(), "set_tf32(true) must enable TF32");
    test_shapes(rng, true);
    convkit::cuda::set_tf32(false);
  } else {
    std::printf("test_cuda_gemm: TF32 path skipped below sm_80\n");
  }
  convkit::cuda::synchronize();
  return test::finish("test_cuda_gemm");
}
