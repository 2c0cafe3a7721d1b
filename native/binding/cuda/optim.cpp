// Optimizer updates on device arrays, one fused pass per parameter:
// sgdStep(param, grad, buf|null, o), adamStep(param, grad, expAvg, expAvgSq, maxExpAvgSq|null, o),
// rmspropStep(param, grad, squareAvg, momentumBuffer|null, gradAvg|null, o), where o holds the
// SgdStepOptions / AdamStepOptions / RmspropStepOptions fields of lib/backend/types.ts.
#include "../optim_options.h"
#include "convkit_cuda/kernels.h"
#include "cuda_args.h"

namespace binding::cuda {
namespace {

// param and grad, of one length.
struct Buffers {
  DevicePtr<float> param, grad;
};

Buffers param_and_grad(const Napi::CallbackInfo& info, const char* fn) {
  Buffers b{floats(info[0], fn, "param"), floats(info[1], fn, "grad")};
  expect_length(b.grad, b.param.length, fn, "grad");
  return b;
}

// A state buffer of param's length; an optional one may be null.
DevicePtr<float> state(const Napi::Value& v, bool optional, int64_t length, const char* fn, const char* name) {
  auto p = optional ? optional_floats(v, fn, name) : floats(v, fn, name);
  expect_length(p, length, fn, name);
  return p;
}

void sgd_step(const Napi::CallbackInfo& info) {
  const char* fn = "sgdStep";
  Buffers b = param_and_grad(info, fn);
  auto buf = state(info[2], true, b.param.length, fn, "buf");
  const convkit::SgdStep o = sgd_options(object(info, 3, fn, "options"), buf.present, fn);
  convkit::cuda::sgd_step(o, b.param.data, b.grad.data, buf.data, b.param.length);
}

void adam_step(const Napi::CallbackInfo& info) {
  const char* fn = "adamStep";
  Buffers b = param_and_grad(info, fn);
  auto exp_avg = state(info[2], false, b.param.length, fn, "expAvg");
  auto exp_avg_sq = state(info[3], false, b.param.length, fn, "expAvgSq");
  auto max_exp_avg_sq = state(info[4], true, b.param.length, fn, "maxExpAvgSq");
  const convkit::AdamStep o = adam_options(object(info, 5, fn, "options"), fn);
  convkit::cuda::adam_step(o, b.param.data, b.grad.data, exp_avg.data, exp_avg_sq.data, max_exp_avg_sq.data,
                           b.param.length);
}

void rmsprop_step(const Napi::CallbackInfo& info) {
  const char* fn = "rmspropStep";
  Buffers b = param_and_grad(info, fn);
  auto square_avg = state(info[2], false, b.param.length, fn, "squareAvg");
  auto momentum_buffer = state(info[3], true, b.param.length, fn, "momentumBuffer");
  auto grad_avg = state(info[4], true, b.param.length, fn, "gradAvg");
  const convkit::RmspropStep o = rmsprop_options(object(info, 5, fn, "options"), momentum_buffer.present, fn);
  convkit::cuda::rmsprop_step(o, b.param.data, b.grad.data, square_avg.data, momentum_buffer.data, grad_avg.data,
                              b.param.length);
}

}  // namespace

void register_optim(Napi::Env env, Napi::Object cuda) {
  cuda.Set("sgdStep", Napi::Function::New(env, expose<sgd_step>, "sgdStep"));
  cuda.Set("adamStep", Napi::Function::New(env, expose<adam_step>, "adamStep"));
  cuda.Set("rmspropStep", Napi::Function::New(env, expose<rmsprop_step>, "rmspropStep"));
}

}  // namespace binding::cuda
