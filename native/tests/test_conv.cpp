// conv2d forward/backward against direct loops in double, on many shapes (groups, dilation,
// asymmetric padding, strides, 1x1, batched and per-image chunks, row-chunked huge images),
// with every ISA forced in turn and 1 and 2 threads. validate() error messages too.
// CONVKIT_BENCH=1 also prints timings of the benchmark shapes.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "convkit/conv.h"
#include "convkit/error.h"
#include "convkit/threads.h"
#include "shape_util.h"
#include "test_util.h"

using convkit::ConvShape;

using test::describe;

namespace {

template <class... Sizes>
ConvShape make(Sizes... sizes) {
  return test::conv_shape(sizes...);
}

// Visits every (n, oc, oy, ox, ci, ky, kx, iy, ix) with the input inside the image.
template <class F>
void direct(const ConvShape& s, F&& f) {
  const int64_t cg = s.c / s.groups, og = s.o / s.groups;
  for (int64_t n = 0; n < s.n; ++n)
    for (int64_t oc = 0; oc < s.o; ++oc) {
      const int64_t g = oc / og;
      for (int64_t oy = 0; oy < s.oh; ++oy)
        for (int64_t ox = 0; ox < s.ow; ++ox)
          for (int64_t cl = 0; cl < cg; ++cl)
            for (int64_t ky = 0; ky < s.kh; ++ky) {
              const int64_t iy = oy * s.stride_h - s.pad_top + ky * s.dilation_h;
              if (iy < 0 || iy >= s.h) continue;
              for (int64_t kx = 0; kx < s.kw; ++kx) {
                const int64_t ix = ox * s.stride_w - s.pad_left + kx * s.dilation_w;
                if (ix < 0 || ix >= s.w) continue;
                const int64_t xi = ((n * s.c + g * cg + cl) * s.h + iy) * s.w + ix;
                const int64_t wi = ((oc * cg + cl) * s.kh + ky) * s.kw + kx;
                const int64_t yi = ((n * s.o + oc) * s.oh + oy) * s.ow + ox;
                f(xi, wi, yi);
              }
            }
    }
}

void check_shape(const ConvShape& s, std::mt19937& rng, bool with_bias) {
  const size_t xs = size_t(s.n * s.c * s.h * s.w), ws = size_t(s.o * (s.c / s.groups) * s.kh * s.kw),
               ys = size_t(s.n * s.o * s.oh * s.ow);
  auto x = test::random_vector(xs, rng), w = test::random_vector(ws, rng), b = test::random_vector(size_t(s.o), rng),
       dy = test::random_vector(ys, rng);
  std::vector<double> y_ref(ys, 0.0), dx_ref(xs, 0.0), dw_ref(ws, 0.0), db_ref(size_t(s.o), 0.0);
  direct(s, [&](int64_t xi, int64_t wi, int64_t yi) {
    y_ref[yi] += double(x[xi]) * w[wi];
    dx_ref[xi] += double(w[wi]) * dy[yi];
    dw_ref[wi] += double(x[xi]) * dy[yi];
  });
  const int64_t ohw = s.oh * s.ow;
  for (size_t i = 0; i < ys; ++i) {
    const int64_t oc = int64_t(i) / ohw % s.o;
    if (with_bias) y_ref[i] += b[oc];
    db_ref[oc] += dy[i];
  }
  auto to_f = [](const std::vector<double>& v) { return std::vector<float>(v.begin(), v.end()); };
  const auto yr = to_f(y_ref), dxr = to_f(dx_ref), dwr = to_f(dw_ref), dbr = to_f(db_ref);
  const double tol = 1e-4 * (1 + std::sqrt(double(s.c / s.groups * s.kh * s.kw)));
  const double tol_w = 1e-4 * (1 + std::sqrt(double(s.n * ohw)));

  test::for_each_isa([&](convkit::Isa isa) {
    for (int threads : {1, 2}) {
      convkit::set_num_threads(threads);
      std::vector<float> y(ys, NAN), dx(xs, NAN), dw(ws, NAN), db(size_t(s.o), NAN);
      convkit::conv2d_forward(s, x.data(), w.data(), with_bias ? b.data() : nullptr, y.data());
      CHECK(test::all_close(y, yr, tol, 1e-4), "forward %s [%s, %d threads] err %.3g", describe(s).c_str(),
            convkit::isa_name(isa), threads, test::max_error_ratio(y.data(), yr.data(), ys, tol, 1e-4));
      convkit::conv2d_backward(s, x.data(), w.data(), dy.data(), dx.data(), dw.data(), db.data());
      CHECK(test::all_close(dx, dxr, tol, 1e-4), "dx %s [%s, %d threads] err %.3g", describe(s).c_str(),
            convkit::isa_name(isa), threads, test::max_error_ratio(dx.data(), dxr.data(), xs, tol, 1e-4));
      CHECK(test::all_close(dw, dwr, tol_w, 1e-4), "dw %s [%s, %d threads] err %.3g", describe(s).c_str(),
            convkit::isa_name(isa), threads, test::max_error_ratio(dw.data(), dwr.data(), ws, tol_w, 1e-4));
      CHECK(test::all_close(db, dbr, tol_w, 1e-4), "db %s [%s, %d threads]", describe(s).c_str(),
            convkit::isa_name(isa), threads);
      // Only some gradients wanted; each given one is overwritten.
      std::vector<float> dx2(xs, 123.f), dw2(ws, 123.f);
      convkit::conv2d_backward(s, x.data(), w.data(), dy.data(), dx2.data(), nullptr, nullptr);
      CHECK(test::all_close(dx2, dxr, tol, 1e-4), "dx only %s", describe(s).c_str());
      convkit::conv2d_backward(s, x.data(), w.data(), dy.data(), nullptr, dw2.data(), nullptr);
      CHECK(test::all_close(dw2, dwr, tol_w, 1e-4), "dw only %s", describe(s).c_str());
    }
  });
}

void expect_error(const ConvShape& s, const char* needle) {
  try {
    convkit::validate(s);
    CHECK(false, "validate accepted %s (wanted an error containing '%s')", describe(s).c_str(), needle);
  } catch (const convkit::Error& e) {
    CHECK(e.kind == convkit::ErrorKind::range, "wrong kind for %s", e.what());
    CHECK(std::string(e.what()).find(needle) != std::string::npos, "message '%s' lacks '%s'", e.what(), needle);
  }
}

void test_validate() {
  CHECK(convkit::conv_output_size(32, 5, 1, 0, 0, 1) == 28, "lenet conv1");
  CHECK(convkit::conv_output_size(199, 3, 2, 1, 0, 2) == 98, "dilated asym");  // (199+1-4-1)/2+1
  CHECK(convkit::conv_output_size(5, 3, 2, 1, 1, 1) == 3, "stride 2 pad 1");
  ConvShape ok = make(2, 3, 8, 8, 4, 3, 3);
  convkit::validate(ok);
  ConvShape s = make(1, 1, 5, 5, 1, 7, 7);
  s.oh = s.ow = 1;
  expect_error(s, "kernel 7x7 (dilated 7x7) is larger than the padded input 5x5");
  s = make(1, 1, 5, 5, 1, 3, 3, 1, 1, 0, 0, 0, 0, 3, 3);
  s.oh = s.ow = 1;
  expect_error(s, "dilated 7x7");
  s = ok; s.groups = 2; expect_error(s, "groups 2");
  s = ok; s.stride_h = 0; expect_error(s, "stride 0x1");
  s = ok; s.dilation_w = -1; expect_error(s, "dilation");
  s = ok; s.pad_left = -1; expect_error(s, "padding");
  s = ok; s.n = 0; expect_error(s, "input shape");
  s = ok; s.oh = 7; expect_error(s, "output size 7x6 does not match the expected 6x6");
  s = make(1 << 20, 1 << 12, 1 << 10, 1 << 10, 1, 1, 1); expect_error(s, "more than 2^40");
  s = make(1, 1 << 10, 1 << 12, 1 << 12, 1, 9, 9); expect_error(s, "im2col");
  s = ok; s.n = int64_t(1) << 62; expect_error(s, "absurd");
  s = ok; s.kh = int64_t(1) << 62; expect_error(s, "absurd");
}

void bench() {
  struct B {
    const char* name;
    ConvShape s;
  };
  const B shapes[] = {
      {"N64 3->32 32x32 3x3 p1", make(64, 3, 32, 32, 32, 3, 3, 1, 1, 1, 1, 1, 1)},
      {"N64 64->64 56x56 3x3 p1", make(64, 64, 56, 56, 64, 3, 3, 1, 1, 1, 1, 1, 1)},
      {"N1 LeNet 1->6 5x5 32x32", make(1, 1, 32, 32, 6, 5, 5)},
      {"N1 LeNet 6->16 5x5 14x14", make(1, 6, 14, 14, 16, 5, 5)},
      {"N64 LeNet 1->6 5x5 32x32", make(64, 1, 32, 32, 6, 5, 5)},
      {"N64 LeNet 6->16 5x5 14x14", make(64, 6, 14, 14, 16, 5, 5)},
      {"N64 256->256 14x14 1x1", make(64, 256, 14, 14, 256, 1, 1)},
  };
  std::mt19937 rng(7);
  for (int threads : {1, 2}) {
    convkit::set_num_threads(threads);
    for (const B& b : shapes) {
      const ConvShape& s = b.s;
      auto x = test::random_vector(size_t(s.n * s.c * s.h * s.w), rng);
      auto w = test::random_vector(size_t(s.o * s.c / s.groups * s.kh * s.kw), rng);
      auto bias = test::random_vector(size_t(s.o), rng);
      std::vector<float> y(size_t(s.n * s.o * s.oh * s.ow)), dx(x.size()), dw(w.size()), db(bias.size());
      const double flops = 2.0 * s.n * s.o * (s.c / s.groups) * s.kh * s.kw * s.oh * s.ow;
      auto time = [&](auto&& fn) {
        fn();
        double best = 1e30;
        for (int rep = 0; rep < 5; ++rep) {
          auto t0 = std::chrono::steady_clock::now();
          int iters = 0;
          double el = 0;
          do {
            fn();
            ++iters;
            el = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
          } while (el < 0.05);
          best = std::min(best, el / iters);
        }
        return best;
      };
      double tf = time([&] { convkit::conv2d_forward(s, x.data(), w.data(), bias.data(), y.data()); });
      double tb = time([&] { convkit::conv2d_backward(s, x.data(), w.data(), y.data(), dx.data(), dw.data(), db.data()); });
      std::printf("[bench] %d thr %-28s fwd %8.3f ms %7.1f GFLOP/s   bwd(dx,dw,db) %8.3f ms %7.1f GFLOP/s\n", threads,
                  b.name, tf * 1e3, flops / tf * 1e-9, tb * 1e3, 2 * flops / tb * 1e-9);
    }
  }
}

}  // namespace

