// Double-precision references for the optimizer updates (convkit/optim.h), written from
// torch.optim's documented algorithms and rounded to float per step, as the js backend runs
// them on Float32Arrays. Shared by the CPU (test_optim) and CUDA (test_cuda_elementwise) tests,
// with the configurations both run.
#pragma once
#include <algorithm>
#include <cmath>
#include <vector>

#include "convkit/optim.h"

namespace test {

inline void sgd_ref(const convkit::SgdStep& o, std::vector<float>& p, const std::vector<float>& grad,
             std::vector<float>& buf) {
  const double lr = o.lr, momentum = o.momentum, wd = o.weight_decay;
  if (momentum == 0) {
    for (size_t i = 0; i < p.size(); ++i) p[i] = float(p[i] - lr * (grad[i] + wd * p[i]));
    return;
  }
  const double grad_scale = o.first ? 1 : 1 - double(o.dampening), buf_scale = o.first ? 0 : momentum;
  for (size_t i = 0; i < p.size(); ++i) {
    const double g = grad[i] + wd * p[i], b = buf_scale * buf[i] + grad_scale * g;
    buf[i] = float(b);
    p[i] = float(p[i] - lr * (o.nesterov ? g + momentum * b : b));
  }
}

inline void adam_ref(const convkit::AdamStep& o, std::vector<float>& p, const std::vector<float>& grad,
              std::vector<float>& exp_avg, std::vector<float>& exp_avg_sq, std::vector<float>* max_sq) {
  const double lr = o.lr, b1 = o.beta1, b2 = o.beta2, eps = o.eps, t = double(o.step);
  const double step_size = lr / (1 - std::pow(b1, t)), bc2 = std::sqrt(1 - std::pow(b2, t));
  const double decay = o.decoupled ? 1 - lr * o.weight_decay : 1, l2 = o.decoupled ? 0 : o.weight_decay;
  for (size_t i = 0; i < p.size(); ++i) {
    const double w = p[i] * decay, g = grad[i] + l2 * w;
    const double m = b1 * exp_avg[i] + (1 - b1) * g;
    double v = b2 * exp_avg_sq[i] + (1 - b2) * g * g;
    exp_avg[i] = float(m);
    exp_avg_sq[i] = float(v);
    if (max_sq) {
      const double prev = (*max_sq)[i];
      v = std::isnan(prev) || prev > v ? prev : v;  // Math.max / torch.maximum: NaN wins
      (*max_sq)[i] = float(v);
    }
    p[i] = float(w - step_size * m / (std::sqrt(v) / bc2 + eps));
  }
}

inline void rmsprop_ref(const convkit::RmspropStep& o, std::vector<float>& p, const std::vector<float>& grad,
                 std::vector<float>& square_avg, std::vector<float>& momentum_buf, std::vector<float>* grad_avg) {
  const double lr = o.lr, alpha = o.alpha, eps = o.eps, wd = o.weight_decay, momentum = o.momentum;
  for (size_t i = 0; i < p.size(); ++i) {
    const double g = grad[i] + wd * p[i], v = alpha * square_avg[i] + (1 - alpha) * g * g;
    square_avg[i] = float(v);
    double variance = v;
    if (grad_avg) {
      const double a = alpha * (*grad_avg)[i] + (1 - alpha) * g;
      (*grad_avg)[i] = float(a);
      variance = std::max(v - a * a, 0.0);  // as the kernels: rounding can take it below 0
    }
    const double scaled = g / (std::sqrt(variance) + eps);
    if (momentum > 0) {
      const double b = momentum * momentum_buf[i] + scaled;
      momentum_buf[i] = float(b);
      p[i] = float(p[i] - lr * b);
    } else {
      p[i] = float(p[i] - lr * scaled);
    }
  }
}

constexpr int kOptimSteps = 5;

struct SgdConfig {
  const char* name;
  float momentum, dampening, weight_decay;
  bool nesterov;
};
inline const SgdConfig kSgdConfigs[] = {{"plain", 0, 0, 0, false},
                                        {"weight decay", 0, 0, 0.01f, false},
                                        {"momentum", 0.9f, 0, 0, false},
                                        {"momentum dampening", 0.9f, 0.3f, 0.001f, false},
                                        {"nesterov", 0.8f, 0, 0.01f, true}};

struct AdamConfig {
  const char* name;
  float weight_decay;
  bool decoupled, amsgrad;
};
inline const AdamConfig kAdamConfigs[] = {{"adam", 0, false, false},
                                          {"adam l2", 0.01f, false, false},
                                          {"adamw", 0.01f, true, false},
                                          {"adam amsgrad", 0, false, true},
                                          {"adamw amsgrad", 0.05f, true, true}};

struct RmspropConfig {
  const char* name;
  float weight_decay, momentum;
  bool centered;
};
inline const RmspropConfig kRmspropConfigs[] = {{"plain", 0, 0, false},
                                                {"weight decay", 0.01f, 0, false},
                                                {"momentum", 0, 0.9f, false},
                                                {"centered", 0, 0, true},
                                                {"centered momentum", 0.01f, 0.5f, true}};

}  // namespace test
