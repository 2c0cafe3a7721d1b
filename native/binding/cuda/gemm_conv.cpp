// gemm({transA, transB, m, n, k, alpha, beta, a, b, c}), conv2dForward(g, x, w, bias|null, y) and
// conv2dBackward(g, x, w, dy, dx|null, dw|null, db|null) on device arrays, with the Async
// variants the Backend contract has.
#include "../gemm_args.h"
#include "convkit_cuda/kernels.h"
#include "cuda_args.h"

namespace binding::cuda {
namespace {

void gemm(const Napi::CallbackInfo& info) {
  auto g = gemm_call(info, "gemm", floats);
  convkit::cuda::sgemm(g.trans_a, g.trans_b, g.m, g.n, g.k, g.alpha, g.a.data, g.lda, g.b.data, g.ldb, g.beta, g.c.data,
                       g.n);
}

struct ConvSizes {
  int64_t x, w, y;
};

ConvSizes conv_sizes(const convkit::ConvShape& s, const char* fn) {
  return {checked_product({s.n, s.c, s.h, s.w}, fn, "input"), checked_product({s.o, s.c / s.groups, s.kh, s.kw}, fn, "weight"),
          checked_product({s.n, s.o, s.oh, s.ow}, fn, "output")};
}

void conv2d_forward(const Napi::CallbackInfo& info) {
  const char* fn = "conv2dForward";
  convkit::ConvShape s = conv_shape(object(info, 0, fn, "geometry"), fn);
  auto x = floats(info[1], fn, "x"), w = floats(info[2], fn, "w");
  auto bias = optional_floats(info[3], fn, "bias"), y = floats(info[4], fn, "y");
  ConvSizes sizes = conv_sizes(s, fn);
  expect_length(x, sizes.x, fn, "x");
  expect_length(w, sizes.w, fn, "w");
  expect_length(bias, s.o, fn, "bias");
  expect_length(y, sizes.y, fn, "y");
  convkit::cuda::conv2d_forward(s, x.data, w.data, bias.data, y.data);
}

void conv2d_backward(const Napi::CallbackInfo& info) {
  const char* fn = "conv2dBackward";
  convkit::ConvShape s = conv_shape(object(info, 0, fn, "geometry"), fn);
  auto x = floats(info[1], fn, "x"), w = floats(info[2], fn, "w"), dy = floats(info[3], fn, "dy");
  auto dx = optional_floats(info[4], fn, "dx"), dw = optional_floats(info[5], fn, "dw");
  auto db = optional_floats(info[6], fn, "db");
  ConvSizes sizes = conv_sizes(s, fn);
  expect_length(x, sizes.x, fn, "x");
  expect_length(w, sizes.w, fn, "w");
  expect_length(dy, sizes.y, fn, "dy");
  expect_length(dx, sizes.x, fn, "dx");
  expect_length(dw, sizes.w, fn, "dw");
  expect_length(db, s.o, fn, "db");
  convkit::cuda::conv2d_backward(s, x.data, w.data, dy.data, dx.data, dw.data, db.data);
}

}  // namespace

void register_gemm_conv(Napi::Env env, Napi::Object cuda) {
  cuda.Set("gemm", Napi::Function::New(env, expose<gemm>, "gemm"));
  cuda.Set("gemmAsync", Napi::Function::New(env, expose_async<gemm>, "gemmAsync"));
  cuda.Set("conv2dForward", Napi::Function::New(env, expose<conv2d_forward>, "conv2dForward"));
  cuda.Set("conv2dForwardAsync", Napi::Function::New(env, expose_async<conv2d_forward>, "conv2dForwardAsync"));
  cuda.Set("conv2dBackward", Napi::Function::New(env, expose<conv2d_backward>, "conv2dBackward"));
}

}  // namespace binding::cuda
