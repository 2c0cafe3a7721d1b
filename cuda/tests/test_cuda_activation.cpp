// CUDA activations and softmax against the CPU core: relu, leaky_relu, sigmoid, tanh forward
// and backward on sizes around the float4 width, from aligned and unaligned pointers, with
// 0, -0, +-inf, NaN and large inputs (NaN must stay NaN where the CPU has NaN); softmax and
// log_softmax forward and backward over [outer, dim, inner] shapes covering warp rows, block
// rows and strided columns, with logits up to 1e4.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "convkit/activation.h"
#include "convkit_cuda/kernels.h"
#include "cuda_test_util.h"

using Vec = std::vector<float>;

namespace {

// Like expect_close, but a NaN or infinite CPU value must be matched in kind, and tolerances
// of 0 ask for equal values.
void expect_match(const std::string& what, const Vec& got, const Vec& want, double atol, double rtol) {
  size_t bad = want.size();
  double worst = 0;
  for (size_t i = 0; i < want.size() && got.size() == want.size(); ++i) {
    bool ok = got[i] == want[i];
    if (std::isnan(want[i])) {
      ok = std::isnan(got[i]);
    } else if (!ok && std::isfinite(want[i])) {
      double e = std::fabs(double(got[i]) - double(want[i])) / (atol + rtol * std::fabs(double(want[i])));
      ok = e <= 1.0;  // false for a NaN got
      if (!(e <= worst)) worst = e;
    }
    if (!ok && bad == want.size()) bad = i;
  }
  CHECK(got.size() == want.size() && bad == want.size(), "%s: first mismatch at %zu: %g vs %g (worst ratio %.3g)",
        what.c_str(), bad, bad < got.size() ? double(got[bad]) : 0.0, bad < want.size() ? double(want[bad]) : 0.0,
        worst);
}

Vec inputs(size_t n, std::mt19937& rng) {
  Vec x = test::random_vector(n, rng, -6.f, 6.f);
  const float special[] = {0.f, -0.f, INFINITY, -INFINITY, NAN, 100.f, -100.f, 1e-30f, -1e-30f};
  for (size_t i = 0; i < n; i += 5) x[i] = special[(i / 5) % (sizeof special / sizeof special[0])];
  return x;
}

using Unary = void (*)(const float*, float*, int64_t);
using Binary = void (*)(const float*, const float*, float*, int64_t);

// Runs the CPU and CUDA versions on x[off, off + n) (off = 1 makes every pointer unaligned).
void unary(const char* name, Unary cpu, Unary gpu, size_t n, size_t off, std::mt19937& rng, double tol) {
  Vec x = inputs(n + off, rng), want(n);
  cpu(x.data() + off, want.data(), int64_t(n));
  test::DeviceVector<float> xd(x), yd(Vec(n + off, NAN));
  gpu(xd.get() + off, yd.get() + off, int64_t(n));
  Vec got = yd.to_host();
  got.erase(got.begin(), got.begin() + long(off));
  expect_match(std::string(name) + " n=" + std::to_string(n) + " off=" + std::to_string(off), got, want, tol, tol);
}

void binary(const char* name, Binary cpu, Binary gpu, size_t n, size_t off, bool from_output, std::mt19937& rng,
            double tol) {
  Vec a = inputs(n + off, rng), g = test::random_vector(n + off, rng, -2.f, 2.f), want(n);
  if (from_output)  // sigmoid/tanh backward take the output, in [-1, 1]
    for (float& v : a) v = std::isfinite(v) ? std::tanh(v) : v;
  cpu(a.data() + off, g.data() + off, want.data(), int64_t(n));
  test::DeviceVector<float> ad(a), gd(g), dd(Vec(n + off, NAN));
  gpu(ad.get() + off, gd.get() + off, dd.get() + off, int64_t(n));
  Vec got = dd.to_host();
  got.erase(got.begin(), got.begin() + long(off));
  expect_match(std::string(name) + " n=" + std::to_string(n) + " off=" + std::to_string(off), got, want, tol, tol);
}

void leaky_fwd_cpu(const float* x, float* y, int64_t n) { convkit::leaky_relu_forward(x, y, n, 0.01f); }
void leaky_fwd_gpu(const float* x, float* y, int64_t n) { convkit::cuda::leaky_relu_forward(x, y, n, 0.01f); }
void leaky_bwd_cpu(const float* x, const float* g, float* d, int64_t n) {
  convkit::leaky_relu_backward(x, g, d, n, 0.2f);
}
void leaky_bwd_gpu(const float* x, const float* g, float* d, int64_t n) {
  convkit::cuda::leaky_relu_backward(x, g, d, n, 0.2f);
}

void elementwise(std::mt19937& rng) {
  for (size_t n : {size_t(0), size_t(1), size_t(3), size_t(4), size_t(7), size_t(1000), size_t(1001), size_t(65537)})
    for (size_t off : {size_t(0), size_t(1)}) {
      unary("relu", convkit::relu_forward, convkit::cuda::relu_forward, n, off, rng, 0);
      unary("leaky_relu", leaky_fwd_cpu, leaky_fwd_gpu, n, off, rng, 0);
      unary("sigmoid", convkit::sigmoid_forward, convkit::cuda::sigmoid_forward, n, off, rng, 2e-6);
      unary("tanh", convkit::tanh_forward, convkit::cuda::tanh_forward, n, off, rng, 2e-6);
      binary("relu_backward", convkit::relu_backward, convkit::cuda::relu_backward, n, off, false, rng, 0);
      binary("leaky_relu_backward", leaky_bwd_cpu, leaky_bwd_gpu, n, off, false, rng, 0);
      binary("sigmoid_backward", convkit::sigmoid_backward, convkit::cuda::sigmoid_backward, n, off, true, rng, 1e-6);
      binary("tanh_backward", convkit::tanh_backward, convkit::cuda::tanh_backward, n, off, true, rng, 1e-6);
    }
}

template <bool kLog>
void softmax_case(int64_t outer, int64_t dim, int64_t inner, float scale, std::mt19937& rng) {
  const size_t n = size_t(outer * dim * inner);
  char what[128];
  std::snprintf(what, sizeof what, "%s [%lld, %lld, %lld] scale %g", kLog ? "log_softmax" : "softmax",
                (long long)outer, (long long)dim, (long long)inner, scale);
  Vec x = test::random_vector(n, rng, -scale, scale), dy = test::random_vector(n, rng), y(n), dx(n);
  auto fwd = kLog ? convkit::log_softmax_forward : convkit::softmax_forward;
  auto bwd = kLog ? convkit::log_softmax_backward : convkit::softmax_backward;
  fwd(x.data(), y.data(), outer, dim, inner);
  bwd(y.data(), dy.data(), dx.data(), outer, dim, inner);

  auto gfwd = kLog ? convkit::cuda::log_softmax_forward : convkit::cuda::softmax_forward;
  auto gbwd = kLog ? convkit::cuda::log_softmax_backward : convkit::cuda::softmax_backward;
  test::DeviceVector<float> xd(x), yd(Vec(n, NAN)), cpu_yd(y), dyd(dy), dxd(Vec(n, NAN));
  gfwd(xd.get(), yd.get(), outer, dim, inner);
  gbwd(cpu_yd.get(), dyd.get(), dxd.get(), outer, dim, inner);  // from the CPU output: same inputs
  expect_match(std::string(what) + " forward", yd.to_host(), y, 1e-6, 2e-5);
  expect_match(std::string(what) + " backward", dxd.to_host(), dx, 1e-5, 1e-4);
}

void softmax(std::mt19937& rng) {
  const int64_t shapes[][3] = {{7, 13, 1},  {3, 5, 9},   {1, 1000, 1}, {2, 1, 4},    {1, 1, 1},   {0, 5, 1},
                               {64, 10, 1}, {5, 2000, 1}, {3, 1025, 1}, {9000, 3, 1}, {2, 7, 300}, {2, 1500, 3},
                               {4, 3, 5}};
  for (auto& s : shapes)
    for (float scale : {1.f, 50.f, 1e4f}) {
      softmax_case<false>(s[0], s[1], s[2], scale, rng);
      softmax_case<true>(s[0], s[1], s[2], scale, rng);
    }
  // A NaN anywhere in a row makes the whole row NaN; other rows are untouched.
  Vec x = {1.f, NAN, 2.f, 0.5f, -1.f, 3.f};
  for (int64_t inner : {int64_t(1), int64_t(2)}) {
    Vec want(6);
    convkit::softmax_forward(x.data(), want.data(), 6 / (3 * inner), 3, inner);
    test::DeviceVector<float> xd(x), yd(size_t(6));
    convkit::cuda::softmax_forward(xd.get(), yd.get(), 6 / (3 * inner), 3, inner);
    expect_match("softmax NaN row, inner " + std::to_string(inner), yd.to_host(), want, 1e-6, 2e-5);
  }
}

}  // namespace

int main() {
  if (!test::cuda_usable("test_cuda_activation")) return test::kSkipped;
  std::mt19937 rng(3);
  elementwise(rng);
  softmax(rng);
  return test::finish("test_cuda_activation");
}
