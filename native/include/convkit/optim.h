// Optimizer updates: one fused elementwise pass per parameter, with torch.optim's formulas
// (lib/optim/*.ts calls them through the backends). The CPU and CUDA backends share these
// option structs and AdamScalars, so both derive Adam's per-step scalars the same way.
// Plain header (only <cstdint>): the ISA files include it.
#pragma once
#include <cstdint>

namespace convkit {

//   g = grad + weight_decay * p
//   buf = g on the first step, else momentum * buf + (1 - dampening) * g
//   p -= lr * (nesterov ? g + momentum * buf : buf)      (p -= lr * g when momentum is 0)
struct SgdStep {
  float lr, momentum, dampening, weight_decay;
  bool nesterov;
  bool first;  // the first step: the momentum buffer becomes the gradient itself (not read)
};

//   w = p * decay; g = grad + l2 * w          (decay = 1 - lr * wd for AdamW, l2 = wd for Adam)
//   m = beta1 m + (1 - beta1) g;  v = beta2 v + (1 - beta2) g^2;  AMSGrad: v = vmax = max(vmax, v)
//   p = w - step_size * m / (sqrt(v) / sqrt(1 - beta2^t) + eps),  step_size = lr / (1 - beta1^t)
struct AdamStep {
  float lr, beta1, beta2, eps, weight_decay;
  bool decoupled;  // AdamW
  int64_t step;    // t: 1 on the first update (bias correction)
};

// AdamStep's per-step scalars, computed once in double and rounded to float.
struct AdamScalars {
  float beta1, one_minus_beta1, beta2, one_minus_beta2, eps;
  float decay, l2, step_size, sqrt_bias_corr2;
};
// Throws RangeError when o.step < 1.
AdamScalars adam_scalars(const AdamStep& o);

//   g = grad + weight_decay * p;  v = alpha v + (1 - alpha) g^2
//   centered: a = alpha a + (1 - alpha) g, denominator sqrt(v - a^2) + eps; else sqrt(v) + eps
//   momentum > 0: buf = momentum buf + g / denominator, p -= lr buf; else p -= lr g / denominator
struct RmspropStep {
  float lr, alpha, eps, weight_decay, momentum;
};

// The CPU kernels (vectorised, multi-threaded). n may be 0; buffers must not overlap.
// buf may be null only when momentum is 0.
void sgd_step(const SgdStep& o, float* param, const float* grad, float* buf, int64_t n);
// max_exp_avg_sq non-null selects AMSGrad.
void adam_step(const AdamStep& o, float* param, const float* grad, float* exp_avg, float* exp_avg_sq,
               float* max_exp_avg_sq, int64_t n);
// momentum_buf is needed when momentum > 0; grad_avg non-null selects the centered variant.
void rmsprop_step(const RmspropStep& o, float* param, const float* grad, float* square_avg, float* momentum_buf,
                  float* grad_avg, int64_t n);

}  // namespace convkit
