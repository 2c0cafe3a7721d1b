// Optimizer updates on the CPU: argument checks here, the per-ISA loops in vec_kernels.h,
// split over threads in large chunks (each element is independent).
#include "convkit/optim.h"

#include <cmath>
#include <string>

#include "convkit/error.h"
#include "convkit/threads.h"
#include "vec_kernels.h"

namespace convkit {
namespace {

constexpr int64_t kGrain = int64_t(1) << 15;

// Checks n and the pointers every update needs; returns false when there is nothing to do.
bool check_step(const char* op, int64_t n, const float* param, const float* grad) {
  if (n < 0) throw_range(std::string(op) + ": element count must be >= 0, got " + std::to_string(n));
  if (n == 0) return false;
  if (!param || !grad) throw_type(std::string(op) + ": param and grad must not be null");
  return true;
}

// p + begin for an optional buffer.
template <class P>
P* at(P* p, int64_t begin) { return p ? p + begin : nullptr; }

}  // namespace

AdamScalars adam_scalars(const AdamStep& o) {
  if (o.step < 1) throw_range("adam_step: step must be >= 1, got " + std::to_string(o.step));
  const double t = double(o.step), lr = o.lr;
  AdamScalars s;
  s.beta1 = o.beta1;
  s.one_minus_beta1 = float(1.0 - double(o.beta1));
  s.beta2 = o.beta2;
  s.one_minus_beta2 = float(1.0 - double(o.beta2));
  s.eps = o.eps;
  s.decay = o.decoupled ? float(1.0 - lr * double(o.weight_decay)) : 1.f;
  s.l2 = o.decoupled ? 0.f : o.weight_decay;
  s.step_size = float(lr / (1.0 - std::pow(double(o.beta1), t)));
  s.sqrt_bias_corr2 = float(std::sqrt(1.0 - std::pow(double(o.beta2), t)));
  return s;
}

void sgd_step(const SgdStep& o, float* param, const float* grad, float* buf, int64_t n) {
  if (!check_step("sgd_step", n, param, grad)) return;
  if (o.momentum != 0.f && !buf) throw_type("sgd_step: buf must not be null when momentum is not 0");
  float* state = o.momentum != 0.f ? buf : nullptr;
  const VecKernels& k = active_vec_kernels();
  parallel_for(n, kGrain, [&](int64_t b, int64_t e) { k.sgd_step(o, param + b, grad + b, at(state, b), e - b); });
}

void adam_step(const AdamStep& o, float* param, const float* grad, float* exp_avg, float* exp_avg_sq,
               float* max_exp_avg_sq, int64_t n) {
  const AdamScalars s = adam_scalars(o);
  if (!check_step("adam_step", n, param, grad)) return;
  if (!exp_avg || !exp_avg_sq) throw_type("adam_step: exp_avg and exp_avg_sq must not be null");
  const VecKernels& k = active_vec_kernels();
  parallel_for(n, kGrain, [&](int64_t b, int64_t e) {
    k.adam_step(s, param + b, grad + b, exp_avg + b, exp_avg_sq + b, at(max_exp_avg_sq, b), e - b);
  });
}

void rmsprop_step(const RmspropStep& o, float* param, const float* grad, float* square_avg, float* momentum_buf,
                  float* grad_avg, int64_t n) {
  if (!check_step("rmsprop_step", n, param, grad)) return;
  if (!square_avg) throw_type("rmsprop_step: square_avg must not be null");
  if (o.momentum > 0.f && !momentum_buf) throw_type("rmsprop_step: momentum_buf must not be null when momentum > 0");
  float* buf = o.momentum > 0.f ? momentum_buf : nullptr;
  const VecKernels& k = active_vec_kernels();
  parallel_for(n, kGrain, [&](int64_t b, int64_t e) {
    k.rmsprop_step(o, param + b, grad + b, square_avg + b, at(buf, b), at(grad_avg, b), e - b);
  });
}

}  // namespace convkit
