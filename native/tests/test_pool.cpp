// Max / average pooling forward and backward against direct loops (PyTorch rules: ceil mode
// dropping windows that start in the right/bottom padding, count_include_pad, dilation,
// NaN handling, first-max argmax), every ISA forced, 1 and 2 threads. validate() messages.
// CONVKIT_BENCH=1 also times the 2x2/2 max pool on 64x32x112x112.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <string>
#include <vector>

#include "convkit/error.h"
#include "convkit/pool.h"
#include "convkit/threads.h"
#include "shape_util.h"
#include "test_util.h"

using convkit::PoolShape;

using test::describe;

namespace {

template <class... Sizes>
PoolShape make(Sizes... sizes) {
  return test::pool_shape(sizes...);
}

// Reference max pool: scan in (ky, kx) order, take v if v > max or v is NaN (PyTorch).
void ref_max(const PoolShape& s, const std::vector<float>& x, std::vector<float>& y, std::vector<int32_t>& am) {
  for (int64_t p = 0; p < s.n * s.c; ++p)
    for (int64_t oy = 0; oy < s.oh; ++oy)
      for (int64_t ox = 0; ox < s.ow; ++ox) {
        double m = -INFINITY;
        int64_t idx = -1;
        for (int64_t ky = 0; ky < s.kh; ++ky)
          for (int64_t kx = 0; kx < s.kw; ++kx) {
            int64_t iy = oy * s.stride_h - s.pad_top + ky * s.dilation_h;
            int64_t ix = ox * s.stride_w - s.pad_left + kx * s.dilation_w;
            if (iy < 0 || iy >= s.h || ix < 0 || ix >= s.w) continue;
            float v = x[size_t(p * s.h * s.w + iy * s.w + ix)];
            if (idx < 0 || v > m || std::isnan(v)) {
              m = v;
              idx = iy * s.w + ix;
            }
          }
        y[size_t((p * s.oh + oy) * s.ow + ox)] = float(m);
        am[size_t((p * s.oh + oy) * s.ow + ox)] = int32_t(idx);
      }
}

void ref_avg(const PoolShape& s, const std::vector<float>& x, const std::vector<float>& dy, std::vector<float>& y,
             std::vector<float>& dx) {
  std::vector<double> dxd(dx.size(), 0.0);
  for (int64_t p = 0; p < s.n * s.c; ++p)
    for (int64_t oy = 0; oy < s.oh; ++oy)
      for (int64_t ox = 0; ox < s.ow; ++ox) {
        int64_t hs = oy * s.stride_h - s.pad_top, ws = ox * s.stride_w - s.pad_left;
        int64_t he = std::min(hs + s.kh, s.h + s.pad_bottom), we = std::min(ws + s.kw, s.w + s.pad_right);
        int64_t pool = (he - hs) * (we - ws);
        hs = std::max<int64_t>(hs, 0);
        ws = std::max<int64_t>(ws, 0);
        he = std::min(he, s.h);
        we = std::min(we, s.w);
        int64_t div = s.count_include_pad ? pool : std::max<int64_t>(0, he - hs) * std::max<int64_t>(0, we - ws);
        if (div == 0) div = 1;  // a window wholly in the padding (pads beyond half the kernel) averages to 0
        double acc = 0;
        for (int64_t iy = hs; iy < he; ++iy)
          for (int64_t ix = ws; ix < we; ++ix) acc += x[size_t(p * s.h * s.w + iy * s.w + ix)];
        size_t o = size_t((p * s.oh + oy) * s.ow + ox);
        y[o] = float(acc / double(div));
        for (int64_t iy = hs; iy < he; ++iy)
          for (int64_t ix = ws; ix < we; ++ix) dxd[size_t(p * s.h * s.w + iy * s.w + ix)] += dy[o] / double(div);
      }
  for (size_t i = 0; i < dx.size(); ++i) dx[i] = float(dxd[i]);
}

void check_max(const PoolShape& s, std::mt19937& rng, bool ties_and_nans) {
  const size_t xs = size_t(s.n * s.c * s.h * s.w), ys = size_t(s.n * s.c * s.oh * s.ow);
  auto x = test::random_vector(xs, rng);
  if (ties_and_nans) {
    for (size_t i = 0; i < xs; ++i) x[i] = std::round(x[i] * 2.f);  // many ties
    for (size_t i = 0; i < xs; i += 37) x[i] = NAN;
    for (size_t i = 5; i < xs; i += 53) x[i] = -INFINITY;
  }
  auto dy = test::random_vector(ys, rng);
  std::vector<float> yr(ys);
  std::vector<int32_t> amr(ys);
  ref_max(s, x, yr, amr);
  std::vector<float> dxr(xs, 0.f);
  for (int64_t p = 0; p < s.n * s.c; ++p)
    for (int64_t i = 0; i < s.oh * s.ow; ++i) {
      size_t o = size_t(p * s.oh * s.ow + i);
      if (amr[o] >= 0) dxr[size_t(p * s.h * s.w + amr[o])] += dy[o];
    }
  auto same = [](const std::vector<float>& a, const std::vector<float>& b) {
    for (size_t i = 0; i < a.size(); ++i)
      if (!(a[i] == b[i] || (std::isnan(a[i]) && std::isnan(b[i])))) return false;
    return true;
  };
  test::for_each_isa([&](convkit::Isa isa) {
    for (int threads : {1, 2}) {
      convkit::set_num_threads(threads);
      std::vector<float> y(ys, 7.f), y2(ys, 7.f), dx(xs, 7.f);
      std::vector<int32_t> am(ys, -7);
      convkit::max_pool2d_forward(s, x.data(), y.data(), am.data());
      CHECK(same(y, yr), "max fwd %s [%s %d thr]", describe(s).c_str(), convkit::isa_name(isa), threads);
      CHECK(am == amr, "argmax %s [%s %d thr]", describe(s).c_str(), convkit::isa_name(isa), threads);
      convkit::max_pool2d_forward(s, x.data(), y2.data(), nullptr);
      CHECK(same(y2, yr), "max fwd no argmax %s [%s %d thr]", describe(s).c_str(), convkit::isa_name(isa), threads);
      convkit::max_pool2d_backward(s, dy.data(), amr.data(), dx.data());
      CHECK(test::all_close(dx, dxr, 1e-5, 1e-5), "max bwd %s [%s %d thr]", describe(s).c_str(),
            convkit::isa_name(isa), threads);
    }
  });
}

void check_avg(const PoolShape& s, std::mt19937& rng) {
  const size_t xs = size_t(s.n * s.c * s.h * s.w), ys = size_t(s.n * s.c * s.oh * s.ow);
  auto x = test::random_vector(xs, rng), dy = test::random_vector(ys, rng);
  std::vector<float> yr(ys), dxr(xs);
  ref_avg(s, x, dy, yr, dxr);
  test::for_each_isa([&](convkit::Isa isa) {
    for (int threads : {1, 2}) {
      convkit::set_num_threads(threads);
      std::vector<float> y(ys, NAN), dx(xs, NAN);
      convkit::avg_pool2d_forward(s, x.data(), y.data());
      CHECK(test::all_close(y, yr, 1e-5, 1e-5), "avg fwd %s [%s %d thr]", describe(s).c_str(),
            convkit::isa_name(isa), threads);
      convkit::avg_pool2d_backward(s, dy.data(), dx.data());
      CHECK(test::all_close(dx, dxr, 1e-5, 1e-5), "avg bwd %s [%s %d thr]", describe(s).c_str(),
            convkit::isa_name(isa), threads);
    }
  });
}

void expect_error(const PoolShape& s, const char* needle) {
  try {
    convkit::validate(s);
    CHECK(false, "validate accepted %s (wanted '%s')", describe(s).c_str(), needle);
  } catch (const convkit::Error& e) {
    CHECK(e.kind == convkit::ErrorKind::range, "kind %s", e.what());
    CHECK(std::string(e.what()).find(needle) != std::string::npos, "message '%s' lacks '%s'", e.what(), needle);
  }
}

void test_sizes_and_validate() {
  // PyTorch: MaxPool2d(3, 2, ceil_mode=True) on 6 -> 3 (window at 4 starts inside), on 5 -> 2.
  CHECK(convkit::pool_output_size(6, 3, 2, 0, 0, 1, true) == 3, "ceil 6");
  CHECK(convkit::pool_output_size(5, 3, 2, 0, 0, 1, true) == 2, "ceil 5");
  CHECK(convkit::pool_output_size(5, 2, 2, 1, 1, 1, true) == 3, "ceil pad: last window would start in padding");
  CHECK(convkit::pool_output_size(5, 2, 2, 0, 0, 1, false) == 2, "floor 5");
  CHECK(convkit::pool_output_size(112, 2, 2, 0, 0, 1, false) == 56, "112");
  PoolShape ok = make(1, 1, 8, 8, 2, 2, 2, 2);
  convkit::validate(ok);
  // Pads beyond half the kernel are valid (ONNX's rule; PyTorch's limit is enforced in TypeScript).
  convkit::validate(make(1, 1, 8, 8, 3, 3, 1, 1, 2, 0, 0, 0));
  PoolShape s = ok; s.kh = 0; expect_error(s, "kernel 0x2");
  s = ok; s.stride_w = 0; expect_error(s, "stride 2x0");
  s = ok; s.oh = 5; expect_error(s, "does not match the expected 4x4");
  s = make(1, 1, 2, 2, 5, 5, 1, 1);
  s.oh = s.ow = 1;
  expect_error(s, "larger than the padded input 2x2");
  s = ok; s.n = -1; expect_error(s, "input shape");
  s = make(int64_t(1) << 30, 1 << 10, 1 << 10, 2, 2, 2, 2, 2); expect_error(s, "2^40");
  s = ok; s.dilation_h = 2; s.oh = convkit::pool_output_size(8, 2, 2, 0, 0, 2, false);
  try {
    std::vector<float> x(64), y(size_t(s.oh * s.ow));
    convkit::avg_pool2d_forward(s, x.data(), y.data());
    CHECK(false, "avg pool accepted dilation 2");
  } catch (const convkit::Error& e) {
    CHECK(std::string(e.what()).find("dilation") != std::string::npos, "%s", e.what());
  }
}

void bench() {
  PoolShape s = make(64, 32, 112, 112, 2, 2, 2, 2);
  const size_t xs = size_t(s.n * s.c * s.h * s.w), ys = size_t(s.n * s.c * s.oh * s.ow);
  std::mt19937 rng(3);
  auto x = test::random_vector(xs, rng);
  std::vector<float> y(ys), dx(xs);
  std::vector<int32_t> am(ys);
  auto time = [](auto&& fn) { return test::best_seconds(fn, 7); };
  for (int threads : {1, 2}) {
    convkit::set_num_threads(threads);
    double t1 = time([&] { convkit::max_pool2d_forward(s, x.data(), y.data(), nullptr); });
    double t2 = time([&] { convkit::max_pool2d_forward(s, x.data(), y.data(), am.data()); });
    double t3 = time([&] { convkit::max_pool2d_backward(s, y.data(), am.data(), dx.data()); });
    PoolShape a = s;
    double t4 = time([&] { convkit::avg_pool2d_forward(a, x.data(), y.data()); });
    std::printf("[bench] %d thr maxpool 2x2/2 64x32x112x112: no argmax %.2f ms %.1f GB/s | argmax %.2f ms %.1f GB/s | "
                "bwd %.2f ms %.1f GB/s | avgpool fwd %.2f ms %.1f GB/s\n",
                threads, t1 * 1e3, (xs + ys) * 4 / t1 * 1e-9, t2 * 1e3, (xs + 2 * ys) * 4 / t2 * 1e-9, t3 * 1e3,
                (xs + 2 * ys) * 4 / t3 * 1e-9, t4 * 1e3, (xs + ys) * 4 / t4 * 1e-9);
  }
}

}  // namespace

