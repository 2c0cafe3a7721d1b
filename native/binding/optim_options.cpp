#include "optim_options.h"

#include <string>

#include "args.h"

namespace binding {

convkit::SgdStep sgd_options(const Napi::Object& o, bool has_buf, const char* fn) {
  convkit::SgdStep step{};
  step.lr = number(o.Get("lr"), fn, "lr");
  step.momentum = number(o.Get("momentum"), fn, "momentum");
  step.dampening = number(o.Get("dampening"), fn, "dampening");
  step.weight_decay = number(o.Get("weightDecay"), fn, "weightDecay");
  step.nesterov = boolean(o.Get("nesterov"), fn, "nesterov");
  step.first = boolean(o.Get("first"), fn, "first");
  if (step.momentum != 0.f && !has_buf)
    convkit::throw_type(std::string(fn) + ": buf must be given when momentum is not 0");
  return step;
}

convkit::AdamStep adam_options(const Napi::Object& o, const char* fn) {
  convkit::AdamStep step{};
  step.lr = number(o.Get("lr"), fn, "lr");
  step.beta1 = number(o.Get("beta1"), fn, "beta1");
  step.beta2 = number(o.Get("beta2"), fn, "beta2");
  step.eps = number(o.Get("eps"), fn, "eps");
  step.weight_decay = number(o.Get("weightDecay"), fn, "weightDecay");
  step.decoupled = boolean(o.Get("decoupled"), fn, "decoupled");
  step.step = integer(o.Get("step"), fn, "step");
  if (step.step < 1) convkit::throw_range(std::string(fn) + ": step must be >= 1, got " + std::to_string(step.step));
  return step;
}

convkit::RmspropStep rmsprop_options(const Napi::Object& o, bool has_momentum_buffer, const char* fn) {
  convkit::RmspropStep step{};
  step.lr = number(o.Get("lr"), fn, "lr");
  step.alpha = number(o.Get("alpha"), fn, "alpha");
  step.eps = number(o.Get("eps"), fn, "eps");
  step.weight_decay = number(o.Get("weightDecay"), fn, "weightDecay");
  step.momentum = number(o.Get("momentum"), fn, "momentum");
  if (step.momentum > 0.f && !has_momentum_buffer)
    convkit::throw_type(std::string(fn) + ": momentumBuffer must be given when momentum > 0");
  return step;
}

}  // namespace binding
