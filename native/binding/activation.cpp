// Elementwise activations and softmax along an axis; each family shares one wrapper.
#include <array>
#include <string>

#include "args.h"
#include "call.h"
#include "convkit/activation.h"

namespace binding {
namespace {

using Forward = void (*)(const float*, float*, int64_t);
using Backward = void (*)(const float*, const float*, float*, int64_t);
using SlopeForward = void (*)(const float*, float*, int64_t, float);
using SlopeBackward = void (*)(const float*, const float*, float*, int64_t, float);
using AxisForward = void (*)(const float*, float*, int64_t, int64_t, int64_t);
using AxisBackward = void (*)(const float*, const float*, float*, int64_t, int64_t, int64_t);

// Checks (input..., output) arrays of one common length; returns them in order.
template <size_t N>
std::array<Span<float>, N> same_length_arrays(const Napi::CallbackInfo& info, const char* fn,
                                              const std::array<const char*, N>& names) {
  std::array<Span<float>, N> arrays;
  for (size_t i = 0; i < N; ++i) {
    arrays[i] = float_array(info, i, fn, names[i]);
    if (i > 0) expect_length(arrays[i], arrays[0].length, fn, names[i]);
  }
  return arrays;
}

template <class F>
void define(Napi::Env env, Napi::Object exports, const char* name, F body) {
  exports.Set(name, Napi::Function::New(env, [name, body](const Napi::CallbackInfo& info) -> Napi::Value {
    return guarded(info.Env(), [&] {
      body(info, name);
      return info.Env().Undefined();
    });
  }, name));
}

void define_unary(Napi::Env env, Napi::Object exports, const char* name, Forward forward, const char* backward_name,
                  Backward backward, const char* saved) {
  define(env, exports, name, [forward](const Napi::CallbackInfo& info, const char* fn) {
    auto [x, y] = same_length_arrays<2>(info, fn, {"x", "y"});
    forward(x.data, y.data, x.length);
  });
  define(env, exports, backward_name, [backward, saved](const Napi::CallbackInfo& info, const char* fn) {
    auto [a, dy, dx] = same_length_arrays<3>(info, fn, {saved, "dy", "dx"});
    backward(a.data, dy.data, dx.data, a.length);
  });
}

void define_slope(Napi::Env env, Napi::Object exports, const char* name, SlopeForward forward,
                  const char* backward_name, SlopeBackward backward) {
  define(env, exports, name, [forward](const Napi::CallbackInfo& info, const char* fn) {
    auto [x, y] = same_length_arrays<2>(info, fn, {"x", "y"});
    forward(x.data, y.data, x.length, number(info[2], fn, "slope"));
  });
  define(env, exports, backward_name, [backward](const Napi::CallbackInfo& info, const char* fn) {
    auto [x, dy, dx] = same_length_arrays<3>(info, fn, {"x", "dy", "dx"});
    backward(x.data, dy.data, dx.data, x.length, number(info[3], fn, "slope"));
  });
}

struct AxisView {
  int64_t outer, dim, inner;
};

AxisView axis_view(const Napi::CallbackInfo& info, size_t first, const char* fn, int64_t length) {
  AxisView v{integer(info[first], fn, "outer"), integer(info[first + 1], fn, "dim"), integer(info[first + 2], fn, "inner")};
  if (v.outer < 0 || v.dim < 1 || v.inner < 0) throw Napi::RangeError::New(info.Env(), std::string(fn) + ": outer, dim and inner must be non-negative (dim >= 1)");
  if (checked_product({v.outer, v.dim, v.inner}, fn, "view") != length) {
    throw Napi::RangeError::New(info.Env(), std::string(fn) + ": outer*dim*inner does not match the array length " + std::to_string(length));
  }
  return v;
}

void define_axis(Napi::Env env, Napi::Object exports, const char* name, AxisForward forward, const char* backward_name,
                 AxisBackward backward) {
  define(env, exports, name, [forward](const Napi::CallbackInfo& info, const char* fn) {
    auto [x, y] = same_length_arrays<2>(info, fn, {"x", "y"});
    AxisView v = axis_view(info, 2, fn, x.length);
    forward(x.data, y.data, v.outer, v.dim, v.inner);
  });
  define(env, exports, backward_name, [backward](const Napi::CallbackInfo& info, const char* fn) {
    auto [y, dy, dx] = same_length_arrays<3>(info, fn, {"y", "dy", "dx"});
    AxisView v = axis_view(info, 3, fn, y.length);
    backward(y.data, dy.data, dx.data, v.outer, v.dim, v.inner);
  });
}

}  // namespace

void register_activation(Napi::Env env, Napi::Object exports) {
  define_unary(env, exports, "relu", convkit::relu_forward, "reluBackward", convkit::relu_backward, "x");
  define_unary(env, exports, "sigmoid", convkit::sigmoid_forward, "sigmoidBackward", convkit::sigmoid_backward, "y");
  define_unary(env, exports, "tanh", convkit::tanh_forward, "tanhBackward", convkit::tanh_backward, "y");
  define_slope(env, exports, "leakyRelu", convkit::leaky_relu_forward, "leakyReluBackward", convkit::leaky_relu_backward);
  define_axis(env, exports, "softmax", convkit::softmax_forward, "softmaxBackward", convkit::softmax_backward);
  define_axis(env, exports, "logSoftmax", convkit::log_softmax_forward, "logSoftmaxBackward", convkit::log_softmax_backward);
}

}  // namespace binding