int main() {
  test_sizes_and_validate();
  std::mt19937 rng(99);
  const PoolShape maxes[] = {
      make(2, 3, 8, 8, 2, 2, 2, 2),                                    // fast path
      make(2, 3, 9, 37, 2, 2, 2, 2),                                   // odd sizes, vector tails
      make(1, 2, 7, 71, 2, 2, 2, 2, 0, 0, 0, 0, 1, 1, true),           // ceil: partial last row/column
      make(3, 2, 64, 66, 2, 2, 2, 2),                                  // long rows
      make(2, 3, 9, 9, 3, 3, 2, 2, 1, 1, 1, 1),                        // 3x3/2 pad 1
      make(2, 2, 10, 11, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, true),          // ceil mode with padding
      make(2, 2, 11, 10, 3, 2, 2, 1, 0, 1, 1, 0, 2, 3),                // dilation, asymmetric pad
      make(1, 3, 13, 13, 2, 2, 2, 2, 1, 1, 1, 1),                      // padded 2x2/2: general
      make(2, 2, 5, 5, 5, 5, 1, 1),                                    // global
      make(1, 1, 1, 4, 2, 2, 2, 2, 2, 2, 2, 2, 3, 3),                  // every window in the padding
      make(2, 3, 5, 6, 2, 2, 1, 1, 2, 2, 2, 2, 3, 3),                  // some windows in the padding
      make(1, 3, 28, 28, 3, 3, 1, 1, 2, 2, 2, 2),                      // ONNX maxpool_2d_pads: pads > half the kernel
      make(2, 2, 5, 7, 2, 2, 1, 1, 3, 2, 2, 3),                        // pads >= kernel: windows wholly in the padding
      make(2, 2, 6, 6, 2, 2, 2, 2, 3, 3, 3, 3, 1, 1, true),            // and ceil mode, 2x2/2 off the fast path
  };
  int i = 0;
  for (const PoolShape& s : maxes) {
    convkit::validate(s);
    check_max(s, rng, (i++ % 2) == 1);
  }
  const PoolShape avgs[] = {
      make(2, 3, 8, 8, 2, 2, 2, 2),
      make(2, 3, 9, 9, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, false, true),
      make(2, 3, 9, 9, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, false, false),
      make(2, 2, 10, 11, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, true, true),    // ceil: windows past the padding
      make(2, 2, 10, 11, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, true, false),
      make(1, 2, 7, 12, 3, 2, 2, 3, 1, 0, 0, 1, 1, 1, true, true),    // asymmetric
      make(2, 2, 6, 6, 6, 6, 1, 1),                                    // global
      // Pads beyond half the kernel (ONNX): windows partly or wholly in the padding, both divisors.
      make(1, 3, 28, 28, 3, 3, 1, 1, 2, 2, 2, 2, 1, 1, false, false),  // ONNX averagepool_2d_pads
      make(1, 3, 28, 28, 3, 3, 1, 1, 2, 2, 2, 2, 1, 1, false, true),   // ... _count_include_pad
      make(2, 2, 5, 7, 2, 2, 1, 1, 3, 2, 2, 3, 1, 1, false, false),    // whole rows and columns in the padding
      make(2, 2, 5, 7, 2, 2, 1, 1, 3, 2, 2, 3, 1, 1, false, true),
      make(2, 2, 6, 9, 2, 3, 2, 2, 3, 4, 3, 4, 1, 1, true, false),     // and ceil mode
      make(2, 2, 6, 9, 2, 3, 2, 2, 3, 4, 3, 4, 1, 1, true, true),
  };
  for (const PoolShape& s : avgs) {
    convkit::validate(s);
    check_avg(s, rng);
  }
  if (const char* e = std::getenv("CONVKIT_BENCH"); e && *e == '1') bench();
  convkit::set_num_threads(convkit::hardware_threads());
  return test::finish("test_pool");
}
