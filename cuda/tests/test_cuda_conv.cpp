// convkit::cuda::conv2d_forward / conv2d_backward against the CPU core on the same inputs:
// batch 1 and 64, odd sizes, strides 2 and 3, asymmetric padding, dilation 2, groups 2 and
// depthwise, 1x1 (direct and through im2col), LeNet's layers, the 64->64 3x3 56x56 layer,
// a batch whose workspace needs several chunks (even and uneven), a stride past the padded
// input, and images too large for the workspace, cut into ranges of output rows (one past the
// real bound, the others with the bound lowered). Outputs start as NaN, so every element
// must be written; every combination of wanted gradients is checked. With TF32 on (sm_80+),
// one layer is checked again with a looser tolerance.
#include <cmath>
#include <cstdio>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "convkit/conv.h"
#include "convkit/error.h"
#include "convkit_cuda/kernels.h"
#include "shape_util.h"
#include "cuda_test_util.h"

using convkit::ConvShape;

using test::describe;

namespace {

template <class... Sizes>
ConvShape make(Sizes... sizes) {
  return test::conv_shape(sizes...);
}

std::vector<float> nans(size_t n) { return std::vector<float>(n, std::numeric_limits<float>::quiet_NaN()); }

void check_shape(const ConvShape& s, std::mt19937& rng, bool with_bias, bool tf32) {
  const size_t xs = size_t(s.n * s.c * s.h * s.w), ws = size_t(s.o * (s.c / s.groups) * s.kh * s.kw),
               ys = size_t(s.n * s.o * s.oh * s.ow);
  const auto x = test::random_vector(xs, rng), w = test::random_vector(ws, rng),
             b = test::random_vector(size_t(s.o), rng), dy = test::random_vector(ys, rng);
  std::vector<float> y_ref(ys), dx_ref(xs), dw_ref(ws), db_ref(size_t(s.o));
  convkit::conv2d_forward(s, x.data(), w.data(), with_bias ? b.data() : nullptr, y_ref.data());
  convkit::conv2d_backward(s, x.data(), w.data(), dy.data(), dx_ref.data(), dw_ref.data(), db_ref.data());

  // Sums of products of values <= 1: errors grow with the square root of the terms summed.
  const double k_terms = double(s.c / s.groups * s.kh * s.kw), n_terms = double(s.n * s.oh * s.ow);
  const double f = tf32 ? 2e-3 : 2e-4, rtol = tf32 ? 1e-2 : 1e-4;
  const double tol = f * (1 + std::sqrt(k_terms)), tol_dx = f * (1 + std::sqrt(double(s.o / s.groups * s.kh * s.kw)));
  const double tol_w = f * (1 + std::sqrt(n_terms)), tol_b = 2e-4 * (1 + std::sqrt(n_terms));
  const std::string name = describe(s) + (with_bias ? " bias" : "") + (tf32 ? " tf32" : "");

  test::DeviceVector<float> dev_x(x), dev_w(w), dev_b(b), dev_dy(dy);
  {
    test::DeviceVector<float> y(nans(ys));
    convkit::cuda::conv2d_forward(s, dev_x.get(), dev_w.get(), with_bias ? dev_b.get() : nullptr, y.get());
    test::expect_close(("forward " + name).c_str(), y.to_host(), y_ref, tol, rtol);
  }
  // Every combination of wanted gradients; each given one is overwritten, and the operands a
  // combination does not need are passed as null.
  for (int mask = 1; mask < 8; ++mask) {
    const bool want_dx = mask & 1, want_dw = mask & 2, want_db = mask & 4;
    test::DeviceVector<float> dx(nans(xs)), dw(nans(ws)), db(nans(size_t(s.o)));
    convkit::cuda::conv2d_backward(s, want_dw ? dev_x.get() : nullptr, want_dx ? dev_w.get() : nullptr, dev_dy.get(),
                                   want_dx ? dx.get() : nullptr, want_dw ? dw.get() : nullptr,
                                   want_db ? db.get() : nullptr);
    const std::string what = " [mask " + std::to_string(mask) + "] " + name;
    if (want_dx) test::expect_close(("dx" + what).c_str(), dx.to_host(), dx_ref, tol_dx, rtol);
    if (want_dw) test::expect_close(("dw" + what).c_str(), dw.to_host(), dw_ref, tol_w, rtol);
    if (want_db) test::expect_close(("db" + what).c_str(), db.to_host(), db_ref, tol_b, 1e-4);
  }
}

// The workspace bound, in floats, that leaves room for the columns of `rows` output rows.
int64_t limit_for_rows(const ConvShape& s, int64_t rows) { return s.c * s.kh * s.kw * s.ow * rows; }

// Images whose columns plus GEMM output pass the workspace bound run in ranges of output rows:
// one row per piece, several with a shorter last piece, over strides past the kernel, padding
// rows, dilation, groups, depthwise, 1x1 and batches of one and more. The bound is lowered so
// that small shapes get there; the last shape passes the real one (256 MiB) on its own.
void large_images_split_by_rows(std::mt19937& rng) {
  struct Case {
    ConvShape s;
    int64_t rows;
  };
  const Case cases[] = {
      {make(1, 3, 23, 9, 4, 3, 3, 1, 1, 1, 1, 1, 1), 1},
      {make(1, 3, 23, 9, 4, 3, 3, 1, 1, 1, 1, 1, 1), 5},                 // 5 + 5 + 5 + 5 + 3 rows
      {make(2, 3, 21, 11, 2, 3, 2, 1, 2, 2, 1, 3, 0, 3, 2), 2},          // dilation 3x2, batch 2
      {make(1, 2, 17, 5, 3, 3, 3, 1, 1, 4, 0, 5, 2), 3},                 // pieces that read only padding
      {make(1, 2, 19, 7, 3, 2, 2, 4, 3, 1, 0, 0, 1), 1},                 // stride 4 > kernel: unread rows
      {make(1, 4, 15, 8, 6, 3, 3, 2, 1, 1, 1, 1, 1, 2, 1, 2), 2},        // groups 2, stride 2, dilation 2
      {make(3, 6, 13, 6, 6, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 6), 4},        // depthwise, batch 3
      {make(2, 5, 12, 12, 7, 1, 1, 1, 1, 1, 1, 1, 1), 3},                // 1x1 padded: im2col
      {make(1, 8, 20, 20, 8, 1, 1), 3},                                  // 1x1: direct forward, rows backward
      {make(2, 64, 56, 56, 64, 3, 3, 1, 1, 1, 1, 1, 1), 8},              // the ResNet layer in 7 pieces
  };
  int i = 0;
  for (const Case& c : cases) {
    convkit::cuda::set_conv_workspace_limit_for_testing(limit_for_rows(c.s, c.rows));
    check_shape(c.s, rng, i++ % 2 == 0, false);
  }
  convkit::cuda::set_conv_workspace_limit_for_testing(0);
  // (18 + 2) * 2048^2 floats: over 256 MiB, in two pieces of rows.
  check_shape(make(1, 2, 2048, 2048, 2, 3, 3, 1, 1, 1, 1, 1, 1), rng, true, false);
}

}  // namespace

