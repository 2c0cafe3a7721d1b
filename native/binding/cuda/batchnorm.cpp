// Batch normalisation on device arrays, x viewed as [n, c, hw]:
// batchNorm2dTrainStats(x, n, c, hw, eps, momentum, mean, invStd, runningMean|null, runningVar|null),
// batchNorm2dEvalStats(c, runningMean, runningVar, eps, mean, invStd),
// batchNorm2dForward(x, n, c, hw, mean, invStd, weight|null, bias|null, y),
// batchNorm2dBackward(x, dy, n, c, hw, mean, invStd, weight|null, training, dx|null, dweight|null, dbias|null).
#include <string>
#include <utility>

#include "convkit_cuda/kernels.h"
#include "cuda_args.h"

namespace binding::cuda {
namespace {

int64_t non_negative(const Napi::Value& v, const char* fn, const char* name) {
  int64_t value = integer(v, fn, name);
  if (value < 0) convkit::throw_range(std::string(fn) + ": " + name + " must be >= 0, got " + std::to_string(value));
  return value;
}

// n, c, hw from arguments first..; x must hold n*c*hw values.
convkit::BatchNormShape shape(const Napi::CallbackInfo& info, size_t first, const char* fn,
                              const DevicePtr<float>& x) {
  convkit::BatchNormShape s{non_negative(info[first], fn, "n"), non_negative(info[first + 1], fn, "c"),
                            non_negative(info[first + 2], fn, "hw")};
  expect_length(x, checked_product({s.n, s.c, s.hw}, fn, "x"), fn, "x");
  return s;
}

// Each per-channel vector (null ones pass) must hold c values.
void expect_channels(std::initializer_list<std::pair<const DevicePtr<float>*, const char*>> arrays, int64_t c,
                     const char* fn) {
  for (auto [array, name] : arrays) expect_length(*array, c, fn, name);
}

void train_stats(const Napi::CallbackInfo& info) {
  const char* fn = "batchNorm2dTrainStats";
  auto x = floats(info[0], fn, "x");
  convkit::BatchNormShape s = shape(info, 1, fn, x);
  float eps = number(info[4], fn, "eps"), momentum = number(info[5], fn, "momentum");
  auto mean = floats(info[6], fn, "mean"), inv_std = floats(info[7], fn, "invStd");
  auto running_mean = optional_floats(info[8], fn, "runningMean");
  auto running_var = optional_floats(info[9], fn, "runningVar");
  // The host backends update the running statistics only as a pair.
  if (running_mean.present != running_var.present)
    convkit::throw_type(std::string(fn) + ": runningMean and runningVar must both be given or both be null");
  expect_channels({{&mean, "mean"}, {&inv_std, "invStd"}, {&running_mean, "runningMean"}, {&running_var, "runningVar"}},
                  s.c, fn);
  convkit::cuda::batch_norm_train_stats(s, x.data, eps, momentum, mean.data, inv_std.data, running_mean.data,
                                        running_var.data);
}

void eval_stats(const Napi::CallbackInfo& info) {
  const char* fn = "batchNorm2dEvalStats";
  int64_t c = non_negative(info[0], fn, "c");
  auto running_mean = floats(info[1], fn, "runningMean"), running_var = floats(info[2], fn, "runningVar");
  float eps = number(info[3], fn, "eps");
  auto mean = floats(info[4], fn, "mean"), inv_std = floats(info[5], fn, "invStd");
  expect_channels({{&running_mean, "runningMean"}, {&running_var, "runningVar"}, {&mean, "mean"}, {&inv_std, "invStd"}},
                  c, fn);
  convkit::cuda::batch_norm_eval_stats(c, running_mean.data, running_var.data, eps, mean.data, inv_std.data);
}

void forward(const Napi::CallbackInfo& info) {
  const char* fn = "batchNorm2dForward";
  auto x = floats(info[0], fn, "x");
  convkit::BatchNormShape s = shape(info, 1, fn, x);
  auto mean = floats(info[4], fn, "mean"), inv_std = floats(info[5], fn, "invStd");
  auto weight = optional_floats(info[6], fn, "weight"), bias = optional_floats(info[7], fn, "bias");
  auto y = floats(info[8], fn, "y");
  expect_length(y, x.length, fn, "y");
  expect_channels({{&mean, "mean"}, {&inv_std, "invStd"}, {&weight, "weight"}, {&bias, "bias"}}, s.c, fn);
  convkit::cuda::batch_norm_forward(s, x.data, mean.data, inv_std.data, weight.data, bias.data, y.data);
}

void backward(const Napi::CallbackInfo& info) {
  const char* fn = "batchNorm2dBackward";
  auto x = floats(info[0], fn, "x"), dy = floats(info[1], fn, "dy");
  convkit::BatchNormShape s = shape(info, 2, fn, x);
  auto mean = floats(info[5], fn, "mean"), inv_std = floats(info[6], fn, "invStd");
  auto weight = optional_floats(info[7], fn, "weight");
  bool training = boolean(info[8], fn, "training");
  auto dx = optional_floats(info[9], fn, "dx");
  auto dweight = optional_floats(info[10], fn, "dweight"), dbias = optional_floats(info[11], fn, "dbias");
  expect_length(dy, x.length, fn, "dy");
  expect_length(dx, x.length, fn, "dx");
  expect_channels(
      {{&mean, "mean"}, {&inv_std, "invStd"}, {&weight, "weight"}, {&dweight, "dweight"}, {&dbias, "dbias"}}, s.c, fn);
  convkit::cuda::batch_norm_backward(s, x.data, dy.data, mean.data, inv_std.data, weight.data, training, dx.data,
                                     dweight.data, dbias.data);
}

}  // namespace

void register_batchnorm(Napi::Env env, Napi::Object cuda) {
  cuda.Set("batchNorm2dTrainStats", Napi::Function::New(env, expose<train_stats>, "batchNorm2dTrainStats"));
  cuda.Set("batchNorm2dEvalStats", Napi::Function::New(env, expose<eval_stats>, "batchNorm2dEvalStats"));
  cuda.Set("batchNorm2dForward", Napi::Function::New(env, expose<forward>, "batchNorm2dForward"));
  cuda.Set("batchNorm2dBackward", Napi::Function::New(env, expose<backward>, "batchNorm2dBackward"));
}

}  // namespace binding::cuda
