// batchNorm2dStats(x, n, c, hw, mean, variance),
// batchNorm2dForward(x, n, c, hw, mean, invStd, weight|null, bias|null, y),
// batchNorm2dBackward(x, dy, n, c, hw, mean, invStd, weight|null, training, dx|null, dweight|null, dbias|null).
#include <string>

#include "args.h"
#include "call.h"
#include "convkit/batchnorm.h"

namespace binding {
namespace {

convkit::BatchNormShape shape(const Napi::CallbackInfo& info, size_t first, const char* fn) {
  convkit::BatchNormShape s{integer(info[first], fn, "n"), integer(info[first + 1], fn, "c"), integer(info[first + 2], fn, "hw")};
  if (s.n < 0 || s.c < 0 || s.hw < 0) throw Napi::RangeError::New(info.Env(), std::string(fn) + ": n, c and hw must be non-negative");
  return s;
}

// Each present array among per-channel vectors must hold c values.
void expect_channels(std::initializer_list<std::pair<const Span<float>*, const char*>> arrays, int64_t c, const char* fn) {
  for (auto [span, name] : arrays)
    if (span->present()) expect_length(*span, c, fn, name);
}

PreparedCall prepare_stats(const Napi::CallbackInfo& info) {
  const char* fn = "batchNorm2dStats";
  auto x = float_array(info, 0, fn, "x");
  convkit::BatchNormShape s = shape(info, 1, fn);
  auto mean = float_array(info, 4, fn, "mean"), variance = float_array(info, 5, fn, "variance");
  expect_length(x, checked_product({s.n, s.c, s.hw}, fn, "x"), fn, "x");
  expect_channels({{&mean, "mean"}, {&variance, "variance"}}, s.c, fn);
  return {[=] { convkit::batch_norm_stats(s, x.data, mean.data, variance.data); }, {}};
}

PreparedCall prepare_forward(const Napi::CallbackInfo& info) {
  const char* fn = "batchNorm2dForward";
  auto x = float_array(info, 0, fn, "x");
  convkit::BatchNormShape s = shape(info, 1, fn);
  auto mean = float_array(info, 4, fn, "mean"), inv_std = float_array(info, 5, fn, "invStd");
  auto weight = optional_float_array(info, 6, fn, "weight"), bias = optional_float_array(info, 7, fn, "bias");
  auto y = float_array(info, 8, fn, "y");
  expect_length(x, checked_product({s.n, s.c, s.hw}, fn, "x"), fn, "x");
  expect_length(y, x.length, fn, "y");
  expect_channels({{&mean, "mean"}, {&inv_std, "invStd"}, {&weight, "weight"}, {&bias, "bias"}}, s.c, fn);
  return {[=] { convkit::batch_norm_forward(s, x.data, mean.data, inv_std.data, weight.data, bias.data, y.data); }, {}};
}

PreparedCall prepare_backward(const Napi::CallbackInfo& info) {
  const char* fn = "batchNorm2dBackward";
  auto x = float_array(info, 0, fn, "x"), dy = float_array(info, 1, fn, "dy");
  convkit::BatchNormShape s = shape(info, 2, fn);
  auto mean = float_array(info, 5, fn, "mean"), inv_std = float_array(info, 6, fn, "invStd");
  auto weight = optional_float_array(info, 7, fn, "weight");
  bool training = boolean(info[8], fn, "training");
  auto dx = optional_float_array(info, 9, fn, "dx");
  auto dweight = optional_float_array(info, 10, fn, "dweight"), dbias = optional_float_array(info, 11, fn, "dbias");
  expect_length(x, checked_product({s.n, s.c, s.hw}, fn, "x"), fn, "x");
  expect_length(dy, x.length, fn, "dy");
  if (dx.present()) expect_length(dx, x.length, fn, "dx");
  expect_channels({{&mean, "mean"}, {&inv_std, "invStd"}, {&weight, "weight"}, {&dweight, "dweight"}, {&dbias, "dbias"}},
                  s.c, fn);
  return {[=] {
            convkit::batch_norm_backward(s, x.data, dy.data, mean.data, inv_std.data, weight.data, training, dx.data,
                                         dweight.data, dbias.data);
          },
          {}};
}

}  // namespace

void register_batchnorm(Napi::Env env, Napi::Object exports) {
  exports.Set("batchNorm2dStats", Napi::Function::New(env, expose_sync<prepare_stats>, "batchNorm2dStats"));
  exports.Set("batchNorm2dForward", Napi::Function::New(env, expose_sync<prepare_forward>, "batchNorm2dForward"));
  exports.Set("batchNorm2dBackward", Napi::Function::New(env, expose_sync<prepare_backward>, "batchNorm2dBackward"));
}

}  // namespace binding
