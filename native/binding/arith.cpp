// Broadcasting arithmetic, sums over axes and clamp (convkit/arith.h), with the Backend
// contract's argument order: binary(op, geometry, a, b, y), sumAxes(geometry, x, beta, y),
// clamp(x, lo, hi, y), clampBackward(x, dy, lo, hi, dx). op is a convkit::BinaryOp number.
#include "args.h"
#include "call.h"
#include "convkit/arith.h"

namespace binding {
namespace {

PreparedCall prepare_binary(const Napi::CallbackInfo& info) {
  const char* fn = "binary";
  const int64_t op = integer(info[0], fn, "op");
  if (op < 0 || op > 3)
    convkit::throw_range(std::string(fn) + ": op must be 0..3 (add, sub, mul, div), got " + std::to_string(op));
  const convkit::BroadcastShape g = broadcast_shape(info[1], fn);
  auto a = float_array(info, 2, fn, "a"), b = float_array(info, 3, fn, "b"), y = float_array(info, 4, fn, "y");
  expect_length(y, convkit::broadcast_size(g), fn, "y");
  expect_length(a, convkit::broadcast_extent(g, g.a_stride), fn, "a");
  expect_length(b, convkit::broadcast_extent(g, g.b_stride), fn, "b");
  return {[=] { convkit::binary(convkit::BinaryOp(op), g, a.data, b.data, y.data); }, {}};
}

PreparedCall prepare_sum_axes(const Napi::CallbackInfo& info) {
  const char* fn = "sumAxes";
  const convkit::ReduceShape g = reduce_shape(info[0], fn);
  auto x = float_array(info, 1, fn, "x");
  const float beta = number(info[2], fn, "beta");
  auto y = float_array(info, 3, fn, "y");
  expect_length(x, convkit::reduce_input_size(g), fn, "x");
  expect_length(y, convkit::reduce_output_size(g), fn, "y");
  return {[=] { convkit::sum_axes(g, x.data, beta, y.data); }, {}};
}

PreparedCall prepare_clamp(const Napi::CallbackInfo& info) {
  const char* fn = "clamp";
  auto x = float_array(info, 0, fn, "x");
  const float lo = number(info[1], fn, "lo"), hi = number(info[2], fn, "hi");
  auto y = float_array(info, 3, fn, "y");
  expect_length(y, x.length, fn, "y");
  return {[=] { convkit::clamp(x.length, x.data, lo, hi, y.data); }, {}};
}

PreparedCall prepare_clamp_backward(const Napi::CallbackInfo& info) {
  const char* fn = "clampBackward";
  auto x = float_array(info, 0, fn, "x"), dy = float_array(info, 1, fn, "dy");
  const float lo = number(info[2], fn, "lo"), hi = number(info[3], fn, "hi");
  auto dx = float_array(info, 4, fn, "dx");
  expect_length(dy, x.length, fn, "dy");
  expect_length(dx, x.length, fn, "dx");
  return {[=] { convkit::clamp_backward(x.length, x.data, dy.data, lo, hi, dx.data); }, {}};
}

}  // namespace

void register_arith(Napi::Env env, Napi::Object exports) {
  exports.Set("binary", Napi::Function::New(env, expose_sync<prepare_binary>, "binary"));
  exports.Set("sumAxes", Napi::Function::New(env, expose_sync<prepare_sum_axes>, "sumAxes"));
  exports.Set("clamp", Napi::Function::New(env, expose_sync<prepare_clamp>, "clamp"));
  exports.Set("clampBackward", Napi::Function::New(env, expose_sync<prepare_clamp_backward>, "clampBackward"));
}

}  // namespace binding
