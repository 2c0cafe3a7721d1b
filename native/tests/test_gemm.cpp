// sgemm against a naive double-accumulating loop: every ISA, all four transposes, shapes
// that are not multiples of the register tile or the cache blocks, padded leading
// dimensions, alpha/beta variants, NaN in C with beta = 0, k = 0, and 1 and 2 threads; and
// the unpacked small-m path on the shapes of a Linear layer at small batch.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "convkit/error.h"
#include "convkit/gemm.h"
#include "convkit/threads.h"
#include "test_util.h"

namespace {

struct Case {
  bool trans_a, trans_b;
  int64_t m, n, k;
  float alpha, beta;
  int64_t pad;  // extra elements on every leading dimension
};

std::string describe(const Case& t) {
  char text[160];
  std::snprintf(text, sizeof text, "ta=%d tb=%d m=%lld n=%lld k=%lld alpha=%g beta=%g pad=%lld", t.trans_a,
                t.trans_b, (long long)t.m, (long long)t.n, (long long)t.k, t.alpha, t.beta, (long long)t.pad);
  return text;
}

void reference_gemm(const Case& t, const float* a, int64_t lda, const float* b, int64_t ldb, float* c,
                    int64_t ldc) {
  for (int64_t i = 0; i < t.m; ++i)
    for (int64_t j = 0; j < t.n; ++j) {
      double acc = 0;
      for (int64_t p = 0; p < t.k; ++p) {
        double av = t.trans_a ? a[p * lda + i] : a[i * lda + p];
        double bv = t.trans_b ? b[j * ldb + p] : b[p * ldb + j];
        acc += av * bv;
      }
      float& out = c[i * ldc + j];
      out = float(t.alpha * acc + (t.beta == 0.f ? 0.0 : double(t.beta) * out));
    }
}

// Runs one case and checks C, including that the padding between rows is left untouched.
void run_case(const Case& t, std::mt19937& rng, const char* label) {
  const int64_t a_rows = t.trans_a ? t.k : t.m, a_cols = t.trans_a ? t.m : t.k;
  const int64_t b_rows = t.trans_b ? t.n : t.k, b_cols = t.trans_b ? t.k : t.n;
  const int64_t lda = a_cols + t.pad, ldb = b_cols + t.pad, ldc = t.n + t.pad;
  std::vector<float> a = test::random_vector(size_t(std::max<int64_t>(1, a_rows * lda)), rng);
  std::vector<float> b = test::random_vector(size_t(std::max<int64_t>(1, b_rows * ldb)), rng);
  std::vector<float> c = test::random_vector(size_t(std::max<int64_t>(1, t.m * ldc)), rng);
  if (t.beta == 0.f) {
    // beta = 0 must overwrite C: NaN already there may not leak into the result.
    for (int64_t i = 0; i < t.m; ++i)
      for (int64_t j = 0; j < t.n; ++j) c[i * ldc + j] = std::numeric_limits<float>::quiet_NaN();
  }
  std::vector<float> want = c;
  reference_gemm(t, a.data(), lda, b.data(), ldb, want.data(), ldc);
  std::vector<float> got = c;
  convkit::sgemm(t.trans_a, t.trans_b, t.m, t.n, t.k, t.alpha, a.data(), lda, b.data(), ldb, t.beta, got.data(),
                 ldc);
  // float accumulation over k terms of size <= 1: allow error growing with sqrt(k).
  const double tol = 2e-6 * (4 + std::sqrt(double(t.k))) * (std::fabs(t.alpha) + 1);
  double err = test::max_error_ratio(got.data(), want.data(), got.size(), tol, tol);
  CHECK(err <= 1.0, "[%s] %s: error ratio %g", label, describe(t).c_str(), err);
}

void test_shapes(std::mt19937& rng, const char* label) {
  const int64_t sizes[] = {1, 2, 3, 5, 7, 13, 14, 15, 16, 17, 31, 32, 33, 47, 64, 97};
  // Every transpose pair on a grid of small and awkward sizes.
  for (bool ta : {false, true})
    for (bool tb : {false, true})
      for (int64_t m : sizes)
        for (int64_t n : sizes) {
          const int64_t k = sizes[(m * 7 + n * 3) % 16];
          run_case({ta, tb, m, n, k, 1.f, 0.f, 0}, rng, label);
        }
  // Sizes beyond the cache blocks (KC = 256, MC = 280 on AVX-512), primes, and padded lds.
  const int64_t big[][3] = {{300, 290, 270}, {257, 263, 509}, {281, 33, 300}, {29, 301, 257}, {131, 127, 139},
                            {6, 3136, 25}, {64, 250, 576}, {576, 196, 16}, {1, 300, 300}, {300, 1, 300}};
  const float alphas[] = {1.f, 0.5f, -2.f}, betas[] = {0.f, 1.f, 0.3f};
  int variant = 0;
  for (auto& s : big)
    for (bool ta : {false, true})
      for (bool tb : {false, true}) {
        ++variant;
        run_case({ta, tb, s[0], s[1], s[2], alphas[variant % 3], betas[(variant / 3) % 3], variant % 2 ? 5 : 0}, rng,
                 label);
      }
  // More rows than one packed A block (MC = 3080 on AVX-512), tall and wide.
  run_case({false, false, 3100, 40, 20, 1.f, 0.3f, 1}, rng, label);
  run_case({true, true, 3090, 3100, 2, -2.f, 0.f, 0}, rng, label);
  // Every alpha/beta on one odd shape, with padding.
  for (float alpha : alphas)
    for (float beta : betas) run_case({true, false, 45, 77, 39, alpha, beta, 3}, rng, label);
  // k = 0 leaves C = beta * C (and beta = 0 clears NaN).
  for (float beta : betas) run_case({false, false, 9, 11, 0, 1.f, beta, 2}, rng, label);
  // alpha = 0: no product, still beta * C.
  run_case({false, true, 20, 40, 30, 0.f, 0.3f, 1}, rng, label);
}

// The small-m path (A not transposed, a few rows): both layouts of B on odd sizes, every
// alpha/beta pair in turn, leading dimensions above n and k, and products large enough to
// be split across threads.
void test_small_m(std::mt19937& rng, const char* label) {
  const float alphas[] = {1.f, 0.5f, -2.f}, betas[] = {0.f, 1.f, 0.3f};
  int variant = 0;
  for (bool tb : {true, false})
    for (int64_t m = 1; m <= 5; ++m)
      for (int64_t n : {1, 3, 17, 120, 129})
        for (int64_t k : {1, 7, 31, 400, 1001}) {
          ++variant;
          run_case({false, tb, m, n, k, alphas[variant % 3], betas[(variant / 3) % 3], variant % 2 ? 3 : 0}, rng,
                   label);
        }
  // Taller A, in several row groups (and one row past the cut-off, on the packed path).
  for (bool tb : {true, false})
    for (int64_t m : {6, 7, 8, 13, 16, 17})
      for (int64_t n : {3, 129})
        for (int64_t k : {31, 1001}) {
          ++variant;
          run_case({false, tb, m, n, k, alphas[variant % 3], betas[(variant / 3) % 3], variant % 2 ? 2 : 0}, rng,
                   label);
        }
  for (bool tb : {true, false}) {
    for (float alpha : alphas)
      for (float beta : betas) run_case({false, tb, 3, 37, 45, alpha, beta, 1}, rng, label);
    run_case({false, tb, 1, 3000, 1001, 1.f, 0.f, 0}, rng, label);
    run_case({false, tb, 4, 1111, 509, -2.f, 0.3f, 5}, rng, label);
  }
}

void test_bad_arguments() {
  float x[4] = {};
  bool threw = false;
  try {
    convkit::sgemm(false, false, 2, 2, 2, 1.f, x, 1, x, 2, 0.f, x, 2);  // lda < k
  } catch (const convkit::Error& e) {
    threw = e.kind == convkit::ErrorKind::range;
  }
  CHECK(threw, "lda < k must throw a range error");
  threw = false;
  try {
    convkit::sgemm(false, false, -1, 2, 2, 1.f, x, 2, x, 2, 0.f, x, 2);
  } catch (const convkit::Error& e) {
    threw = e.kind == convkit::ErrorKind::range;
  }
  CHECK(threw, "negative m must throw a range error");
}

// Two callers at once: the second runs inline, and each must get its own pack buffers.
void test_concurrent_callers() {
  std::vector<std::thread> callers;
  for (int id = 0; id < 2; ++id)
    callers.emplace_back([id] {
      std::mt19937 rng(100 + id);
      for (int rep = 0; rep < 3; ++rep) run_case({id == 1, false, 200, 180, 220, 1.f, 0.f, 0}, rng, "concurrent");
    });
  for (auto& t : callers) t.join();
}

}  // namespace

int main() {
  std::mt19937 rng(42);
  test::for_each_isa([&](convkit::Isa isa) {
    for (int threads : {1, 2}) {
      convkit::set_num_threads(threads);
      std::string label = std::string(convkit::isa_name(isa)) + ", " + std::to_string(threads) + " thread(s)";
      test_shapes(rng, label.c_str());
      test_small_m(rng, label.c_str());
    }
  });
  test_bad_arguments();
  convkit::set_num_threads(2);
  test_concurrent_callers();
  return test::finish("test_gemm");
}
