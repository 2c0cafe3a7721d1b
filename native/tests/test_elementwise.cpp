// axpy, scale, broadcast2d and reduce2d against naive loops (the meaning of the js backend's
// loops in lib/backend/host.ts): every ISA forced, 1 and 2 threads, lengths around the vector
// widths and one past a million, all four broadcast patterns, NaN/inf, guards after the
// output, thread-count independence of the sums, and the argument errors.
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "convkit/elementwise.h"
#include "convkit/error.h"
#include "convkit/threads.h"
#include "test_util.h"

namespace {

using Vec = std::vector<float>;
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr float kGuard = 12345.f;  // written after every output; must survive
constexpr int kGuards = 19;

const int64_t kLengths[] = {0, 1, 15, 16, 17, 1000003};

// Random values with a few specials at fixed places.
Vec values(int64_t n, std::mt19937& rng, bool specials) {
  Vec x = test::random_vector(size_t(n), rng, -2.f, 2.f);
  if (specials && n > 3) {
    x[1] = kNaN;
    x[n / 2] = kInf;
    x[n - 1] = -kInf;
  }
  return x;
}

Vec with_guard(int64_t n, float fill) {
  Vec v(size_t(n) + kGuards, fill);
  for (int g = 0; g < kGuards; ++g) v[size_t(n) + g] = kGuard;
  return v;
}

bool guard_intact(const Vec& v, int64_t n) {
  for (int g = 0; g < kGuards; ++g)
    if (v[size_t(n) + g] != kGuard) return false;
  return true;
}

// Index of the first element where got is not within tol[i] of want (NaN must meet NaN,
// infinities must match), or -1.
int64_t first_mismatch(const float* got, const std::vector<double>& want, const std::vector<double>& tol) {
  for (size_t i = 0; i < want.size(); ++i) {
    const double g = got[i], w = want[i];
    const bool ok = std::isnan(w) ? std::isnan(g) : std::isinf(w) ? g == w : std::fabs(g - w) <= tol[i];
    if (!ok) return int64_t(i);
  }
  return -1;
}

std::string where(const char* what, convkit::Isa isa, int threads) {
  return std::string(what) + " [" + convkit::isa_name(isa) + ", " + std::to_string(threads) + " thread(s)]";
}

void test_axpy_scale(std::mt19937& rng) {
  for (int64_t n : kLengths)
    for (float alpha : {1.f, -0.75f, 0.f}) {
      const Vec x = values(n, rng, true), y0 = values(n, rng, false);
      // y + alpha*x in double: the FMA result and the two-rounding one both lie within an ulp.
      const size_t count = static_cast<size_t>(n);
      std::vector<double> want_axpy(count), tol_axpy(count), want_scale(count), tol_scale(count, 0);
      for (int64_t i = 0; i < n; ++i) {
        const double p = double(alpha) * x[i];
        want_axpy[i] = double(y0[i]) + p;
        tol_axpy[i] = 0x1p-23 * (std::fabs(double(y0[i])) + std::fabs(p));
        want_scale[i] = float(x[i] * alpha);  // one rounding either way: exact match
      }
      test::for_each_isa([&](convkit::Isa isa) {
        for (int threads : {1, 2}) {
          convkit::set_num_threads(threads);
          Vec y = with_guard(n, 0.f);
          std::copy(y0.begin(), y0.end(), y.begin());
          convkit::axpy(n, alpha, x.data(), y.data());
          int64_t bad = first_mismatch(y.data(), want_axpy, tol_axpy);
          CHECK(bad < 0 && guard_intact(y, n), "%s n=%lld alpha=%g: first bad %lld",
                where("axpy", isa, threads).c_str(), (long long)n, alpha, (long long)bad);
          Vec s = with_guard(n, 0.f);
          std::copy(x.begin(), x.end(), s.begin());
          convkit::scale(n, alpha, s.data());
          bad = first_mismatch(s.data(), want_scale, tol_scale);
          CHECK(bad < 0 && guard_intact(s, n), "%s n=%lld alpha=%g: first bad %lld",
                where("scale", isa, threads).c_str(), (long long)n, alpha, (long long)bad);
        }
      });
    }
}

struct Shape {
  int64_t m, n;
};
const Shape kShapes[] = {{0, 0},  {0, 7},  {7, 0},    {1, 1},       {1, 15},   {16, 1},       {17, 16},
                         {15, 17}, {1, 1000003}, {1000003, 1}, {3, 333337}, {1001, 999}, {37, 4099}, {2, 1024},
                         {64, 120}, {5, 63}, {3, 127}};  // tails of 8 vectors (AVX-512: 113..127, AVX2: 57..63)

// The four ways [rows, cols] broadcasts to [m, n].
std::vector<Shape> patterns(const Shape& s) { return {{1, 1}, {1, s.n}, {s.m, 1}, {s.m, s.n}}; }

void test_broadcast(std::mt19937& rng) {
  for (const Shape& s : kShapes)
    for (const Shape& p : patterns(s)) {
      const Vec c = values(p.m * p.n, rng, true);
      std::vector<double> want(static_cast<size_t>(s.m * s.n)), tol(want.size(), 0);
      for (int64_t i = 0; i < s.m; ++i)
        for (int64_t j = 0; j < s.n; ++j) want[i * s.n + j] = c[(p.m == 1 ? 0 : i) * p.n + (p.n == 1 ? 0 : j)];
      test::for_each_isa([&](convkit::Isa isa) {
        for (int threads : {1, 2}) {
          convkit::set_num_threads(threads);
          Vec y = with_guard(s.m * s.n, kNaN);
          convkit::broadcast2d(c.data(), p.m, p.n, s.m, s.n, y.data());
          const int64_t bad = first_mismatch(y.data(), want, tol);
          CHECK(bad < 0 && guard_intact(y, s.m * s.n), "%s [%lld, %lld] -> [%lld, %lld]: first bad %lld",
                where("broadcast2d", isa, threads).c_str(), (long long)p.m, (long long)p.n, (long long)s.m,
                (long long)s.n, (long long)bad);
        }
      });
    }
}

// beta * sums in double, and a tolerance: float accumulation over `terms` values for column
// sums, one rounding of the double sum (and of the product with beta) otherwise.
void reference_reduce(const Vec& dy, const Shape& s, const Shape& p, float beta, std::vector<double>& want,
                      std::vector<double>& tol) {
  const int64_t out = p.m * p.n;
  std::vector<double> sum(static_cast<size_t>(out), 0), abs_sum(static_cast<size_t>(out), 0);
  for (int64_t i = 0; i < s.m; ++i)
    for (int64_t j = 0; j < s.n; ++j) {
      const int64_t o = (p.m == 1 ? 0 : i) * p.n + (p.n == 1 ? 0 : j);
      sum[o] += dy[i * s.n + j];
      abs_sum[o] += std::fabs(double(dy[i * s.n + j]));
    }
  const bool float_sums = p.m == 1 && p.n == s.n && s.m > 1 && s.n > 1;
  const double terms = double(p.m == s.m ? 1 : s.m) * double(p.n == s.n ? 1 : s.n);
  want.assign(size_t(out), 0);
  tol.assign(size_t(out), 0);
  for (int64_t o = 0; o < out; ++o) {
    want[o] = double(beta) * sum[o];
    const double accumulation = float_sums ? (terms + 2) * 0x1p-24 * abs_sum[o] : terms * 0x1p-50 * abs_sum[o];
    tol[o] = std::fabs(double(beta)) * accumulation + 0x1p-23 * std::fabs(want[o]);
  }
}

void test_reduce(std::mt19937& rng) {
  for (const Shape& s : kShapes)
    for (const Shape& p : patterns(s))
      for (float beta : {1.f, 0.5f, -2.f, 0.f}) {
        const Vec dy = values(s.m * s.n, rng, beta == 0.f);  // beta 0: 0 * inf is NaN, as in js
        std::vector<double> want, tol;
        reference_reduce(dy, s, p, beta, want, tol);
        Vec first;  // the result of the first run, which every other run must repeat bit for bit
        test::for_each_isa([&](convkit::Isa isa) {
          for (int threads : {1, 2}) {
            convkit::set_num_threads(threads);
            Vec dc = with_guard(p.m * p.n, kNaN);
            convkit::reduce2d(dy.data(), p.m, p.n, s.m, s.n, beta, dc.data());
            const int64_t bad = first_mismatch(dc.data(), want, tol);
            CHECK(bad < 0 && guard_intact(dc, p.m * p.n), "%s [%lld, %lld] -> [%lld, %lld] beta %g: first bad %lld",
                  where("reduce2d", isa, threads).c_str(), (long long)s.m, (long long)s.n, (long long)p.m,
                  (long long)p.n, beta, (long long)bad);
            if (threads == 1) {
              first = dc;
            } else {
              CHECK(std::memcmp(first.data(), dc.data(), first.size() * sizeof(float)) == 0,
                    "%s [%lld, %lld] -> [%lld, %lld]: 1 and 2 threads differ", where("reduce2d", isa, threads).c_str(),
                    (long long)s.m, (long long)s.n, (long long)p.m, (long long)p.n);
            }
          }
        });
      }
}

// A long total sum stays exact in double where a float accumulator would drift by ~1e-3.
void test_long_sum() {
  const int64_t n = 1000003;
  const Vec dy(size_t(n), 1.1f);
  const float want = float(double(1.1f) * double(n));
  test::for_each_isa([&](convkit::Isa isa) {
    for (int threads : {1, 2}) {
      convkit::set_num_threads(threads);
      float dc = kNaN;
      convkit::reduce2d(dy.data(), 1, 1, 1, n, 1.f, &dc);
      CHECK(dc == want, "%s: long total sum %.9g, want %.9g", where("reduce2d", isa, threads).c_str(), dc, want);
      convkit::reduce2d(dy.data(), 1, 1, n, 1, 1.f, &dc);
      CHECK(dc == want, "%s: long column total %.9g, want %.9g", where("reduce2d", isa, threads).c_str(), dc, want);
    }
  });
}

template <class F>
void expect_error(const char* what, convkit::ErrorKind kind, F&& fn) {
  bool threw = false;
  try {
    fn();
  } catch (const convkit::Error& e) {
    threw = e.kind == kind;
  }
  CHECK(threw, "%s must throw a %s error", what, kind == convkit::ErrorKind::range ? "range" : "type");
}

void test_bad_arguments() {
  float x[8] = {}, y[8] = {};
  using convkit::ErrorKind;
  expect_error("axpy n < 0", ErrorKind::range, [&] { convkit::axpy(-1, 1.f, x, y); });
  expect_error("axpy null x", ErrorKind::type, [&] { convkit::axpy(3, 1.f, nullptr, y); });
  expect_error("axpy null y", ErrorKind::type, [&] { convkit::axpy(3, 1.f, x, nullptr); });
  expect_error("scale n < 0", ErrorKind::range, [&] { convkit::scale(-5, 2.f, x); });
  expect_error("scale null x", ErrorKind::type, [&] { convkit::scale(3, 2.f, nullptr); });
  expect_error("broadcast2d rows 2 to m 4", ErrorKind::range, [&] { convkit::broadcast2d(x, 2, 1, 4, 2, y); });
  expect_error("broadcast2d cols 3 to n 2", ErrorKind::range, [&] { convkit::broadcast2d(x, 1, 3, 4, 2, y); });
  expect_error("broadcast2d m < 0", ErrorKind::range, [&] { convkit::broadcast2d(x, 1, 1, -1, 2, y); });
  expect_error("broadcast2d rows 0", ErrorKind::range, [&] { convkit::broadcast2d(x, 0, 2, 4, 2, y); });
  expect_error("broadcast2d null c", ErrorKind::type, [&] { convkit::broadcast2d(nullptr, 1, 2, 4, 2, y); });
  expect_error("reduce2d rows 3 from m 2", ErrorKind::range, [&] { convkit::reduce2d(x, 3, 1, 2, 4, 1.f, y); });
  expect_error("reduce2d cols 2 from n 4", ErrorKind::range, [&] { convkit::reduce2d(x, 1, 2, 2, 4, 1.f, y); });
  expect_error("reduce2d n < 0", ErrorKind::range, [&] { convkit::reduce2d(x, 1, 1, 2, -4, 1.f, y); });
  expect_error("reduce2d null dy", ErrorKind::type, [&] { convkit::reduce2d(nullptr, 1, 4, 2, 4, 1.f, y); });
  expect_error("reduce2d null dc", ErrorKind::type, [&] { convkit::reduce2d(x, 1, 4, 2, 4, 1.f, nullptr); });
  // Empty arrays need no pointers.
  convkit::axpy(0, 1.f, nullptr, nullptr);
  convkit::scale(0, 1.f, nullptr);
  convkit::broadcast2d(nullptr, 1, 1, 0, 5, nullptr);
  convkit::reduce2d(nullptr, 0, 3, 0, 3, 1.f, nullptr);
}

}  // namespace

int main() {
  std::mt19937 rng(11);
  test_axpy_scale(rng);
  test_broadcast(rng);
  test_reduce(rng);
  test_long_sum();
  test_bad_arguments();
  return test::finish("test_elementwise");
}
