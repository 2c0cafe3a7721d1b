// Batch normalisation per channel, x viewed as [n, c, hw] (NCHW with the plane flattened).
// Statistics and gradient sums are accumulated in double; work is split over channels.
#pragma once
#include <cstdint>

namespace convkit {

struct BatchNormShape {
  int64_t n, c, hw;
};

// Each channel's mean and biased variance over its n*hw values (two passes, so a large mean
// does not cancel the variance away).
void batch_norm_stats(const BatchNormShape& s, const float* x, float* mean, float* variance);

// y = (x - mean[c]) * inv_std[c] * weight[c] + bias[c]; weight and bias may be null (1 and 0).
void batch_norm_forward(const BatchNormShape& s, const float* x, const float* mean, const float* inv_std,
                        const float* weight, const float* bias, float* y);

// xhat = (x - mean) * inv_std. dweight = sum(dy * xhat), dbias = sum(dy); dx through the batch
// statistics when training, else dy * weight * inv_std. Each non-null output is overwritten.
void batch_norm_backward(const BatchNormShape& s, const float* x, const float* dy, const float* mean,
                         const float* inv_std, const float* weight, bool training, float* dx, float* dweight,
                         float* dbias);

}  // namespace convkit