int main() {
  test_validate();
  std::mt19937 rng(1234);
  const ConvShape shapes[] = {
      make(1, 1, 5, 5, 1, 3, 3),
      make(2, 3, 8, 8, 4, 3, 3, 1, 1, 1, 1, 1, 1),
      make(3, 4, 9, 7, 6, 3, 2, 2, 1, 1, 0, 2, 1),            // asymmetric padding, stride
      make(8, 4, 10, 10, 6, 3, 3, 1, 2, 2, 2, 2, 2, 2, 2),    // dilation 2
      make(5, 6, 11, 9, 4, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 2),  // groups 2
      make(4, 6, 7, 7, 6, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 6),   // depthwise
      make(4, 8, 6, 5, 12, 1, 1),                              // 1x1 fast path, small planes (batched)
      make(2, 8, 33, 33, 6, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 2), // 1x1 per image with groups
      make(3, 5, 7, 8, 3, 1, 1, 2, 2),                         // 1x1 stride 2: im2col path
      make(2, 3, 7, 7, 2, 1, 1, 1, 1, 1, 0, 0, 1),            // 1x1 padded
      make(6, 1, 32, 32, 6, 5, 5),                             // LeNet conv1 (direct GEMM)
      make(9, 6, 14, 14, 16, 5, 5),                            // LeNet conv2 (batched)
      make(2, 3, 40, 36, 8, 3, 3, 1, 1, 1, 1, 1, 1),          // ohw >= 1024: direct per image
      make(1, 2, 6, 6, 3, 6, 6),                               // kernel = input
      make(2, 3, 5, 9, 2, 2, 3, 3, 4, 0, 1, 0, 0, 1, 3),      // odd strides / dilation
      make(1, 64, 122, 122, 2, 3, 3, 1, 1, 1, 1, 1, 1),       // im2col > 32 MiB: row chunks
      make(3, 3, 9, 11, 4, 3, 3, 1, 1, 2, 2, 2, 2, 2, 2),     // "same" width, dilated
      make(2, 3, 6, 13, 5, 3, 5, 1, 1, 0, 3, 2, 1),           // "same" width, asymmetric
      make(2, 2, 4, 6, 3, 5, 3, 1, 1, 2, 1, 2, 1),            // padding rows above and below
      // direct, vectorised over output channels (rows narrower than a few vectors)
      make(3, 5, 9, 13, 32, 3, 3, 1, 1, 1, 1, 1, 1),          // 32 channels: two AVX-512 vectors
      make(2, 4, 7, 11, 16, 3, 3, 1, 1, 1, 0, 2, 1, 1, 1, 2), // 8 per group, asymmetric padding
      make(2, 3, 6, 5, 8, 2, 2),                               // one AVX2 vector, rows of 4
  };
  int i = 0;
  for (const ConvShape& s : shapes) {
    convkit::validate(s);
    check_shape(s, rng, (i++ % 2) == 0);
  }
  if (const char* e = std::getenv("CONVKIT_BENCH"); e && *e == '1') bench();
  convkit::set_num_threads(convkit::hardware_threads());
  return test::finish("test_conv");
}
