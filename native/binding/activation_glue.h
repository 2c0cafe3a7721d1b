// The activation bindings (relu, leakyRelu, sigmoid, tanh, softmax, logSoftmax and their
// backward passes), written once for both storages. `Arrays::get` reads a float array argument
// (a Float32Array for the cpu kernels, a DeviceArray for cuda), and Kernels says which kernels
// run; the cpu and cuda registrations differ only in those two.
#pragma once
#include <napi.h>

#include <array>
#include <string>
#include <tuple>

#include "args.h"
#include "call.h"

namespace binding::activation_glue {

using Forward = void (*)(const float*, float*, int64_t);
using Backward = void (*)(const float*, const float*, float*, int64_t);
using SlopeForward = void (*)(const float*, float*, int64_t, float);
using SlopeBackward = void (*)(const float*, const float*, float*, int64_t, float);
using AxisForward = void (*)(const float*, float*, int64_t, int64_t, int64_t);
using AxisBackward = void (*)(const float*, const float*, float*, int64_t, int64_t, int64_t);

struct Kernels {
  Forward relu, sigmoid, tanh;
  Backward relu_backward, sigmoid_backward, tanh_backward;
  SlopeForward leaky_relu;
  SlopeBackward leaky_relu_backward;
  AxisForward softmax, log_softmax;
  AxisBackward softmax_backward, log_softmax_backward;
};

// The first N arguments: float arrays of one common length, in order.
template <class Arrays, size_t N>
auto same_length_arrays(const Napi::CallbackInfo& info, const char* fn, const std::array<const char*, N>& names) {
  std::array<decltype(Arrays::get(info, 0, fn, "")), N> arrays;
  for (size_t i = 0; i < N; ++i) {
    arrays[i] = Arrays::get(info, i, fn, names[i]);
    if (i > 0) expect_length(arrays[i], arrays[0].length, fn, names[i]);
  }
  return arrays;
}

// Exposes body(info, name) as a function that runs (or queues) its kernel and returns undefined.
template <class F>
void define(Napi::Env env, Napi::Object exports, const char* name, F body) {
  exports.Set(name, Napi::Function::New(env, [name, body](const Napi::CallbackInfo& info) -> Napi::Value {
    return guarded(info.Env(), [&] {
      body(info, name);
      return info.Env().Undefined();
    });
  }, name));
}

struct AxisView {
  int64_t outer, dim, inner;
};

// outer, dim, inner from arguments first.., viewing an array of `length` elements.
inline AxisView axis_view(const Napi::CallbackInfo& info, size_t first, const char* fn, int64_t length) {
  AxisView v{integer(info[first], fn, "outer"), integer(info[first + 1], fn, "dim"), integer(info[first + 2], fn, "inner")};
  if (v.outer < 0 || v.dim < 1 || v.inner < 0) {
    throw Napi::RangeError::New(info.Env(), std::string(fn) + ": outer, dim and inner must be non-negative (dim >= 1)");
  }
  if (checked_product({v.outer, v.dim, v.inner}, fn, "view") != length) {
    throw Napi::RangeError::New(info.Env(), std::string(fn) + ": outer*dim*inner does not match the array length " + std::to_string(length));
  }
  return v;
}

template <class Arrays>
void define_unary(Napi::Env env, Napi::Object exports, const char* name, Forward forward, const char* backward_name,
                  Backward backward, const char* saved) {
  define(env, exports, name, [forward](const Napi::CallbackInfo& info, const char* fn) {
    auto [x, y] = same_length_arrays<Arrays, 2>(info, fn, {"x", "y"});
    forward(x.data, y.data, x.length);
  });
  define(env, exports, backward_name, [backward, saved](const Napi::CallbackInfo& info, const char* fn) {
    auto [a, dy, dx] = same_length_arrays<Arrays, 3>(info, fn, {saved, "dy", "dx"});
    backward(a.data, dy.data, dx.data, a.length);
  });
}

template <class Arrays>
void register_all(Napi::Env env, Napi::Object exports, const Kernels& k) {
  define_unary<Arrays>(env, exports, "relu", k.relu, "reluBackward", k.relu_backward, "x");
  define_unary<Arrays>(env, exports, "sigmoid", k.sigmoid, "sigmoidBackward", k.sigmoid_backward, "y");
  define_unary<Arrays>(env, exports, "tanh", k.tanh, "tanhBackward", k.tanh_backward, "y");
  define(env, exports, "leakyRelu", [f = k.leaky_relu](const Napi::CallbackInfo& info, const char* fn) {
    auto [x, y] = same_length_arrays<Arrays, 2>(info, fn, {"x", "y"});
    f(x.data, y.data, x.length, number(info[2], fn, "slope"));
  });
  define(env, exports, "leakyReluBackward", [f = k.leaky_relu_backward](const Napi::CallbackInfo& info, const char* fn) {
    auto [x, dy, dx] = same_length_arrays<Arrays, 3>(info, fn, {"x", "dy", "dx"});
    f(x.data, dy.data, dx.data, x.length, number(info[3], fn, "slope"));
  });
  for (auto [name, forward, backward_name, backward] :
       {std::tuple{"softmax", k.softmax, "softmaxBackward", k.softmax_backward},
        std::tuple{"logSoftmax", k.log_softmax, "logSoftmaxBackward", k.log_softmax_backward}}) {
    define(env, exports, name, [f = forward](const Napi::CallbackInfo& info, const char* fn) {
      auto [x, y] = same_length_arrays<Arrays, 2>(info, fn, {"x", "y"});
      AxisView v = axis_view(info, 2, fn, x.length);
      f(x.data, y.data, v.outer, v.dim, v.inner);
    });
    define(env, exports, backward_name, [f = backward](const Napi::CallbackInfo& info, const char* fn) {
      auto [y, dy, dx] = same_length_arrays<Arrays, 3>(info, fn, {"y", "dy", "dx"});
      AxisView v = axis_view(info, 3, fn, y.length);
      f(y.data, dy.data, dx.data, v.outer, v.dim, v.inner);
    });
  }
}

}  // namespace binding::activation_glue
