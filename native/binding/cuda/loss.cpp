// The losses on device arrays. Forward passes write per-item losses (when wanted) and
// total[0] = scale * sum on the device, so nothing waits for the GPU; backward passes take dy as
// one value or one per item. Signatures as the Backend contract (lib/backend/types.ts).
#include <string>

#include "convkit_cuda/kernels.h"
#include "cuda_args.h"

namespace binding::cuda {
namespace {

struct Problem {
  int64_t n, c;
};

// n (>= 0) and c (>= 1) from arguments first, first + 1.
Problem problem(const Napi::CallbackInfo& info, size_t first, const char* fn) {
  Problem p{integer(info[first], fn, "n"), integer(info[first + 1], fn, "c")};
  if (p.n < 0) convkit::throw_range(std::string(fn) + ": n must be >= 0, got " + std::to_string(p.n));
  if (p.c < 1) convkit::throw_range(std::string(fn) + ": c must be >= 1, got " + std::to_string(p.c));
  return p;
}

// dy is one value ('mean', 'sum') or one per item ('none').
void expect_dy(const DevicePtr<float>& dy, int64_t items, const char* fn) {
  if (dy.length != 1 && dy.length != items) {
    convkit::throw_range(std::string(fn) + ": dy has " + std::to_string(dy.length) + " elements, expected 1 or " +
                         std::to_string(items));
  }
}

// posWeight, when given, is read cyclically, so it needs at least one value.
DevicePtr<float> pos_weight(const Napi::Value& v, const char* fn) {
  auto pw = optional_floats(v, fn, "posWeight");
  if (pw.present && pw.length < 1) convkit::throw_range(std::string(fn) + ": posWeight must not be empty");
  return pw;
}

void cross_entropy(const Napi::CallbackInfo& info) {
  const char* fn = "crossEntropy";
  auto logits = floats(info[0], fn, "logits");
  auto labels = ints(info[1], fn, "labels");
  Problem p = problem(info, 2, fn);
  auto probs = floats(info[4], fn, "probs"), total = floats(info[5], fn, "total");
  float scale = number(info[6], fn, "scale");
  expect_length(logits, checked_product({p.n, p.c}, fn, "logits"), fn, "logits");
  expect_length(labels, p.n, fn, "labels");
  expect_length(probs, logits.length, fn, "probs");
  expect_length(total, 1, fn, "total");
  convkit::cuda::cross_entropy_forward(logits.data, labels.data, p.n, p.c, probs.data, total.data, scale);
}

void cross_entropy_backward(const Napi::CallbackInfo& info) {
  const char* fn = "crossEntropyBackward";
  auto probs = floats(info[0], fn, "probs");
  auto labels = ints(info[1], fn, "labels");
  Problem p = problem(info, 2, fn);
  auto dy = floats(info[4], fn, "dy");
  float scale = number(info[5], fn, "scale");
  auto dlogits = floats(info[6], fn, "dlogits");
  expect_length(probs, checked_product({p.n, p.c}, fn, "probs"), fn, "probs");
  expect_length(labels, p.n, fn, "labels");
  expect_length(dy, 1, fn, "dy");
  expect_length(dlogits, probs.length, fn, "dlogits");
  convkit::cuda::cross_entropy_backward(probs.data, labels.data, p.n, p.c, dy.data, scale, dlogits.data);
}

void cross_entropy_soft(const Napi::CallbackInfo& info) {
  const char* fn = "crossEntropySoft";
  auto logits = floats(info[0], fn, "logits"), target = floats(info[1], fn, "target");
  Problem p = problem(info, 2, fn);
  auto probs = floats(info[4], fn, "probs");
  auto losses = optional_floats(info[5], fn, "losses"), total = optional_floats(info[6], fn, "total");
  float scale = number(info[7], fn, "scale");
  expect_length(logits, checked_product({p.n, p.c}, fn, "logits"), fn, "logits");
  expect_length(target, logits.length, fn, "target");
  expect_length(probs, logits.length, fn, "probs");
  expect_length(losses, p.n, fn, "losses");
  expect_length(total, 1, fn, "total");
  convkit::cuda::cross_entropy_soft_forward(logits.data, target.data, p.n, p.c, probs.data, losses.data, total.data,
                                            scale);
}

void cross_entropy_soft_backward(const Napi::CallbackInfo& info) {
  const char* fn = "crossEntropySoftBackward";
  auto probs = floats(info[0], fn, "probs"), target = floats(info[1], fn, "target");
  Problem p = problem(info, 2, fn);
  auto dy = floats(info[4], fn, "dy");
  float scale = number(info[5], fn, "scale");
  auto dlogits = floats(info[6], fn, "dlogits");
  expect_length(probs, checked_product({p.n, p.c}, fn, "probs"), fn, "probs");
  expect_length(target, probs.length, fn, "target");
  expect_dy(dy, p.n, fn);
  expect_length(dlogits, probs.length, fn, "dlogits");
  convkit::cuda::cross_entropy_soft_backward(probs.data, target.data, p.n, p.c, dy.data, dy.length, scale,
                                             dlogits.data);
}

void nll_loss(const Napi::CallbackInfo& info) {
  const char* fn = "nllLoss";
  auto log_probs = floats(info[0], fn, "logProbs");
  auto labels = ints(info[1], fn, "labels");
  Problem p = problem(info, 2, fn);
  auto losses = optional_floats(info[4], fn, "losses"), total = optional_floats(info[5], fn, "total");
  float scale = number(info[6], fn, "scale");
  expect_length(log_probs, checked_product({p.n, p.c}, fn, "logProbs"), fn, "logProbs");
  expect_length(labels, p.n, fn, "labels");
  expect_length(losses, p.n, fn, "losses");
  expect_length(total, 1, fn, "total");
  convkit::cuda::nll_loss_forward(log_probs.data, labels.data, p.n, p.c, losses.data, total.data, scale);
}

void nll_loss_backward(const Napi::CallbackInfo& info) {
  const char* fn = "nllLossBackward";
  auto labels = ints(info[0], fn, "labels");
  Problem p = problem(info, 1, fn);
  auto dy = floats(info[3], fn, "dy");
  float scale = number(info[4], fn, "scale");
  auto dlog_probs = floats(info[5], fn, "dlogProbs");
  expect_length(labels, p.n, fn, "labels");
  expect_dy(dy, p.n, fn);
  expect_length(dlog_probs, checked_product({p.n, p.c}, fn, "dlogProbs"), fn, "dlogProbs");
  convkit::cuda::nll_loss_backward(labels.data, p.n, p.c, dy.data, dy.length, scale, dlog_probs.data);
}

void mse_loss(const Napi::CallbackInfo& info) {
  const char* fn = "mseLoss";
  auto input = floats(info[0], fn, "input"), target = floats(info[1], fn, "target");
  auto losses = optional_floats(info[2], fn, "losses"), total = optional_floats(info[3], fn, "total");
  float scale = number(info[4], fn, "scale");
  expect_length(target, input.length, fn, "target");
  expect_length(losses, input.length, fn, "losses");
  expect_length(total, 1, fn, "total");
  convkit::cuda::mse_loss_forward(input.data, target.data, input.length, losses.data, total.data, scale);
}

void mse_loss_backward(const Napi::CallbackInfo& info) {
  const char* fn = "mseLossBackward";
  auto input = floats(info[0], fn, "input"), target = floats(info[1], fn, "target");
  auto dy = floats(info[2], fn, "dy");
  float scale = number(info[3], fn, "scale");
  auto dinput = optional_floats(info[4], fn, "dinput"), dtarget = optional_floats(info[5], fn, "dtarget");
  expect_length(target, input.length, fn, "target");
  expect_dy(dy, input.length, fn);
  expect_length(dinput, input.length, fn, "dinput");
  expect_length(dtarget, input.length, fn, "dtarget");
  convkit::cuda::mse_loss_backward(input.data, target.data, input.length, dy.data, dy.length, scale, dinput.data,
                                   dtarget.data);
}

void bce_with_logits(const Napi::CallbackInfo& info) {
  const char* fn = "bceWithLogits";
  auto logits = floats(info[0], fn, "logits"), target = floats(info[1], fn, "target");
  auto pw = pos_weight(info[2], fn);
  auto losses = optional_floats(info[3], fn, "losses"), total = optional_floats(info[4], fn, "total");
  float scale = number(info[5], fn, "scale");
  expect_length(target, logits.length, fn, "target");
  expect_length(losses, logits.length, fn, "losses");
  expect_length(total, 1, fn, "total");
  convkit::cuda::bce_with_logits_forward(logits.data, target.data, logits.length, pw.data, pw.length, losses.data,
                                         total.data, scale);
}

void bce_with_logits_backward(const Napi::CallbackInfo& info) {
  const char* fn = "bceWithLogitsBackward";
  auto logits = floats(info[0], fn, "logits"), target = floats(info[1], fn, "target");
  auto pw = pos_weight(info[2], fn);
  auto dy = floats(info[3], fn, "dy");
  float scale = number(info[4], fn, "scale");
  auto dlogits = optional_floats(info[5], fn, "dlogits"), dtarget = optional_floats(info[6], fn, "dtarget");
  expect_length(target, logits.length, fn, "target");
  expect_dy(dy, logits.length, fn);
  expect_length(dlogits, logits.length, fn, "dlogits");
  expect_length(dtarget, logits.length, fn, "dtarget");
  convkit::cuda::bce_with_logits_backward(logits.data, target.data, logits.length, pw.data, pw.length, dy.data,
                                          dy.length, scale, dlogits.data, dtarget.data);
}

}  // namespace

void register_loss(Napi::Env env, Napi::Object cuda) {
  cuda.Set("crossEntropy", Napi::Function::New(env, expose<cross_entropy>, "crossEntropy"));
  cuda.Set("crossEntropyBackward", Napi::Function::New(env, expose<cross_entropy_backward>, "crossEntropyBackward"));
  cuda.Set("crossEntropySoft", Napi::Function::New(env, expose<cross_entropy_soft>, "crossEntropySoft"));
  cuda.Set("crossEntropySoftBackward",
           Napi::Function::New(env, expose<cross_entropy_soft_backward>, "crossEntropySoftBackward"));
  cuda.Set("nllLoss", Napi::Function::New(env, expose<nll_loss>, "nllLoss"));
  cuda.Set("nllLossBackward", Napi::Function::New(env, expose<nll_loss_backward>, "nllLossBackward"));
  cuda.Set("mseLoss", Napi::Function::New(env, expose<mse_loss>, "mseLoss"));
  cuda.Set("mseLossBackward", Napi::Function::New(env, expose<mse_loss_backward>, "mseLossBackward"));
  cuda.Set("bceWithLogits", Napi::Function::New(env, expose<bce_with_logits>, "bceWithLogits"));
  cuda.Set("bceWithLogitsBackward",
           Napi::Function::New(env, expose<bce_with_logits_backward>, "bceWithLogitsBackward"));
}

}  // namespace binding::cuda
