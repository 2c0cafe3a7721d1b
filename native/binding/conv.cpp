// conv2dForward(g, x, w, bias|null, y) and conv2dBackward(g, x, w, dy, dx|null, dw|null, db|null).
#include "args.h"
#include "call.h"
#include "convkit/conv.h"

namespace binding {
namespace {

struct ConvSizes {
  int64_t x, w, y;
};

ConvSizes conv_sizes(const convkit::ConvShape& s, const char* fn) {
  return {checked_product({s.n, s.c, s.h, s.w}, fn, "input"),
          checked_product({s.o, s.c / s.groups, s.kh, s.kw}, fn, "weight"),
          checked_product({s.n, s.o, s.oh, s.ow}, fn, "output")};
}

PreparedCall prepare_forward(const Napi::CallbackInfo& info) {
  const char* fn = "conv2dForward";
  convkit::ConvShape s = conv_shape(object(info, 0, fn, "geometry"), fn);
  auto x = float_array(info, 1, fn, "x"), w = float_array(info, 2, fn, "w");
  auto bias = optional_float_array(info, 3, fn, "bias"), y = float_array(info, 4, fn, "y");
  ConvSizes sizes = conv_sizes(s, fn);
  expect_length(x, sizes.x, fn, "x");
  expect_length(w, sizes.w, fn, "w");
  if (bias.present()) expect_length(bias, s.o, fn, "bias");
  expect_length(y, sizes.y, fn, "y");
  PreparedCall call{[=] { convkit::conv2d_forward(s, x.data, w.data, bias.present() ? bias.data : nullptr, y.data); },
                    {x.owner, w.owner, y.owner}};
  if (bias.present()) call.buffers.push_back(bias.owner);
  return call;
}

PreparedCall prepare_backward(const Napi::CallbackInfo& info) {
  const char* fn = "conv2dBackward";
  convkit::ConvShape s = conv_shape(object(info, 0, fn, "geometry"), fn);
  auto x = float_array(info, 1, fn, "x"), w = float_array(info, 2, fn, "w"), dy = float_array(info, 3, fn, "dy");
  auto dx = optional_float_array(info, 4, fn, "dx"), dw = optional_float_array(info, 5, fn, "dw");
  auto db = optional_float_array(info, 6, fn, "db");
  ConvSizes sizes = conv_sizes(s, fn);
  expect_length(x, sizes.x, fn, "x");
  expect_length(w, sizes.w, fn, "w");
  expect_length(dy, sizes.y, fn, "dy");
  if (dx.present()) expect_length(dx, sizes.x, fn, "dx");
  if (dw.present()) expect_length(dw, sizes.w, fn, "dw");
  if (db.present()) expect_length(db, s.o, fn, "db");
  float* dx_ptr = dx.present() ? dx.data : nullptr;
  float* dw_ptr = dw.present() ? dw.data : nullptr;
  float* db_ptr = db.present() ? db.data : nullptr;
  return {[=] { convkit::conv2d_backward(s, x.data, w.data, dy.data, dx_ptr, dw_ptr, db_ptr); }, {}};
}

}  // namespace

void register_conv(Napi::Env env, Napi::Object exports) {
  exports.Set("conv2dForward", Napi::Function::New(env, expose_sync<prepare_forward>, "conv2dForward"));
  exports.Set("conv2dForwardAsync", Napi::Function::New(env, expose_async<prepare_forward>, "conv2dForwardAsync"));
  exports.Set("conv2dBackward", Napi::Function::New(env, expose_sync<prepare_backward>, "conv2dBackward"));
}

}  // namespace binding
