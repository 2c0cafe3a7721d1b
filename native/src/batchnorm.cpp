// Batch normalisation. Statistics and gradient sums run per channel (one thread owns a
// channel, so no reduction across threads) and accumulate in double; the normalisation
// itself is an affine map per (image, channel) plane, split over planes.
#include "convkit/batchnorm.h"

#include <algorithm>
#include <string>

#include "convkit/error.h"
#include "convkit/threads.h"

namespace convkit {
namespace {

constexpr int64_t kGrainElements = int64_t(1) << 15;  // elements per thread chunk, at least

void validate(const BatchNormShape& s, const char* op) {
  if (s.n < 0 || s.c < 0 || s.hw < 0)
    throw_range(std::string(op) + ": shape [" + std::to_string(s.n) + ", " + std::to_string(s.c) + ", " +
                std::to_string(s.hw) + "] must be non-negative");
}

bool empty(const BatchNormShape& s) { return s.n == 0 || s.c == 0 || s.hw == 0; }

void need(const void* ptr, const char* op, const char* what) {
  if (!ptr) throw_type(std::string(op) + ": " + what + " must not be null");
}

// Channels per chunk so that each chunk covers about kGrainElements values.
int64_t channel_grain(const BatchNormShape& s) { return std::max<int64_t>(1, kGrainElements / std::max<int64_t>(1, s.n * s.hw)); }

}  // namespace

void batch_norm_stats(const BatchNormShape& s, const float* x, float* mean, float* variance) {
  const char* op = "batch_norm_stats";
  validate(s, op);
  if (s.c == 0) return;
  need(mean, op, "mean");
  need(variance, op, "variance");
  if (s.n * s.hw > 0) need(x, op, "x");
  const double count = double(s.n * s.hw);  // 0 gives NaN statistics, as a mean of nothing
  parallel_for(s.c, channel_grain(s), [&](int64_t c0, int64_t c1) {
    for (int64_t ch = c0; ch < c1; ++ch) {
      double sum = 0;
      for (int64_t i = 0; i < s.n; ++i) {
        const float* p = x + (i * s.c + ch) * s.hw;
        for (int64_t j = 0; j < s.hw; ++j) sum += p[j];
      }
      const double m = sum / count;
      double squares = 0;
      for (int64_t i = 0; i < s.n; ++i) {
        const float* p = x + (i * s.c + ch) * s.hw;
        for (int64_t j = 0; j < s.hw; ++j) {
          const double d = double(p[j]) - m;
          squares += d * d;
        }
      }
      mean[ch] = float(m);
      variance[ch] = float(squares / count);
    }
  });
}

void batch_norm_forward(const BatchNormShape& s, const float* x, const float* mean, const float* inv_std,
                        const float* weight, const float* bias, float* y) {
  const char* op = "batch_norm_forward";
  validate(s, op);
  if (empty(s)) return;
  need(x, op, "x");
  need(mean, op, "mean");
  need(inv_std, op, "inv_std");
  need(y, op, "y");
  const int64_t planes = s.n * s.c;
  parallel_for(planes, std::max<int64_t>(1, kGrainElements / s.hw), [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p) {
      const int64_t ch = p % s.c;
      const float scale = inv_std[ch] * (weight ? weight[ch] : 1.f);
      const float shift = bias ? bias[ch] : 0.f;
      const float m = mean[ch];
      const float* in = x + p * s.hw;
      float* out = y + p * s.hw;
      for (int64_t j = 0; j < s.hw; ++j) out[j] = (in[j] - m) * scale + shift;
    }
  });
}

void batch_norm_backward(const BatchNormShape& s, const float* x, const float* dy, const float* mean,
                         const float* inv_std, const float* weight, bool training, float* dx, float* dweight,
                         float* dbias) {
  const char* op = "batch_norm_backward";
  validate(s, op);
  if (s.c == 0) return;
  need(mean, op, "mean");
  need(inv_std, op, "inv_std");
  if (s.n * s.hw > 0) {
    need(x, op, "x");
    need(dy, op, "dy");
  }
  const double count = double(s.n * s.hw);
  parallel_for(s.c, channel_grain(s), [&](int64_t c0, int64_t c1) {
    for (int64_t ch = c0; ch < c1; ++ch) {
      const float m = mean[ch], is = inv_std[ch];
      double sum_dy = 0, sum_dy_xhat = 0;
      for (int64_t i = 0; i < s.n; ++i) {
        const int64_t off = (i * s.c + ch) * s.hw;
        for (int64_t j = 0; j < s.hw; ++j) {
          const double g = dy[off + j];
          sum_dy += g;
          sum_dy_xhat += g * ((double(x[off + j]) - m) * is);
        }
      }
      if (dweight) dweight[ch] = float(sum_dy_xhat);
      if (dbias) dbias[ch] = float(sum_dy);
      if (!dx) continue;
      const float scale = is * (weight ? weight[ch] : 1.f);
      const float mean_dy = training ? float(sum_dy / count) : 0.f;
      const float mean_dy_xhat = training ? float(sum_dy_xhat / count) : 0.f;
      for (int64_t i = 0; i < s.n; ++i) {
        const int64_t off = (i * s.c + ch) * s.hw;
        for (int64_t j = 0; j < s.hw; ++j) {
          const float xhat = (x[off + j] - m) * is;
          dx[off + j] = scale * (dy[off + j] - mean_dy - xhat * mean_dy_xhat);
        }
      }
    }
  });
}

}  // namespace convkit
