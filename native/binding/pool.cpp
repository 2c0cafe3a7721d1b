// maxPool2dForward(g, x, y, argmax|null), maxPool2dBackward(g, dy, argmax, dx),
// avgPool2dForward(g, x, y), avgPool2dBackward(g, dy, dx).
#include "args.h"
#include "call.h"
#include "convkit/pool.h"

namespace binding {
namespace {

struct PoolSizes {
  int64_t x, y;
};

PoolSizes pool_sizes(const convkit::PoolShape& s, const char* fn) {
  return {checked_product({s.n, s.c, s.h, s.w}, fn, "input"), checked_product({s.n, s.c, s.oh, s.ow}, fn, "output")};
}

PreparedCall prepare_max_forward(const Napi::CallbackInfo& info) {
  const char* fn = "maxPool2dForward";
  convkit::PoolShape s = pool_shape(object(info, 0, fn, "geometry"), fn);
  auto x = float_array(info, 1, fn, "x"), y = float_array(info, 2, fn, "y");
  auto argmax = optional_int32_array(info, 3, fn, "argmax");
  PoolSizes sizes = pool_sizes(s, fn);
  expect_length(x, sizes.x, fn, "x");
  expect_length(y, sizes.y, fn, "y");
  if (argmax.present()) expect_length(argmax, sizes.y, fn, "argmax");
  int32_t* argmax_ptr = argmax.present() ? argmax.data : nullptr;
  PreparedCall call{[=] { convkit::max_pool2d_forward(s, x.data, y.data, argmax_ptr); }, {x.owner, y.owner}};
  if (argmax.present()) call.buffers.push_back(argmax.owner);
  return call;
}

PreparedCall prepare_max_backward(const Napi::CallbackInfo& info) {
  const char* fn = "maxPool2dBackward";
  convkit::PoolShape s = pool_shape(object(info, 0, fn, "geometry"), fn);
  auto dy = float_array(info, 1, fn, "dy");
  auto argmax = int32_array(info, 2, fn, "argmax");
  auto dx = float_array(info, 3, fn, "dx");
  PoolSizes sizes = pool_sizes(s, fn);
  expect_length(dy, sizes.y, fn, "dy");
  expect_length(argmax, sizes.y, fn, "argmax");
  expect_length(dx, sizes.x, fn, "dx");
  return {[=] { convkit::max_pool2d_backward(s, dy.data, argmax.data, dx.data); }, {}};
}

PreparedCall prepare_avg_forward(const Napi::CallbackInfo& info) {
  const char* fn = "avgPool2dForward";
  convkit::PoolShape s = pool_shape(object(info, 0, fn, "geometry"), fn);
  auto x = float_array(info, 1, fn, "x"), y = float_array(info, 2, fn, "y");
  PoolSizes sizes = pool_sizes(s, fn);
  expect_length(x, sizes.x, fn, "x");
  expect_length(y, sizes.y, fn, "y");
  return {[=] { convkit::avg_pool2d_forward(s, x.data, y.data); }, {}};
}

PreparedCall prepare_avg_backward(const Napi::CallbackInfo& info) {
  const char* fn = "avgPool2dBackward";
  convkit::PoolShape s = pool_shape(object(info, 0, fn, "geometry"), fn);
  auto dy = float_array(info, 1, fn, "dy"), dx = float_array(info, 2, fn, "dx");
  PoolSizes sizes = pool_sizes(s, fn);
  expect_length(dy, sizes.y, fn, "dy");
  expect_length(dx, sizes.x, fn, "dx");
  return {[=] { convkit::avg_pool2d_backward(s, dy.data, dx.data); }, {}};
}

}  // namespace

void register_pool(Napi::Env env, Napi::Object exports) {
  exports.Set("maxPool2dForward", Napi::Function::New(env, expose_sync<prepare_max_forward>, "maxPool2dForward"));
  exports.Set("maxPool2dForwardAsync", Napi::Function::New(env, expose_async<prepare_max_forward>, "maxPool2dForwardAsync"));
  exports.Set("maxPool2dBackward", Napi::Function::New(env, expose_sync<prepare_max_backward>, "maxPool2dBackward"));
  exports.Set("avgPool2dForward", Napi::Function::New(env, expose_sync<prepare_avg_forward>, "avgPool2dForward"));
  exports.Set("avgPool2dBackward", Napi::Function::New(env, expose_sync<prepare_avg_backward>, "avgPool2dBackward"));
}

}  // namespace binding
