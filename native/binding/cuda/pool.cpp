// maxPool2dForward(g, x, y, argmax|null) and its Async variant, maxPool2dBackward(g, dy, argmax, dx),
// avgPool2dForward(g, x, y), avgPool2dBackward(g, dy, dx) on device arrays.
#include "convkit_cuda/kernels.h"
#include "cuda_args.h"

namespace binding::cuda {
namespace {

struct PoolSizes {
  int64_t x, y;
};

PoolSizes pool_sizes(const convkit::PoolShape& s, const char* fn) {
  return {checked_product({s.n, s.c, s.h, s.w}, fn, "input"), checked_product({s.n, s.c, s.oh, s.ow}, fn, "output")};
}

void max_pool2d_forward(const Napi::CallbackInfo& info) {
  const char* fn = "maxPool2dForward";
  convkit::PoolShape s = pool_shape(object(info, 0, fn, "geometry"), fn);
  auto x = floats(info[1], fn, "x"), y = floats(info[2], fn, "y");
  auto argmax = optional_ints(info[3], fn, "argmax");
  PoolSizes sizes = pool_sizes(s, fn);
  expect_length(x, sizes.x, fn, "x");
  expect_length(y, sizes.y, fn, "y");
  expect_length(argmax, sizes.y, fn, "argmax");
  convkit::cuda::max_pool2d_forward(s, x.data, y.data, argmax.data);
}

void max_pool2d_backward(const Napi::CallbackInfo& info) {
  const char* fn = "maxPool2dBackward";
  convkit::PoolShape s = pool_shape(object(info, 0, fn, "geometry"), fn);
  auto dy = floats(info[1], fn, "dy");
  auto argmax = ints(info[2], fn, "argmax");
  auto dx = floats(info[3], fn, "dx");
  PoolSizes sizes = pool_sizes(s, fn);
  expect_length(dy, sizes.y, fn, "dy");
  expect_length(argmax, sizes.y, fn, "argmax");
  expect_length(dx, sizes.x, fn, "dx");
  convkit::cuda::max_pool2d_backward(s, dy.data, argmax.data, dx.data);
}

void avg_pool2d_forward(const Napi::CallbackInfo& info) {
  const char* fn = "avgPool2dForward";
  convkit::PoolShape s = pool_shape(object(info, 0, fn, "geometry"), fn);
  auto x = floats(info[1], fn, "x"), y = floats(info[2], fn, "y");
  PoolSizes sizes = pool_sizes(s, fn);
  expect_length(x, sizes.x, fn, "x");
  expect_length(y, sizes.y, fn, "y");
  convkit::cuda::avg_pool2d_forward(s, x.data, y.data);
}

void avg_pool2d_backward(const Napi::CallbackInfo& info) {
  const char* fn = "avgPool2dBackward";
  convkit::PoolShape s = pool_shape(object(info, 0, fn, "geometry"), fn);
  auto dy = floats(info[1], fn, "dy"), dx = floats(info[2], fn, "dx");
  PoolSizes sizes = pool_sizes(s, fn);
  expect_length(dy, sizes.y, fn, "dy");
  expect_length(dx, sizes.x, fn, "dx");
  convkit::cuda::avg_pool2d_backward(s, dy.data, dx.data);
}

}  // namespace

void register_pool(Napi::Env env, Napi::Object cuda) {
  cuda.Set("maxPool2dForward", Napi::Function::New(env, expose<max_pool2d_forward>, "maxPool2dForward"));
  cuda.Set("maxPool2dForwardAsync",
           Napi::Function::New(env, expose_async<max_pool2d_forward>, "maxPool2dForwardAsync"));
  cuda.Set("maxPool2dBackward", Napi::Function::New(env, expose<max_pool2d_backward>, "maxPool2dBackward"));
  cuda.Set("avgPool2dForward", Napi::Function::New(env, expose<avg_pool2d_forward>, "avgPool2dForward"));
  cuda.Set("avgPool2dBackward", Napi::Function::New(env, expose<avg_pool2d_backward>, "avgPool2dBackward"));
}

}  // namespace binding::cuda
