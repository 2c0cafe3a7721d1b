// binary, sum_axes and clamp against naive loops over the uncoalesced index space: every ISA
// forced, 1 and 2 threads (sums must be bitwise equal), the inner patterns the kernels
// specialise (same shape, scalar either side, rows, per-channel), odd sizes, shapes large
// enough for the threaded and pieced paths, NaN and infinities, guards after every output, a
// long sum's accuracy, and the argument errors.
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "convkit/arith.h"
#include "convkit/error.h"
#include "convkit/threads.h"
#include "test_util.h"

namespace {

using Vec = std::vector<float>;
using Shape = std::vector<int64_t>;
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr float kGuard = 12345.f;
constexpr int kGuards = 19;

int64_t numel(const Shape& s) {
  int64_t n = 1;
  for (int64_t d : s) n *= d;
  return n;
}

std::string str(const Shape& s) {
  std::string out = "[";
  for (size_t i = 0; i < s.size(); ++i) out += (i ? "," : "") + std::to_string(s[i]);
  return out + "]";
}

Vec with_guard(int64_t n) {
  Vec v(size_t(n) + kGuards, kNaN);
  for (int g = 0; g < kGuards; ++g) v[size_t(n) + g] = kGuard;
  return v;
}

bool guard_intact(const Vec& v, int64_t n) {
  for (int g = 0; g < kGuards; ++g)
    if (v[size_t(n) + g] != kGuard) return false;
  return true;
}

// Row-major strides of `shape` right-aligned in `rank` dims, 0 where it has size 1 or no dim
// (the uncoalesced form; the kernels must accept it as well as the coalesced one).
Shape strides_for(const Shape& shape, size_t rank) {
  Shape s(rank, 0);
  int64_t stride = 1;
  for (size_t i = shape.size(); i-- > 0;) {
    s[rank - shape.size() + i] = shape[i] == 1 ? 0 : stride;
    stride *= shape[i];
  }
  return s;
}

float apply(int op, float a, float b) {
  switch (op) {
    case 0: return a + b;
    case 1: return a - b;
    case 2: return a * b;
    default: return a / b;
  }
}

// The output of a op b over out, by index arithmetic per element.
Vec naive_binary(int op, const Shape& out, const Shape& sa, const Shape& sb, const Vec& a, const Vec& b) {
  Vec y(size_t(numel(out)));
  for (int64_t i = 0; i < numel(out); ++i) {
    int64_t rest = i, ia = 0, ib = 0;
    for (size_t d = out.size(); d-- > 0;) {
      const int64_t idx = rest % out[d];
      rest /= out[d];
      ia += idx * sa[d];
      ib += idx * sb[d];
    }
    y[size_t(i)] = apply(op, a[size_t(ia)], b[size_t(ib)]);
  }
  return y;
}

convkit::BroadcastShape geometry(const Shape& out, const Shape& sa, const Shape& sb) {
  convkit::BroadcastShape g;
  g.rank = int32_t(out.size());
  for (size_t d = 0; d < out.size(); ++d) {
    g.shape[d] = out[d];
    g.a_stride[d] = sa[d];
    g.b_stride[d] = sb[d];
  }
  return g;
}

struct BinaryCase {
  Shape out, a, b;
};

void test_binary(std::mt19937& rng) {
  const std::vector<BinaryCase> cases = {
      {{17}, {17}, {17}},                        // same shape
      {{1000003}, {1000003}, {1000003}},         // threaded, pieces of one row
      {{33}, {33}, {1}},                         // scalar b
      {{70001}, {1}, {70001}},                   // scalar a, threaded
      {{5, 7}, {5, 7}, {1, 7}},                  // rows
      {{2, 3, 4, 5}, {2, 3, 4, 5}, {1, 3, 1, 1}},  // per-channel bias, uncoalesced
      {{2, 3, 20}, {2, 3, 20}, {1, 3, 1}},       // per-channel bias, coalesced [N, C, HW]
      {{64, 3, 1024}, {64, 3, 1024}, {1, 3, 1}},   // the same, threaded
      {{40000, 3}, {40000, 3}, {1, 3}},           // many short rows
      {{6, 1, 7}, {6, 1, 1}, {1, 1, 7}},          // both broadcast (outer product)
      {{0, 5}, {0, 5}, {1, 5}},                  // empty
      {{1}, {1}, {1}},
  };
  for (const auto& c : cases) {
    const Shape sa = strides_for(c.a, c.out.size()), sb = strides_for(c.b, c.out.size());
    Vec a = test::random_vector(size_t(numel(c.a)), rng, -2.f, 2.f);
    Vec b = test::random_vector(size_t(numel(c.b)), rng, 0.5f, 2.f);
    if (a.size() > 3) a[1] = kNaN, a[2] = kInf, a[3] = -kInf;
    if (b.size() > 3) b[2] = 0.f, b[3] = -kInf;
    const int64_t n = numel(c.out);
    const convkit::BroadcastShape g = geometry(c.out, sa, sb);
    CHECK(convkit::broadcast_size(g) == n, "broadcast_size %s", str(c.out).c_str());
    CHECK(convkit::broadcast_extent(g, g.a_stride) == (n ? numel(c.a) : 0), "extent of a %s", str(c.a).c_str());
    for (int op = 0; op < 4; ++op) {
      const Vec want = naive_binary(op, c.out, sa, sb, a, b);
      test::for_each_isa([&](convkit::Isa isa) {
        for (int threads : {1, 2}) {
          convkit::set_num_threads(threads);
          Vec y = with_guard(n);
          convkit::binary(convkit::BinaryOp(op), g, a.data(), b.data(), y.data());
          const std::string what = "binary op " + std::to_string(op) + " " + str(c.out) + " <- " + str(c.a) + ", " +
                                   str(c.b) + " " + convkit::isa_name(isa) + " threads " + std::to_string(threads);
          // One rounding per element on every path: the bits must match (NaN meets NaN).
          bool same = true;
          for (int64_t i = 0; i < n && same; ++i)
            same = (std::isnan(y[size_t(i)]) && std::isnan(want[size_t(i)])) ||
                   std::memcmp(&y[size_t(i)], &want[size_t(i)], sizeof(float)) == 0;
          CHECK(same, "%s: differs from the naive loop", what.c_str());
          CHECK(guard_intact(y, n), "%s: wrote past the output", what.c_str());
        }
      });
    }
  }
}

// beta * the sums of x over the reduced dims, in double, by index arithmetic.
std::vector<double> naive_sum(const Shape& shape, const std::vector<bool>& reduced, const Vec& x, float beta) {
  Shape out_stride(shape.size(), 0);
  int64_t out = 1;
  for (size_t d = shape.size(); d-- > 0;)
    if (!reduced[d]) out_stride[d] = out, out *= shape[d];
  std::vector<double> acc(size_t(out), 0.0);
  for (int64_t i = 0; i < numel(shape); ++i) {
    int64_t rest = i, o = 0;
    for (size_t d = shape.size(); d-- > 0;) {
      o += (rest % shape[d]) * out_stride[d];
      rest /= shape[d];
    }
    acc[size_t(o)] += double(x[size_t(i)]);
  }
  for (double& v : acc) v = double(float(v) * beta);
  return acc;
}

struct ReduceCase {
  Shape shape;
  std::vector<bool> reduced;
};

void test_sum_axes(std::mt19937& rng) {
  const std::vector<ReduceCase> cases = {
      {{7}, {true}},                                   // a short total
      {{1000003}, {true}},                             // a long total: pieces
      {{13, 17}, {true, false}},                       // column sums
      {{13, 17}, {false, true}},                       // row sums
      {{2001, 40}, {true, false}},                     // few columns, many rows: row blocks
      {{129, 1000}, {true, false}},                    // wide rows: column chunks
      {{3, 50001}, {false, true}},                     // long rows: pieces per output
      {{2, 3, 4, 5}, {true, false, true, true}},       // per-channel, uncoalesced
      {{64, 3, 1024}, {true, false, true}},            // per-channel, threaded
      {{8, 3001, 5}, {true, false, true}},             // many outputs, short runs
      {{5, 6, 7}, {false, true, false}},               // middle dim
      {{2, 5, 3, 7, 2}, {true, false, true, false, true}},
      {{4, 6}, {false, false}},                        // nothing summed: a scaled copy
      {{0, 3}, {true, false}},                         // sums over nothing
      {{3, 0}, {false, true}},
  };
  for (const auto& c : cases) {
    convkit::ReduceShape g;
    g.rank = int32_t(c.shape.size());
    for (size_t d = 0; d < c.shape.size(); ++d) g.shape[d] = c.shape[d], g.reduced[d] = c.reduced[d];
    Vec x = test::random_vector(size_t(numel(c.shape)), rng, -1.f, 1.f);
    const int64_t out = convkit::reduce_output_size(g);
    CHECK(convkit::reduce_input_size(g) == numel(c.shape), "reduce_input_size %s", str(c.shape).c_str());
    for (float beta : {1.f, -0.25f}) {
      const std::vector<double> want = naive_sum(c.shape, c.reduced, x, beta);
      CHECK(int64_t(want.size()) == out, "reduce_output_size %s", str(c.shape).c_str());
      std::vector<double> tol(want.size());
      for (size_t i = 0; i < tol.size(); ++i) tol[i] = 1e-6 * (1 + std::fabs(want[i]));
      Vec first;
      test::for_each_isa([&](convkit::Isa isa) {
        for (int threads : {1, 2}) {
          convkit::set_num_threads(threads);
          Vec y = with_guard(out);
          convkit::sum_axes(g, x.data(), beta, y.data());
          const std::string what = "sum_axes " + str(c.shape) + " beta " + std::to_string(beta) + " " +
                                   convkit::isa_name(isa) + " threads " + std::to_string(threads);
          bool ok = true;
          for (int64_t i = 0; i < out && ok; ++i) ok = std::fabs(y[size_t(i)] - want[size_t(i)]) <= tol[size_t(i)];
          CHECK(ok, "%s: differs from the double sum", what.c_str());
          CHECK(guard_intact(y, out), "%s: wrote past the output", what.c_str());
          y.resize(size_t(out));
          if (threads == 1) first = y;
          else CHECK(std::memcmp(y.data(), first.data(), size_t(out) * sizeof(float)) == 0, "%s: depends on the thread count", what.c_str());
        }
      });
    }
  }
  // The mean of nothing: 0 * inf is NaN.
  convkit::ReduceShape g;
  g.rank = 2;
  g.shape[0] = 0, g.shape[1] = 3, g.reduced[0] = true;
  Vec y(3, 1.f);
  convkit::sum_axes(g, nullptr, kInf, y.data());
  CHECK(std::isnan(y[0]) && std::isnan(y[2]), "the mean over nothing must be NaN, got %g", double(y[0]));
}

// 2^24 + 2^22 ones and a 1e-3 offset: a float accumulator stops at 2^24, a double one does not.
void test_long_sum() {
  const int64_t n = (int64_t(1) << 24) + (int64_t(1) << 22);
  Vec x(size_t(n), 1.f);
  convkit::ReduceShape g;
  g.rank = 1;
  g.shape[0] = n;
  g.reduced[0] = true;
  float y = 0;
  convkit::sum_axes(g, x.data(), 1.f, &y);
  CHECK(y == float(n), "a long sum of ones: got %.1f, want %lld", double(y), static_cast<long long>(n));
}

void test_clamp(std::mt19937& rng) {
  for (int64_t n : {0, 1, 15, 16, 17, 100003}) {
    Vec x = test::random_vector(size_t(n), rng, -3.f, 3.f);
    Vec dy = test::random_vector(size_t(n), rng, -1.f, 1.f);
    if (n > 4) x[1] = kNaN, x[2] = kInf, x[3] = -kInf, x[4] = 0.5f;  // 0.5: on the bound
    for (auto [lo, hi] : {std::pair<float, float>{-0.5f, 0.5f}, {0.f, kInf}, {-kInf, 1.f}, {0.25f, 0.25f}}) {
      test::for_each_isa([&](convkit::Isa isa) {
        for (int threads : {1, 2}) {
          convkit::set_num_threads(threads);
          Vec y = with_guard(n), dx = with_guard(n);
          convkit::clamp(n, x.data(), lo, hi, y.data());
          convkit::clamp_backward(n, x.data(), dy.data(), lo, hi, dx.data());
          bool ok = true, grad_ok = true;
          for (int64_t i = 0; i < n; ++i) {
            const float v = x[size_t(i)];
            const float want = std::isnan(v) ? v : std::fmin(std::fmax(v, lo), hi);
            ok = ok && (std::isnan(want) ? std::isnan(y[size_t(i)]) : y[size_t(i)] == want);
            const float g = v >= lo && v <= hi ? dy[size_t(i)] : 0.f;
            grad_ok = grad_ok && dx[size_t(i)] == g;
          }
          CHECK(ok, "clamp n %lld [%g, %g] %s threads %d", static_cast<long long>(n), double(lo), double(hi),
                convkit::isa_name(isa), threads);
          CHECK(grad_ok, "clamp_backward n %lld [%g, %g] %s", static_cast<long long>(n), double(lo), double(hi),
                convkit::isa_name(isa));
          CHECK(guard_intact(y, n) && guard_intact(dx, n), "clamp wrote past its output");
        }
      });
    }
  }
}

template <class F>
void expect_error(const char* what, convkit::ErrorKind kind, F&& fn) {
  try {
    fn();
    CHECK(false, "%s: no error", what);
  } catch (const convkit::Error& e) {
    CHECK(e.kind == kind, "%s: wrong error kind (%s)", what, e.what());
  }
}

void test_bad_arguments() {
  using convkit::ErrorKind;
  float a[4] = {}, b[4] = {}, y[4] = {};
  convkit::BroadcastShape g;
  g.rank = 1;
  g.shape[0] = 4;
  g.a_stride[0] = g.b_stride[0] = 1;
  expect_error("binary op 4", ErrorKind::range, [&] { convkit::binary(convkit::BinaryOp(4), g, a, b, y); });
  expect_error("binary null a", ErrorKind::type, [&] { convkit::binary(convkit::BinaryOp::add, g, nullptr, b, y); });
  expect_error("binary null y", ErrorKind::type, [&] { convkit::binary(convkit::BinaryOp::add, g, a, b, nullptr); });
  convkit::BroadcastShape bad = g;
  bad.rank = 0;
  expect_error("binary rank 0", ErrorKind::range, [&] { convkit::binary(convkit::BinaryOp::add, bad, a, b, y); });
  bad.rank = convkit::kMaxArithDims + 1;
  expect_error("binary rank 17", ErrorKind::range, [&] { convkit::binary(convkit::BinaryOp::add, bad, a, b, y); });
  bad = g;
  bad.a_stride[0] = -1;
  expect_error("binary negative stride", ErrorKind::range, [&] { convkit::binary(convkit::BinaryOp::add, bad, a, b, y); });
  bad = g;
  bad.rank = 3;
  bad.shape[0] = bad.shape[1] = bad.shape[2] = int64_t(1) << 31;
  expect_error("binary overflowing shape", ErrorKind::range, [&] { convkit::broadcast_size(bad); });
  convkit::ReduceShape r;
  r.rank = 1;
  r.shape[0] = 4;
  r.reduced[0] = true;
  expect_error("sum_axes null x", ErrorKind::type, [&] { convkit::sum_axes(r, nullptr, 1.f, y); });
  expect_error("sum_axes null y", ErrorKind::type, [&] { convkit::sum_axes(r, a, 1.f, nullptr); });
  r.shape[0] = -2;
  expect_error("sum_axes negative dim", ErrorKind::range, [&] { convkit::sum_axes(r, a, 1.f, y); });
  expect_error("clamp lo > hi", ErrorKind::range, [&] { convkit::clamp(4, a, 1.f, 0.f, y); });
  expect_error("clamp NaN bound", ErrorKind::range, [&] { convkit::clamp(4, a, kNaN, 0.f, y); });
  expect_error("clamp n < 0", ErrorKind::range, [&] { convkit::clamp(-1, a, 0.f, 1.f, y); });
  expect_error("clamp_backward null dy", ErrorKind::type, [&] { convkit::clamp_backward(4, a, nullptr, 0.f, 1.f, y); });
}

}  // namespace

int main() {
  std::mt19937 rng(13);
  test_binary(rng);
  test_sum_axes(rng);
  test_long_sum();
  test_clamp(rng);
  test_bad_arguments();
  return test::finish("test_arith");
}
