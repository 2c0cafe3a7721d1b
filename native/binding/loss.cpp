// crossEntropy(logits, labels, n, c, probs) -> mean loss; crossEntropyBackward(probs, labels, n, c, scale, dlogits);
// and the soft-target cross-entropy, NLL, MSE and BCE-with-logits kernels (forward returns a sum).
#include <string>

#include "args.h"
#include "call.h"
#include "convkit/loss.h"

namespace binding {
namespace {

struct Problem {
  int64_t n, c;
};

Problem problem(const Napi::CallbackInfo& info, size_t first, const char* fn) {
  Problem p{integer(info[first], fn, "n"), integer(info[first + 1], fn, "c")};
  if (p.n < 0 || p.c < 1) throw Napi::RangeError::New(info.Env(), std::string(fn) + ": n must be >= 0 and c >= 1");
  return p;
}

Napi::Value cross_entropy(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&] {
    const char* fn = "crossEntropy";
    auto logits = float_array(info, 0, fn, "logits");
    auto labels = int32_array(info, 1, fn, "labels");
    Problem p = problem(info, 2, fn);
    auto probs = float_array(info, 4, fn, "probs");
    expect_length(logits, checked_product({p.n, p.c}, fn, "logits"), fn, "logits");
    expect_length(labels, p.n, fn, "labels");
    expect_length(probs, logits.length, fn, "probs");
    float loss = convkit::cross_entropy_forward(logits.data, labels.data, p.n, p.c, probs.data);
    return Napi::Number::New(info.Env(), loss);
  });
}

Napi::Value cross_entropy_backward(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&] {
    const char* fn = "crossEntropyBackward";
    auto probs = float_array(info, 0, fn, "probs");
    auto labels = int32_array(info, 1, fn, "labels");
    Problem p = problem(info, 2, fn);
    float scale = number(info[4], fn, "scale");
    auto dlogits = float_array(info, 5, fn, "dlogits");
    expect_length(probs, checked_product({p.n, p.c}, fn, "probs"), fn, "probs");
    expect_length(labels, p.n, fn, "labels");
    expect_length(dlogits, probs.length, fn, "dlogits");
    convkit::cross_entropy_backward(probs.data, labels.data, p.n, p.c, scale, dlogits.data);
    return info.Env().Undefined();
  });
}

// dy is one value (for 'mean' / 'sum') or one per item (for 'none').
void expect_dy(const Span<float>& dy, int64_t items, const char* fn) {
  if (dy.length != 1 && dy.length != items)
    throw Napi::RangeError::New(dy.owner.Env(), std::string(fn) + ": dy has " + std::to_string(dy.length) +
                                                    " elements, expected 1 or " + std::to_string(items));
}

// crossEntropySoft(logits, target, n, c, probs, losses|null) -> sum of row losses.
Napi::Value cross_entropy_soft(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&] {
    const char* fn = "crossEntropySoft";
    auto logits = float_array(info, 0, fn, "logits");
    auto target = float_array(info, 1, fn, "target");
    Problem p = problem(info, 2, fn);
    auto probs = float_array(info, 4, fn, "probs");
    auto losses = optional_float_array(info, 5, fn, "losses");
    expect_length(logits, checked_product({p.n, p.c}, fn, "logits"), fn, "logits");
    expect_length(target, logits.length, fn, "target");
    expect_length(probs, logits.length, fn, "probs");
    if (losses.present()) expect_length(losses, p.n, fn, "losses");
    double sum = convkit::cross_entropy_soft_forward(logits.data, target.data, p.n, p.c, probs.data,
                                                     losses.present() ? losses.data : nullptr);
    return Napi::Number::New(info.Env(), sum);
  });
}

// crossEntropySoftBackward(probs, target, n, c, dy, scale, dlogits).
Napi::Value cross_entropy_soft_backward(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&] {
    const char* fn = "crossEntropySoftBackward";
    auto probs = float_array(info, 0, fn, "probs");
    auto target = float_array(info, 1, fn, "target");
    Problem p = problem(info, 2, fn);
    auto dy = float_array(info, 4, fn, "dy");
    float scale = number(info[5], fn, "scale");
    auto dlogits = float_array(info, 6, fn, "dlogits");
    expect_length(probs, checked_product({p.n, p.c}, fn, "probs"), fn, "probs");
    expect_length(target, probs.length, fn, "target");
    expect_length(dlogits, probs.length, fn, "dlogits");
    expect_dy(dy, p.n, fn);
    convkit::cross_entropy_soft_backward(probs.data, target.data, p.n, p.c, dy.data, dy.length, scale, dlogits.data);
    return info.Env().Undefined();
  });
}

// nllLoss(logProbs, labels, n, c, losses|null) -> sum of row losses.
Napi::Value nll_loss(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&] {
    const char* fn = "nllLoss";
    auto log_probs = float_array(info, 0, fn, "logProbs");
    auto labels = int32_array(info, 1, fn, "labels");
    Problem p = problem(info, 2, fn);
    auto losses = optional_float_array(info, 4, fn, "losses");
    expect_length(log_probs, checked_product({p.n, p.c}, fn, "logProbs"), fn, "logProbs");
    expect_length(labels, p.n, fn, "labels");
    if (losses.present()) expect_length(losses, p.n, fn, "losses");
    double sum = convkit::nll_loss_forward(log_probs.data, labels.data, p.n, p.c, losses.present() ? losses.data : nullptr);
    return Napi::Number::New(info.Env(), sum);
  });
}

