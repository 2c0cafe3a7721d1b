// CUDA pooling against the CPU core: max pool values, argmax (exactly, with and without NaN
// inputs) and gradient; average pool with count_include_pad on and off; on batch 1 and large
// batches, odd sizes, kernels 1..7, strides 1..3, asymmetric padding, dilation (including
// windows that hold no input), ceil mode on and off, and global pools. Gradients are checked
// to overwrite dx, and invalid shapes to throw as on the CPU.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "convkit/error.h"
#include "convkit/pool.h"
#include "convkit_cuda/kernels.h"
#include "shape_util.h"
#include "cuda_test_util.h"

using convkit::PoolShape;
using Vec = std::vector<float>;

using test::describe;

namespace {

template <class... Sizes>
PoolShape make(Sizes... sizes) {
  return test::pool_shape(sizes...);
}

// Max pooling picks an input, so values must match exactly (NaN where the CPU has NaN).
void expect_same(const std::string& what, const Vec& got, const Vec& want) {
  bool ok = got.size() == want.size();
  for (size_t i = 0; ok && i < want.size(); ++i)
    ok = std::isnan(want[i]) ? std::isnan(got[i]) : got[i] == want[i];
  CHECK(ok, "%s: values differ", what.c_str());
}

void max_case(const PoolShape& s, std::mt19937& rng, bool with_nan) {
  const std::string what = describe(s) + (with_nan ? " NaN" : "");
  const size_t nx = size_t(s.n * s.c * s.h * s.w), ny = size_t(s.n * s.c * s.oh * s.ow);
  Vec x = test::random_vector(nx, rng), dy = test::random_vector(ny, rng);
  if (with_nan)
    for (size_t i = 0; i < nx; i += 7) x[i] = NAN;
  Vec y(ny), dx(nx);
  std::vector<int32_t> am(ny);
  convkit::max_pool2d_forward(s, x.data(), y.data(), am.data());
  convkit::max_pool2d_backward(s, dy.data(), am.data(), dx.data());

  test::DeviceVector<float> xd(x), dyd(dy), yd(ny), y2d(ny), dxd(Vec(nx, NAN));
  test::DeviceVector<int32_t> amd(std::vector<int32_t>(ny, -7));
  convkit::cuda::max_pool2d_forward(s, xd.get(), yd.get(), amd.get());
  convkit::cuda::max_pool2d_forward(s, xd.get(), y2d.get(), nullptr);
  convkit::cuda::max_pool2d_backward(s, dyd.get(), amd.get(), dxd.get());
  expect_same("max y " + what, yd.to_host(), y);
  expect_same("max y without argmax " + what, y2d.to_host(), y);
  CHECK(amd.to_host() == am, "max argmax %s differs", what.c_str());
  test::expect_close(("max dx " + what).c_str(), dxd.to_host(), dx, 1e-6, 1e-5);
}

void avg_case(const PoolShape& s, std::mt19937& rng) {
  const std::string what = describe(s);
  const size_t nx = size_t(s.n * s.c * s.h * s.w), ny = size_t(s.n * s.c * s.oh * s.ow);
  Vec x = test::random_vector(nx, rng), dy = test::random_vector(ny, rng);
  Vec y(ny), dx(nx);
  convkit::avg_pool2d_forward(s, x.data(), y.data());
  convkit::avg_pool2d_backward(s, dy.data(), dx.data());

  test::DeviceVector<float> xd(x), dyd(dy), yd(Vec(ny, NAN)), dxd(Vec(nx, NAN));
  convkit::cuda::avg_pool2d_forward(s, xd.get(), yd.get());
  convkit::cuda::avg_pool2d_backward(s, dyd.get(), dxd.get());
  test::expect_close(("avg y " + what).c_str(), yd.to_host(), y, 1e-6, 1e-5);
  test::expect_close(("avg dx " + what).c_str(), dxd.to_host(), dx, 1e-6, 1e-5);
}

void max_pools(std::mt19937& rng) {
  struct Case {
    int64_t n, c, h, w, kh, kw, sh, sw, pt, pl, pb, pr, dh, dw;
  };
  const Case cases[] = {
      {1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1},       // a single element
      {2, 3, 8, 8, 2, 2, 2, 2, 0, 0, 0, 0, 1, 1},       // the common 2x2/2
      {1, 3, 7, 9, 2, 2, 2, 2, 0, 0, 0, 0, 1, 1},       // odd sizes: a partial window in ceil mode
      {64, 16, 12, 12, 2, 2, 2, 2, 0, 0, 0, 0, 1, 1},   // large batch
      {2, 3, 6, 5, 2, 2, 1, 1, 0, 0, 0, 0, 1, 1},       // overlapping, stride 1
      {4, 5, 13, 11, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1},     // padded 3x3/2
      {2, 2, 10, 7, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1},      // padded 3x3/1
      {2, 3, 15, 16, 3, 2, 3, 3, 1, 0, 1, 1, 1, 1},     // asymmetric padding, stride 3
      {1, 2, 9, 9, 3, 3, 3, 3, 1, 1, 0, 0, 1, 1},       // padding on top/left only
      {2, 2, 11, 12, 3, 3, 1, 2, 2, 2, 2, 2, 2, 2},     // dilation 2
      {3, 2, 17, 10, 2, 3, 2, 1, 1, 0, 0, 1, 3, 1},     // dilation 3x1, asymmetric padding
      {3, 4, 7, 7, 7, 7, 7, 7, 0, 0, 0, 0, 1, 1},       // global pool
      {1, 8, 5, 6, 5, 6, 1, 1, 0, 0, 0, 0, 1, 1},       // global pool, stride 1
      {1, 2, 1, 3, 2, 2, 1, 1, 1, 1, 1, 1, 2, 2},       // dilation past the input: empty windows
      {2, 3, 3, 6, 2, 3, 1, 2, 2, 1, 2, 1, 4, 1},       // some windows empty, some not
      {1, 3, 28, 28, 3, 3, 1, 1, 2, 2, 2, 2, 1, 1},     // ONNX maxpool_2d_pads: pads beyond half the kernel
      {2, 2, 5, 7, 2, 2, 1, 1, 3, 2, 2, 3, 1, 1},       // pads beyond the kernel: windows wholly in the padding
  };
  for (const Case& k : cases)
    for (bool ceil : {false, true}) {
      PoolShape s = make(k.n, k.c, k.h, k.w, k.kh, k.kw, k.sh, k.sw, k.pt, k.pl, k.pb, k.pr, k.dh, k.dw, ceil);
      max_case(s, rng, false);
      max_case(s, rng, true);
    }
}

void avg_pools(std::mt19937& rng) {
  struct Case {
    int64_t n, c, h, w, kh, kw, sh, sw, pt, pl, pb, pr;
  };
  const Case cases[] = {
      {1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0},     {2, 3, 8, 8, 2, 2, 2, 2, 0, 0, 0, 0},
      {1, 3, 7, 9, 2, 2, 2, 2, 0, 0, 0, 0},     {1, 3, 7, 9, 3, 3, 2, 2, 1, 1, 1, 1},
      {4, 2, 13, 11, 3, 2, 3, 2, 1, 1, 0, 1},   {2, 2, 6, 5, 2, 2, 1, 1, 0, 0, 0, 0},
      {2, 3, 11, 11, 5, 5, 3, 3, 2, 2, 2, 2},   {2, 3, 10, 9, 3, 3, 1, 1, 1, 0, 0, 1},
      {64, 8, 10, 10, 3, 3, 2, 2, 1, 1, 1, 1},  {3, 5, 7, 9, 7, 9, 1, 1, 0, 0, 0, 0},
      {2, 4, 6, 6, 6, 6, 6, 6, 0, 0, 0, 0},
      {1, 3, 28, 28, 3, 3, 1, 1, 2, 2, 2, 2},   // ONNX averagepool_2d_pads: pads beyond half the kernel
      {2, 2, 5, 7, 2, 2, 1, 1, 3, 2, 2, 3},     {2, 2, 6, 9, 2, 3, 2, 2, 3, 4, 3, 4},  // windows wholly in the padding
  };
  for (const Case& k : cases)
    for (bool ceil : {false, true})
      for (bool cip : {false, true})
        avg_case(make(k.n, k.c, k.h, k.w, k.kh, k.kw, k.sh, k.sw, k.pt, k.pl, k.pb, k.pr, 1, 1, ceil, cip), rng);
}

void errors() {
  test::DeviceVector<float> buf(size_t(64));
  test::DeviceVector<int32_t> am(size_t(64));
  PoolShape bad = make(1, 1, 4, 4, 2, 2, 2, 2);
  bad.oh = 3;  // does not match the formula
  try {
    convkit::cuda::max_pool2d_forward(bad, buf.get(), buf.get(), am.get());
    CHECK(false, "a wrong output size was accepted");
  } catch (const convkit::Error& e) {
    CHECK(e.kind == convkit::ErrorKind::range, "wrong output size: kind");
  }
  PoolShape dil = make(1, 1, 6, 6, 2, 2, 1, 1, 0, 0, 0, 0, 2, 2);
  try {
    convkit::cuda::avg_pool2d_forward(dil, buf.get(), buf.get());
    CHECK(false, "average pooling accepted dilation");
  } catch (const convkit::Error& e) {
    CHECK(e.kind == convkit::ErrorKind::range, "avg dilation: kind");
  }
  try {
    convkit::cuda::max_pool2d_backward(make(1, 1, 4, 4, 2, 2, 2, 2), buf.get(), nullptr, buf.get());
    CHECK(false, "max_pool2d_backward accepted a null argmax");
  } catch (const convkit::Error& e) {
    CHECK(e.kind == convkit::ErrorKind::type, "null argmax: kind");
  }
}

}  // namespace

int main() {
  if (!test::cuda_usable("test_cuda_pool")) return test::kSkipped;
  std::mt19937 rng(7);
  max_pools(rng);
  avg_pools(rng);
  errors();
  return test::finish("test_cuda_pool");
}
