// crossEntropy(logits, labels, n, c, probs) -> mean loss; crossEntropyBackward(probs, labels, n, c, scale, dlogits).
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

}  // namespace

void register_loss(Napi::Env env, Napi::Object exports) {
  exports.Set("crossEntropy", Napi::Function::New(env, cross_entropy, "crossEntropy"));
  exports.Set("crossEntropyBackward", Napi::Function::New(env, cross_entropy_backward, "crossEntropyBackward"));
}

}  // namespace binding
