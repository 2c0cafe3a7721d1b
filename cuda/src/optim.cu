// Optimizer updates, one fused elementwise pass per parameter with the formulas of
// convkit/optim.h (torch.optim's). Adam's per-step scalars come from the core's
// adam_scalars(), computed once on the host in double, as on the CPU.
#include <string>

#include "convkit/error.h"
#include "convkit_cuda/kernels.h"
#include "launch.cuh"

namespace convkit::cuda {
namespace {

void check_n(const char* op, int64_t n) {
  if (n < 0) throw_range(std::string(op) + ": element count must be >= 0, got " + std::to_string(n));
}

// The kernels spell out the CPU vector bodies' operations (native/src/vec_kernels.h): fmaf
// where they fuse, __fmul_rn where they round a product, so that nvcc's contraction cannot
// change the rounding. Then the results equal the CPU's, which matters where a step divides
// by a small root (RMSprop, Adam with a tiny second moment).
// The first step does not read buf, so its initial contents do not matter.
__global__ void sgd_kernel(SgdStep o, float grad_scale, float* param, const float* grad, float* buf, int64_t n) {
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    const float p = param[i], g = fmaf(o.weight_decay, p, grad[i]);
    if (o.momentum == 0.f) {
      param[i] = p - __fmul_rn(o.lr, g);
      continue;
    }
    const float b = o.first ? g : fmaf(o.momentum, buf[i], __fmul_rn(grad_scale, g));
    buf[i] = b;
    param[i] = p - __fmul_rn(o.lr, o.nesterov ? fmaf(o.momentum, b, g) : b);
  }
}

// max as Math.max / torch.maximum: NaN when either side is NaN.
__device__ float nan_max(float a, float b) { return (a >= b || a != a) ? a : b; }

__global__ void adam_kernel(AdamScalars s, float* param, const float* grad, float* exp_avg, float* exp_avg_sq,
                            float* max_exp_avg_sq, int64_t n) {
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    const float w = __fmul_rn(param[i], s.decay), g = fmaf(s.l2, w, grad[i]);
    const float m = fmaf(s.beta1, exp_avg[i], __fmul_rn(s.one_minus_beta1, g));
    float v = fmaf(s.beta2, exp_avg_sq[i], __fmul_rn(__fmul_rn(s.one_minus_beta2, g), g));
    exp_avg[i] = m;
    exp_avg_sq[i] = v;
    if (max_exp_avg_sq) max_exp_avg_sq[i] = v = nan_max(max_exp_avg_sq[i], v);
    param[i] = w - __fmul_rn(s.step_size, m) / (sqrtf(v) / s.sqrt_bias_corr2 + s.eps);
  }
}

__global__ void rmsprop_kernel(RmspropStep o, float one_minus_alpha, float* param, const float* grad,
                               float* square_avg, float* momentum_buf, float* grad_avg, int64_t n) {
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    const float p = param[i], g = fmaf(o.weight_decay, p, grad[i]);
    const float v = fmaf(o.alpha, square_avg[i], __fmul_rn(__fmul_rn(one_minus_alpha, g), g));
    square_avg[i] = v;
    float variance = v;
    if (grad_avg) {
      const float a = fmaf(o.alpha, grad_avg[i], __fmul_rn(one_minus_alpha, g));
      grad_avg[i] = a;
      const float d = v - __fmul_rn(a, a);
      variance = d < 0.f ? 0.f : d;  // rounding can take a variance just below 0 (as on the CPU); NaN stays
    }
    float step = g / (sqrtf(variance) + o.eps);
    if (o.momentum > 0.f) momentum_buf[i] = step = fmaf(o.momentum, momentum_buf[i], step);
    param[i] = p - __fmul_rn(o.lr, step);
  }
}

}  // namespace

void sgd_step(const SgdStep& o, float* param, const float* grad, float* buf, int64_t n) {
  check_n("sgd_step", n);
  if (n == 0) return;
  need(param, "sgd_step", "param");
  need(grad, "sgd_step", "grad");
  if (o.momentum != 0.f) need(buf, "sgd_step", "buf (momentum is not 0)");
  sgd_kernel<<<grid_for(n), kThreads, 0, stream()>>>(o, 1.f - o.dampening, param, grad, buf, n);
  check_launch("sgd_step");
}

void adam_step(const AdamStep& o, float* param, const float* grad, float* exp_avg, float* exp_avg_sq,
               float* max_exp_avg_sq, int64_t n) {
  check_n("adam_step", n);
  const AdamScalars s = adam_scalars(o);  // checks o.step
  if (n == 0) return;
  need(param, "adam_step", "param");
  need(grad, "adam_step", "grad");
  need(exp_avg, "adam_step", "exp_avg");
  need(exp_avg_sq, "adam_step", "exp_avg_sq");
  adam_kernel<<<grid_for(n), kThreads, 0, stream()>>>(s, param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, n);
  check_launch("adam_step");
}

void rmsprop_step(const RmspropStep& o, float* param, const float* grad, float* square_avg, float* momentum_buf,
                  float* grad_avg, int64_t n) {
  check_n("rmsprop_step", n);
  if (n == 0) return;
  need(param, "rmsprop_step", "param");
  need(grad, "rmsprop_step", "grad");
  need(square_avg, "rmsprop_step", "square_avg");
  if (o.momentum > 0.f) need(momentum_buf, "rmsprop_step", "momentum_buf (momentum > 0)");
  rmsprop_kernel<<<grid_for(n), kThreads, 0, stream()>>>(o, 1.f - o.alpha, param, grad, square_avg, momentum_buf,
                                                         grad_avg, n);
  check_launch("rmsprop_step");
}

}  // namespace convkit::cuda
