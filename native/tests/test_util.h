// Minimal test support for the C++ kernel tests: a seeded generator, tolerant comparison,
// and a loop that runs a test once per ISA this CPU supports (forcing each path in turn).
#pragma once
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "convkit/isa.h"

namespace test {

inline int failures = 0;

#define CHECK(cond, ...)                                                   \
  do {                                                                     \
    if (!(cond)) {                                                         \
      ++test::failures;                                                    \
      std::fprintf(stderr, "%s:%d: CHECK(%s) failed: ", __FILE__, __LINE__, #cond); \
      std::fprintf(stderr, __VA_ARGS__);                                   \
      std::fprintf(stderr, "\n");                                          \
    }                                                                      \
  } while (0)

inline std::vector<float> random_vector(size_t n, std::mt19937& rng, float lo = -1.f, float hi = 1.f) {
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(n);
  for (auto& x : v) x = dist(rng);
  return v;
}

// Largest |got - want| / (atol + rtol*|want|); <= 1 means within tolerance.
inline double max_error_ratio(const float* got, const float* want, size_t n, double atol, double rtol) {
  double worst = 0;
  for (size_t i = 0; i < n; ++i) {
    double e = std::fabs(double(got[i]) - double(want[i])) / (atol + rtol * std::fabs(double(want[i])));
    if (!(e <= worst)) worst = std::isnan(e) ? INFINITY : e;
  }
  return worst;
}

inline bool all_close(const std::vector<float>& got, const std::vector<float>& want, double atol = 1e-4,
                      double rtol = 1e-4) {
  return got.size() == want.size() && max_error_ratio(got.data(), want.data(), got.size(), atol, rtol) <= 1.0;
}

// Counts a failure, with context, unless got is within tolerance of want.
inline void expect_close(const char* what, const std::vector<float>& got, const std::vector<float>& want,
                         double atol = 1e-4, double rtol = 1e-4) {
  double e = got.size() == want.size() ? max_error_ratio(got.data(), want.data(), got.size(), atol, rtol) : INFINITY;
  CHECK(e <= 1.0, "%s: error ratio %.3g (atol %g, rtol %g, %zu elements)", what, e, atol, rtol, want.size());
}

// expect_close where NaN must meet NaN at the same positions.
inline void expect_same(const std::string& what, const std::vector<float>& got, const std::vector<float>& want,
                        double atol = 1e-6, double rtol = 1e-6) {
  CHECK(got.size() == want.size(), "%s: %zu elements, want %zu", what.c_str(), got.size(), want.size());
  if (got.size() != want.size()) return;
  std::vector<float> g = got, w = want;
  for (size_t i = 0; i < g.size(); ++i) {
    if (std::isnan(w[i]) && std::isnan(g[i])) g[i] = w[i] = 0.f;
  }
  expect_close(what.c_str(), g, w, atol, rtol);
}

template <class F>
void for_each_isa(F&& fn) {
  for (convkit::Isa isa : {convkit::Isa::scalar, convkit::Isa::avx2, convkit::Isa::avx512}) {
    if (!convkit::isa_supported(isa)) {
      std::printf("[skip] %s not supported by this CPU\n", convkit::isa_name(isa));
      continue;
    }
    convkit::set_active_isa(isa);
    fn(isa);
  }
  convkit::set_active_isa(convkit::best_supported_isa());
}

// Best of `reps` timed runs after one warm-up, in seconds (for the opt-in CONVKIT_BENCH figures).
template <class F>
double best_seconds(F&& fn, int reps = 5) {
  fn();
  double best = 1e30;
  for (int r = 0; r < reps; ++r) {
    auto t0 = std::chrono::steady_clock::now();
    fn();
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  return best;
}

inline int finish(const char* name) {
  if (failures) {
    std::printf("%s: %d check(s) FAILED\n", name, failures);
    return 1;
  }
  std::printf("%s: all checks passed\n", name);
  return 0;
}

}  // namespace test