int main() {
  if (!test::cuda_usable("test_cuda_conv")) return test::kSkipped;
  std::mt19937 rng(1234);
  const ConvShape shapes[] = {
      make(1, 1, 5, 5, 1, 3, 3),
      make(2, 3, 8, 8, 4, 3, 3, 1, 1, 1, 1, 1, 1),
      make(64, 3, 9, 9, 5, 3, 3, 2, 2, 1, 1, 1, 1),            // batch 64, stride 2
      make(3, 5, 11, 7, 6, 3, 2, 1, 1, 0, 1, 2, 0),            // odd sizes, asymmetric padding
      make(2, 4, 13, 10, 3, 3, 3, 3, 3, 1, 1, 1, 1),           // stride 3
      make(3, 4, 9, 7, 6, 3, 2, 2, 1, 1, 0, 2, 1),             // asymmetric padding and stride
      make(8, 4, 10, 10, 6, 3, 3, 1, 2, 2, 2, 2, 2, 2, 2),     // dilation 2
      make(2, 3, 5, 9, 2, 2, 3, 3, 4, 0, 1, 0, 0, 1, 3),       // odd strides / dilation
      make(5, 6, 11, 9, 4, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 2),   // groups 2
      make(4, 6, 7, 7, 6, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 6),    // depthwise
      make(2, 4, 10, 10, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 4),  // depthwise, multiplier 2
      make(4, 8, 6, 5, 12, 1, 1),                               // 1x1: direct batched GEMM
      make(2, 8, 33, 33, 6, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 2),  // 1x1 with groups
      make(3, 5, 7, 8, 3, 1, 1, 2, 2),                          // 1x1 stride 2: im2col
      make(2, 3, 7, 7, 2, 1, 1, 1, 1, 1, 0, 0, 1),             // 1x1 padded
      make(1, 2, 6, 6, 3, 6, 6),                                // kernel = input
      make(2, 2, 4, 6, 3, 5, 3, 1, 1, 2, 1, 2, 1),             // padding rows above and below
      make(1, 1, 32, 32, 6, 5, 5),                              // LeNet conv1, batch 1
      make(1, 6, 14, 14, 16, 5, 5),                             // LeNet conv2, batch 1
      make(64, 1, 32, 32, 6, 5, 5),                             // LeNet conv1, batch 64
      make(64, 6, 14, 14, 16, 5, 5),                            // LeNet conv2, batch 64
      make(2, 64, 56, 56, 64, 3, 3, 1, 1, 1, 1, 1, 1),         // the ResNet layer, split-k dW
      make(40, 256, 32, 32, 2, 3, 3, 1, 1, 1, 1, 1, 1),        // workspace of two chunks
      make(41, 256, 32, 32, 2, 3, 3, 1, 1, 1, 1, 1, 1),        // two chunks, the last one partial
      make(2, 3, 5, 5, 4, 3, 3, 10, 10),                        // stride past the padded input: 1x1 output
  };
  int i = 0;
  for (const ConvShape& s : shapes) check_shape(s, rng, i++ % 2 == 0, false);
  if (convkit::cuda::probe().cc_major >= 8) {
    convkit::cuda::set_tf32(true);
    check_shape(make(2, 64, 56, 56, 64, 3, 3, 1, 1, 1, 1, 1, 1), rng, true, true);
    check_shape(make(5, 6, 11, 9, 4, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 2), rng, false, true);
    convkit::cuda::set_tf32(false);
  }
  large_images_split_by_rows(rng);
  convkit::cuda::synchronize();
  return test::finish("test_cuda_conv");
}