// nllLossBackward(labels, n, c, dy, scale, dlogProbs).
Napi::Value nll_loss_backward(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&] {
    const char* fn = "nllLossBackward";
    auto labels = int32_array(info, 0, fn, "labels");
    Problem p = problem(info, 1, fn);
    auto dy = float_array(info, 3, fn, "dy");
    float scale = number(info[4], fn, "scale");
    auto dx = float_array(info, 5, fn, "dlogProbs");
    expect_length(labels, p.n, fn, "labels");
    expect_length(dx, checked_product({p.n, p.c}, fn, "dlogProbs"), fn, "dlogProbs");
    expect_dy(dy, p.n, fn);
    convkit::nll_loss_backward(labels.data, p.n, p.c, dy.data, dy.length, scale, dx.data);
    return info.Env().Undefined();
  });
}

// mseLoss(input, target, losses|null) -> sum of squared differences.
Napi::Value mse_loss(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&] {
    const char* fn = "mseLoss";
    auto input = float_array(info, 0, fn, "input");
    auto target = float_array(info, 1, fn, "target");
    auto losses = optional_float_array(info, 2, fn, "losses");
    expect_length(target, input.length, fn, "target");
    if (losses.present()) expect_length(losses, input.length, fn, "losses");
    double sum = convkit::mse_loss_forward(input.data, target.data, input.length, losses.present() ? losses.data : nullptr);
    return Napi::Number::New(info.Env(), sum);
  });
}

// mseLossBackward(input, target, dy, scale, dinput|null, dtarget|null).
Napi::Value mse_loss_backward(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&] {
    const char* fn = "mseLossBackward";
    auto input = float_array(info, 0, fn, "input");
    auto target = float_array(info, 1, fn, "target");
    auto dy = float_array(info, 2, fn, "dy");
    float scale = number(info[3], fn, "scale");
    auto dinput = optional_float_array(info, 4, fn, "dinput");
    auto dtarget = optional_float_array(info, 5, fn, "dtarget");
    expect_length(target, input.length, fn, "target");
    if (dinput.present()) expect_length(dinput, input.length, fn, "dinput");
    if (dtarget.present()) expect_length(dtarget, input.length, fn, "dtarget");
    expect_dy(dy, input.length, fn);
    convkit::mse_loss_backward(input.data, target.data, input.length, dy.data, dy.length, scale,
                               dinput.present() ? dinput.data : nullptr, dtarget.present() ? dtarget.data : nullptr);
    return info.Env().Undefined();
  });
}

// bceWithLogits(logits, target, posWeight|null, losses|null) -> sum of element losses.
Napi::Value bce_with_logits(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&] {
    const char* fn = "bceWithLogits";
    auto logits = float_array(info, 0, fn, "logits");
    auto target = float_array(info, 1, fn, "target");
    auto pos_weight = optional_float_array(info, 2, fn, "posWeight");
    auto losses = optional_float_array(info, 3, fn, "losses");
    expect_length(target, logits.length, fn, "target");
    if (losses.present()) expect_length(losses, logits.length, fn, "losses");
    double sum = convkit::bce_with_logits_forward(logits.data, target.data, logits.length,
                                                  pos_weight.present() ? pos_weight.data : nullptr, pos_weight.length,
                                                  losses.present() ? losses.data : nullptr);
    return Napi::Number::New(info.Env(), sum);
  });
}

// bceWithLogitsBackward(logits, target, posWeight|null, dy, scale, dlogits|null, dtarget|null).
Napi::Value bce_with_logits_backward(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&] {
    const char* fn = "bceWithLogitsBackward";
    auto logits = float_array(info, 0, fn, "logits");
    auto target = float_array(info, 1, fn, "target");
    auto pos_weight = optional_float_array(info, 2, fn, "posWeight");
    auto dy = float_array(info, 3, fn, "dy");
    float scale = number(info[4], fn, "scale");
    auto dlogits = optional_float_array(info, 5, fn, "dlogits");
    auto dtarget = optional_float_array(info, 6, fn, "dtarget");
    expect_length(target, logits.length, fn, "target");
    if (dlogits.present()) expect_length(dlogits, logits.length, fn, "dlogits");
    if (dtarget.present()) expect_length(dtarget, logits.length, fn, "dtarget");
    expect_dy(dy, logits.length, fn);
    convkit::bce_with_logits_backward(logits.data, target.data, logits.length,
                                      pos_weight.present() ? pos_weight.data : nullptr, pos_weight.length, dy.data,
                                      dy.length, scale, dlogits.present() ? dlogits.data : nullptr,
                                      dtarget.present() ? dtarget.data : nullptr);
    return info.Env().Undefined();
  });
}

}  // namespace

void register_loss(Napi::Env env, Napi::Object exports) {
  exports.Set("crossEntropy", Napi::Function::New(env, cross_entropy, "crossEntropy"));
  exports.Set("crossEntropyBackward", Napi::Function::New(env, cross_entropy_backward, "crossEntropyBackward"));
  exports.Set("crossEntropySoft", Napi::Function::New(env, cross_entropy_soft, "crossEntropySoft"));
  exports.Set("crossEntropySoftBackward", Napi::Function::New(env, cross_entropy_soft_backward, "crossEntropySoftBackward"));
  exports.Set("nllLoss", Napi::Function::New(env, nll_loss, "nllLoss"));
  exports.Set("nllLossBackward", Napi::Function::New(env, nll_loss_backward, "nllLossBackward"));
  exports.Set("mseLoss", Napi::Function::New(env, mse_loss, "mseLoss"));
  exports.Set("mseLossBackward", Napi::Function::New(env, mse_loss_backward, "mseLossBackward"));
  exports.Set("bceWithLogits", Napi::Function::New(env, bce_with_logits, "bceWithLogits"));
  exports.Set("bceWithLogitsBackward", Napi::Function::New(env, bce_with_logits_backward, "bceWithLogitsBackward"));
}

}  // namespace binding
