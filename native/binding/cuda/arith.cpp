// Broadcasting arithmetic, sums over axes and clamp on device arrays, with the Backend
// contract's argument order (see native/binding/arith.cpp for the host twin).
#include <string>

#include "convkit_cuda/kernels.h"
#include "cuda_args.h"

namespace binding::cuda {
namespace {

void binary(const Napi::CallbackInfo& info) {
  const char* fn = "binary";
  const int64_t op = integer(info[0], fn, "op");
  if (op < 0 || op > 3)
    convkit::throw_range(std::string(fn) + ": op must be 0..3 (add, sub, mul, div), got " + std::to_string(op));
  const convkit::BroadcastShape g = broadcast_shape(info[1], fn);
  auto a = floats(info[2], fn, "a"), b = floats(info[3], fn, "b"), y = floats(info[4], fn, "y");
  expect_length(a, convkit::broadcast_extent(g, g.a_stride), fn, "a");
  expect_length(b, convkit::broadcast_extent(g, g.b_stride), fn, "b");
  expect_length(y, convkit::broadcast_size(g), fn, "y");
  convkit::cuda::binary(convkit::BinaryOp(op), g, a.data, b.data, y.data);
}

void sum_axes(const Napi::CallbackInfo& info) {
  const char* fn = "sumAxes";
  const convkit::ReduceShape g = reduce_shape(info[0], fn);
  auto x = floats(info[1], fn, "x");
  const float beta = number(info[2], fn, "beta");
  auto y = floats(info[3], fn, "y");
  expect_length(x, convkit::reduce_input_size(g), fn, "x");
  expect_length(y, convkit::reduce_output_size(g), fn, "y");
  convkit::cuda::sum_axes(g, x.data, beta, y.data);
}

void clamp(const Napi::CallbackInfo& info) {
  const char* fn = "clamp";
  auto x = floats(info[0], fn, "x");
  const float lo = number(info[1], fn, "lo"), hi = number(info[2], fn, "hi");
  auto y = floats(info[3], fn, "y");
  expect_length(y, x.length, fn, "y");
  convkit::cuda::clamp(x.length, x.data, lo, hi, y.data);
}

void clamp_backward(const Napi::CallbackInfo& info) {
  const char* fn = "clampBackward";
  auto x = floats(info[0], fn, "x"), dy = floats(info[1], fn, "dy");
  const float lo = number(info[2], fn, "lo"), hi = number(info[3], fn, "hi");
  auto dx = floats(info[4], fn, "dx");
  expect_length(dy, x.length, fn, "dy");
  expect_length(dx, x.length, fn, "dx");
  convkit::cuda::clamp_backward(x.length, x.data, dy.data, lo, hi, dx.data);
}

}  // namespace

void register_arith(Napi::Env env, Napi::Object cuda) {
  cuda.Set("binary", Napi::Function::New(env, expose<binary>, "binary"));
  cuda.Set("sumAxes", Napi::Function::New(env, expose<sum_axes>, "sumAxes"));
  cuda.Set("clamp", Napi::Function::New(env, expose<clamp>, "clamp"));
  cuda.Set("clampBackward", Napi::Function::New(env, expose<clamp_backward>, "clampBackward"));
}

}  // namespace binding::cuda
