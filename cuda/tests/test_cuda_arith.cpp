// CUDA binary, sum_axes and clamp against the CPU core (convkit/arith.h) on the same inputs:
// every op on same shapes, scalars either side, rows, per-channel bias and outer products,
// sums over every axis pattern (short, warp-sized and pieced), empty ones, NaN and
// infinities, and the argument errors.
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "convkit/arith.h"
#include "convkit/error.h"
#include "convkit_cuda/kernels.h"
#include "cuda_test_util.h"

using test::DeviceVector;

namespace {

using Shape = std::vector<int64_t>;

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

// Row-major strides of shape right-aligned in rank dims, 0 where it has size 1 or no dim.
Shape strides_for(const Shape& shape, size_t rank) {
  Shape s(rank, 0);
  int64_t stride = 1;
  for (size_t i = shape.size(); i-- > 0;) {
    s[rank - shape.size() + i] = shape[i] == 1 ? 0 : stride;
    stride *= shape[i];
  }
  return s;
}

// Equal element by element, infinities included, NaN meeting NaN: the kernels round once per
// element as the CPU core does.
void expect_equal(const std::string& what, const std::vector<float>& got, const std::vector<float>& want) {
  CHECK(got.size() == want.size(), "%s: %zu elements, want %zu", what.c_str(), got.size(), want.size());
  for (size_t i = 0; i < got.size() && i < want.size(); ++i) {
    if (!(got[i] == want[i] || (std::isnan(got[i]) && std::isnan(want[i])))) {
      CHECK(false, "%s: element %zu is %g, want %g", what.c_str(), i, double(got[i]), double(want[i]));
      return;
    }
  }
}

struct BinaryCase {
  Shape out, a, b;
};

void binary_cases(std::mt19937& rng) {
  const std::vector<BinaryCase> cases = {
      {{17}, {17}, {17}},         {{1000003}, {1000003}, {1000003}}, {{33}, {33}, {1}},   {{70001}, {1}, {70001}},
      {{5, 7}, {5, 7}, {1, 7}},   {{2, 3, 20}, {2, 3, 20}, {1, 3, 1}}, {{64, 3, 1024}, {64, 3, 1024}, {1, 3, 1}},
      {{6, 1, 7}, {6, 1, 1}, {1, 1, 7}}, {{0, 5}, {0, 5}, {1, 5}},
  };
  for (const auto& c : cases) {
    const Shape sa = strides_for(c.a, c.out.size()), sb = strides_for(c.b, c.out.size());
    convkit::BroadcastShape g;
    g.rank = int32_t(c.out.size());
    for (size_t d = 0; d < c.out.size(); ++d) g.shape[d] = c.out[d], g.a_stride[d] = sa[d], g.b_stride[d] = sb[d];
    auto a = test::random_vector(size_t(numel(c.a)), rng, -2.f, 2.f);
    auto b = test::random_vector(size_t(numel(c.b)), rng, 0.5f, 2.f);
    if (a.size() > 3) a[1] = NAN, a[2] = INFINITY, a[3] = -INFINITY;
    if (b.size() > 3) b[2] = 0.f;
    DeviceVector<float> da(a), db(b), dy(size_t(numel(c.out)));
    for (int op = 0; op < 4; ++op) {
      std::vector<float> want(size_t(numel(c.out)));
      convkit::binary(convkit::BinaryOp(op), g, a.data(), b.data(), want.data());
      convkit::cuda::binary(convkit::BinaryOp(op), g, da.get(), db.get(), dy.get());
      expect_equal("binary op " + std::to_string(op) + " " + str(c.out), dy.to_host(), want);
    }
  }
}

struct ReduceCase {
  Shape shape;
  std::vector<bool> reduced;
};

void sum_cases(std::mt19937& rng) {
  const std::vector<ReduceCase> cases = {
      {{7}, {true}},           {{1000003}, {true}},           {{13, 17}, {true, false}},     {{13, 17}, {false, true}},
      {{2001, 40}, {true, false}}, {{3, 50001}, {false, true}},   {{64, 3, 1024}, {true, false, true}},
      {{8, 3001, 5}, {true, false, true}}, {{2, 5, 3, 7, 2}, {true, false, true, false, true}}, {{4, 6}, {false, false}},
      {{0, 3}, {true, false}},
  };
  for (const auto& c : cases) {
    convkit::ReduceShape g;
    g.rank = int32_t(c.shape.size());
    for (size_t d = 0; d < c.shape.size(); ++d) g.shape[d] = c.shape[d], g.reduced[d] = c.reduced[d];
    auto x = test::random_vector(size_t(numel(c.shape)), rng);
    const int64_t out = convkit::reduce_output_size(g);
    for (float beta : {1.f, -0.25f, INFINITY}) {
      std::vector<float> want(static_cast<size_t>(out));
      convkit::sum_axes(g, x.data(), beta, want.data());
      DeviceVector<float> dx(x), dy(static_cast<size_t>(out));
      convkit::cuda::sum_axes(g, dx.get(), beta, dy.get());
      // Both sum in double; only the order differs, which an infinite beta hides.
      const std::string what = "sum_axes " + str(c.shape) + " beta " + std::to_string(beta);
      if (std::isinf(beta)) expect_equal(what, dy.to_host(), want);
      else test::expect_same(what, dy.to_host(), want, 1e-6, 1e-6);
    }
  }
}

void clamp_cases(std::mt19937& rng) {
  for (int64_t n : {0, 1, 17, 100003}) {
    auto x = test::random_vector(size_t(n), rng, -3.f, 3.f), dy = test::random_vector(size_t(n), rng);
    if (n > 3) x[1] = NAN, x[2] = INFINITY, x[3] = 0.5f;
    std::vector<float> want(static_cast<size_t>(n)), want_dx(static_cast<size_t>(n));
    convkit::clamp(n, x.data(), -0.5f, 0.5f, want.data());
    convkit::clamp_backward(n, x.data(), dy.data(), -0.5f, 0.5f, want_dx.data());
    DeviceVector<float> dxv(x), ddy(dy), dout(static_cast<size_t>(n)), ddx(static_cast<size_t>(n));
    convkit::cuda::clamp(n, dxv.get(), -0.5f, 0.5f, dout.get());
    convkit::cuda::clamp_backward(n, dxv.get(), ddy.get(), -0.5f, 0.5f, ddx.get());
    expect_equal("clamp n=" + std::to_string(n), dout.to_host(), want);
    expect_equal("clamp_backward n=" + std::to_string(n), ddx.to_host(), want_dx);
  }
}

void errors() {
  convkit::BroadcastShape g;
  g.rank = 0;
  bool threw = false;
  try {
    convkit::cuda::binary(convkit::BinaryOp::add, g, nullptr, nullptr, nullptr);
  } catch (const convkit::Error& e) {
    threw = e.kind == convkit::ErrorKind::range;
  }
  CHECK(threw, "binary with rank 0 must throw a range error");
  threw = false;
  try {
    convkit::cuda::clamp(4, nullptr, 1.f, 0.f, nullptr);
  } catch (const convkit::Error& e) {
    threw = e.kind == convkit::ErrorKind::range;
  }
  CHECK(threw, "clamp with lo > hi must throw a range error");
}

}  // namespace

int main() {
  if (!test::cuda_usable("test_cuda_arith")) return test::kSkipped;
  std::mt19937 rng(21);
  binary_cases(rng);
  sum_cases(rng);
  clamp_cases(rng);
  errors();
  return test::finish("test_cuda_arith");
}
