// Optimizer updates on Float32Arrays, one fused pass per parameter:
// sgdStep(param, grad, buf|null, o), adamStep(param, grad, expAvg, expAvgSq, maxExpAvgSq|null, o),
// rmspropStep(param, grad, squareAvg, momentumBuffer|null, gradAvg|null, o), where o holds the
// SgdStepOptions / AdamStepOptions / RmspropStepOptions fields of lib/backend/types.ts.
// Synchronous: an update is one memory-bound pass, shorter than a trip to the libuv pool.
#include "args.h"
#include "call.h"
#include "optim_options.h"

namespace binding {
namespace {

struct Buffers {
  Span<float> param, grad;
};

Buffers param_and_grad(const Napi::CallbackInfo& info, const char* fn) {
  Buffers b{float_array(info, 0, fn, "param"), float_array(info, 1, fn, "grad")};
  expect_length(b.grad, b.param.length, fn, "grad");
  return b;
}

// A state buffer of param's length; an optional one may be null.
Span<float> state(const Napi::CallbackInfo& info, size_t index, bool optional, int64_t length, const char* fn,
                  const char* name) {
  auto s = optional ? optional_float_array(info, index, fn, name) : float_array(info, index, fn, name);
  if (s.present()) expect_length(s, length, fn, name);
  return s;
}

PreparedCall prepare_sgd(const Napi::CallbackInfo& info) {
  const char* fn = "sgdStep";
  Buffers b = param_and_grad(info, fn);
  auto buf = state(info, 2, true, b.param.length, fn, "buf");
  const convkit::SgdStep o = sgd_options(object(info, 3, fn, "options"), buf.present(), fn);
  return {[=] { convkit::sgd_step(o, b.param.data, b.grad.data, buf.data, b.param.length); }, {}};
}

PreparedCall prepare_adam(const Napi::CallbackInfo& info) {
  const char* fn = "adamStep";
  Buffers b = param_and_grad(info, fn);
  auto exp_avg = state(info, 2, false, b.param.length, fn, "expAvg");
  auto exp_avg_sq = state(info, 3, false, b.param.length, fn, "expAvgSq");
  auto max_exp_avg_sq = state(info, 4, true, b.param.length, fn, "maxExpAvgSq");
  const convkit::AdamStep o = adam_options(object(info, 5, fn, "options"), fn);
  return {[=] {
            convkit::adam_step(o, b.param.data, b.grad.data, exp_avg.data, exp_avg_sq.data, max_exp_avg_sq.data,
                               b.param.length);
          },
          {}};
}

PreparedCall prepare_rmsprop(const Napi::CallbackInfo& info) {
  const char* fn = "rmspropStep";
  Buffers b = param_and_grad(info, fn);
  auto square_avg = state(info, 2, false, b.param.length, fn, "squareAvg");
  auto momentum_buffer = state(info, 3, true, b.param.length, fn, "momentumBuffer");
  auto grad_avg = state(info, 4, true, b.param.length, fn, "gradAvg");
  const convkit::RmspropStep o = rmsprop_options(object(info, 5, fn, "options"), momentum_buffer.present(), fn);
  return {[=] {
            convkit::rmsprop_step(o, b.param.data, b.grad.data, square_avg.data, momentum_buffer.data, grad_avg.data,
                                  b.param.length);
          },
          {}};
}

}  // namespace

void register_optim(Napi::Env env, Napi::Object exports) {
  exports.Set("sgdStep", Napi::Function::New(env, expose_sync<prepare_sgd>, "sgdStep"));
  exports.Set("adamStep", Napi::Function::New(env, expose_sync<prepare_adam>, "adamStep"));
  exports.Set("rmspropStep", Napi::Function::New(env, expose_sync<prepare_rmsprop>, "rmspropStep"));
}

}  // namespace binding
