// Elementwise activations (relu, leakyRelu, sigmoid, tanh) and softmax / logSoftmax along the dim
// of [outer, dim, inner], with their backward passes, on device arrays; each family shares one wrapper.
#include <array>
#include <string>

#include "convkit_cuda/kernels.h"
#include "cuda_args.h"

namespace binding::cuda {
namespace {

using Forward = void (*)(const float*, float*, int64_t);
using Backward = void (*)(const float*, const float*, float*, int64_t);
using SlopeForward = void (*)(const float*, float*, int64_t, float);
using SlopeBackward = void (*)(const float*, const float*, float*, int64_t, float);
using AxisForward = void (*)(const float*, float*, int64_t, int64_t, int64_t);
using AxisBackward = void (*)(const float*, const float*, float*, int64_t, int64_t, int64_t);

// The first N arguments: float arrays of one common length, in order.
template <size_t N>
std::array<DevicePtr<float>, N> same_length_arrays(const Napi::CallbackInfo& info, const char* fn,
                                                   const std::array<const char*, N>& names) {
  std::array<DevicePtr<float>, N> arrays;
  for (size_t i = 0; i < N; ++i) {
    arrays[i] = floats(info[i], fn, names[i]);
    expect_length(arrays[i], arrays[0].length, fn, names[i]);
  }
  return arrays;
}

// Exposes body(info, name) as a synchronous function that queues its kernel, as expose() does.
template <class F>
void define(Napi::Env env, Napi::Object cuda, const char* name, F body) {
  cuda.Set(name, Napi::Function::New(env, [name, body](const Napi::CallbackInfo& info) -> Napi::Value {
    return guarded(info.Env(), [&] {
      body(info, name);
      return info.Env().Undefined();
    });
  }, name));
}

void define_unary(Napi::Env env, Napi::Object cuda, const char* name, Forward forward, const char* backward_name,
                  Backward backward, const char* saved) {
  define(env, cuda, name, [forward](const Napi::CallbackInfo& info, const char* fn) {
    auto [x, y] = same_length_arrays<2>(info, fn, {"x", "y"});
    forward(x.data, y.data, x.length);
  });
  define(env, cuda, backward_name, [backward, saved](const Napi::CallbackInfo& info, const char* fn) {
    auto [a, dy, dx] = same_length_arrays<3>(info, fn, {saved, "dy", "dx"});
    backward(a.data, dy.data, dx.data, a.length);
  });
}

void define_slope(Napi::Env env, Napi::Object cuda, const char* name, SlopeForward forward, const char* backward_name,
                  SlopeBackward backward) {
  define(env, cuda, name, [forward](const Napi::CallbackInfo& info, const char* fn) {
    auto [x, y] = same_length_arrays<2>(info, fn, {"x", "y"});
    forward(x.data, y.data, x.length, number(info[2], fn, "slope"));
  });
  define(env, cuda, backward_name, [backward](const Napi::CallbackInfo& info, const char* fn) {
    auto [x, dy, dx] = same_length_arrays<3>(info, fn, {"x", "dy", "dx"});
    backward(x.data, dy.data, dx.data, x.length, number(info[3], fn, "slope"));
  });
}

struct AxisView {
  int64_t outer, dim, inner;
};

int64_t at_least(const Napi::Value& v, int64_t min, const char* fn, const char* name) {
  int64_t value = integer(v, fn, name);
  if (value < min) {
    convkit::throw_range(std::string(fn) + ": " + name + " must be >= " + std::to_string(min) + ", got " +
                         std::to_string(value));
  }
  return value;
}

// outer, dim, inner from arguments first.., viewing an array of `length` elements.
AxisView axis_view(const Napi::CallbackInfo& info, size_t first, const char* fn, int64_t length) {
  AxisView v{at_least(info[first], 0, fn, "outer"), at_least(info[first + 1], 1, fn, "dim"),
             at_least(info[first + 2], 0, fn, "inner")};
  int64_t elements = checked_product({v.outer, v.dim, v.inner}, fn, "outer*dim*inner");
  if (elements != length) {
    convkit::throw_range(std::string(fn) + ": outer*dim*inner is " + std::to_string(elements) +
                         ", expected the array length " + std::to_string(length));
  }
  return v;
}

void define_axis(Napi::Env env, Napi::Object cuda, const char* name, AxisForward forward, const char* backward_name,
                 AxisBackward backward) {
  define(env, cuda, name, [forward](const Napi::CallbackInfo& info, const char* fn) {
    auto [x, y] = same_length_arrays<2>(info, fn, {"x", "y"});
    AxisView v = axis_view(info, 2, fn, x.length);
    forward(x.data, y.data, v.outer, v.dim, v.inner);
  });
  define(env, cuda, backward_name, [backward](const Napi::CallbackInfo& info, const char* fn) {
    auto [y, dy, dx] = same_length_arrays<3>(info, fn, {"y", "dy", "dx"});
    AxisView v = axis_view(info, 3, fn, y.length);
    backward(y.data, dy.data, dx.data, v.outer, v.dim, v.inner);
  });
}

}  // namespace

void register_activation(Napi::Env env, Napi::Object cuda) {
  namespace k = convkit::cuda;
  define_unary(env, cuda, "relu", k::relu_forward, "reluBackward", k::relu_backward, "x");
  define_unary(env, cuda, "sigmoid", k::sigmoid_forward, "sigmoidBackward", k::sigmoid_backward, "y");
  define_unary(env, cuda, "tanh", k::tanh_forward, "tanhBackward", k::tanh_backward, "y");
  define_slope(env, cuda, "leakyRelu", k::leaky_relu_forward, "leakyReluBackward", k::leaky_relu_backward);
  define_axis(env, cuda, "softmax", k::softmax_forward, "softmaxBackward", k::softmax_backward);
  define_axis(env, cuda, "logSoftmax", k::log_softmax_forward, "logSoftmaxBackward", k::log_softmax_backward);
}

}  // namespace binding::cuda
