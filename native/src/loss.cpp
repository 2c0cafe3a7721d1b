// Cross-entropy from logits: per row, a max-subtracted softmax (stable for logits of any
// magnitude) and loss_i = log(sum exp(x - m)) - (x[label] - m); the mean over n is
// accumulated in double.
#include "convkit/loss.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "convkit/error.h"
#include "convkit/threads.h"
#include "vec_kernels.h"

namespace convkit {
namespace {

void check_args(const char* op, const int32_t* labels, int64_t n, int64_t c) {
  if (n < 0 || c <= 0)
    throw_range(std::string(op) + ": logits must be [n, c] with n >= 0 and c >= 1, got [" + std::to_string(n) +
                ", " + std::to_string(c) + "]");
  if (n > 0 && !labels) throw_type(std::string(op) + ": labels must not be null");
  for (int64_t i = 0; i < n; ++i) {
    if (labels[i] < 0 || labels[i] >= c)
      throw_range(std::string(op) + ": labels[" + std::to_string(i) + "] = " + std::to_string(labels[i]) +
                  " is out of range [0, " + std::to_string(c) + ")");
  }
}

}  // namespace

float cross_entropy_forward(const float* logits, const int32_t* labels, int64_t n, int64_t c, float* probs) {
  check_args("cross_entropy", labels, n, c);
  if (n > 0 && (!logits || !probs)) throw_type("cross_entropy: logits and probs must not be null");
  if (n == 0) return std::nanf("");  // mean over an empty batch, as PyTorch
  const VecKernels& k = active_vec_kernels();
  int nt = num_threads();
  std::vector<double> partial(size_t(std::max(nt, 1)) * 8, 0.0);  // padded against false sharing
  int64_t grain = std::max<int64_t>(1, (int64_t(1) << 14) / c);
  parallel_run([&](int tid, int nthreads) {
    int64_t chunks = std::min<int64_t>(nthreads, (n + grain - 1) / grain);
    if (tid >= chunks) return;
    int64_t r0 = n * tid / chunks, r1 = n * (tid + 1) / chunks;
    double acc = 0;
    for (int64_t r = r0; r < r1; ++r) {
      const float* x = logits + r * c;
      float* p = probs + r * c;
      float m = k.row_max(x, c);
      float s = k.exp_shift_sum(x, m, p, c);
      k.scale(p, 1.f / s, c);
      acc += std::log(double(s)) - (double(x[labels[r]]) - double(m));
    }
    partial[size_t(tid) * 8] = acc;
  });
  double total = 0;
  for (int t = 0; t < nt; ++t) total += partial[size_t(t) * 8];
  return float(total / double(n));
}

void cross_entropy_backward(const float* probs, const int32_t* labels, int64_t n, int64_t c, float scale,
                            float* dlogits) {
  check_args("cross_entropy_backward", labels, n, c);
  if (n > 0 && (!probs || !dlogits)) throw_type("cross_entropy_backward: probs and dlogits must not be null");
  if (n == 0) return;
  const VecKernels& k = active_vec_kernels();
  int64_t grain = std::max<int64_t>(1, (int64_t(1) << 15) / c);
  parallel_for(n, grain, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      float* d = dlogits + r * c;
      if (d != probs + r * c) std::copy(probs + r * c, probs + (r + 1) * c, d);
      d[labels[r]] -= 1.f;
      k.scale(d, scale, c);
    }
  });
}

}  // namespace convkit

// ---- Soft-target cross-entropy, NLL, MSE and BCE-with-logits ---------------------------------
// Forward passes return the sum of per-item losses, accumulated in double per thread and then
// across threads; backward passes are elementwise and split rows/elements with parallel_for.
namespace convkit {
namespace {

// Sums body(begin, end) -> double over [0, items) in parallel, in contiguous chunks of at least `grain`.
template <class Body>
double parallel_sum(int64_t items, int64_t grain, const Body& body) {
  if (items <= 0) return 0.0;
  int nt = std::max(num_threads(), 1);
  std::vector<double> partial(size_t(nt) * 8, 0.0);  // padded against false sharing
  parallel_run([&](int tid, int nthreads) {
    int64_t chunks = std::min<int64_t>(nthreads, (items + grain - 1) / grain);
    if (tid >= chunks) return;
    int64_t b = items * tid / chunks, e = items * (tid + 1) / chunks;
    partial[size_t(tid) * 8] = body(b, e);
  });
  double total = 0;
  for (int t = 0; t < nt; ++t) total += partial[size_t(t) * 8];
  return total;
}


constexpr int64_t kElementGrain = int64_t(1) << 15;

}  // namespace

void check_loss_rows(const char* op, int64_t n, int64_t c) {
  if (n < 0 || c <= 0)
    throw_range(std::string(op) + ": input must be [n, c] with n >= 0 and c >= 1, got [" + std::to_string(n) + ", " +
                std::to_string(c) + "]");
}

void check_loss_count(const char* op, int64_t count) {
  if (count < 0) throw_range(std::string(op) + ": count must be >= 0, got " + std::to_string(count));
}

void check_loss_dy(const char* op, const float* dy, int64_t dy_len, int64_t items) {
  if (items > 0 && !dy) throw_type(std::string(op) + ": dy must not be null");
  if (dy_len != 1 && dy_len != items)
    throw_range(std::string(op) + ": dy has " + std::to_string(dy_len) + " elements, expected 1 or " +
                std::to_string(items));
}

void check_pos_weight(const char* op, const float* pw, int64_t pw_len, int64_t count) {
  if (!pw) return;
  if (pw_len < 1 || count % pw_len != 0)
    throw_range(std::string(op) + ": pos_weight has " + std::to_string(pw_len) + " elements, which does not divide " +
                std::to_string(count));
}

double cross_entropy_soft_forward(const float* logits, const float* target, int64_t n, int64_t c, float* probs,
                                  float* losses) {
  check_loss_rows("cross_entropy_soft", n, c);
  if (n > 0 && (!logits || !target || !probs)) throw_type("cross_entropy_soft: logits, target and probs must not be null");
  const VecKernels& k = active_vec_kernels();
  int64_t grain = std::max<int64_t>(1, (int64_t(1) << 14) / c);
  return parallel_sum(n, grain, [&](int64_t r0, int64_t r1) {
    double acc = 0;
    for (int64_t r = r0; r < r1; ++r) {
      const float* x = logits + r * c;
      const float* t = target + r * c;
      float* p = probs + r * c;
      float m = k.row_max(x, c);
      float s = k.exp_shift_sum(x, m, p, c);
      k.scale(p, 1.f / s, c);
      double lse = double(m) + std::log(double(s));
      double row = 0;
      for (int64_t j = 0; j < c; ++j) row += double(t[j]) * (lse - double(x[j]));
      if (losses) losses[r] = float(row);
      acc += row;
    }
    return acc;
  });
}

void cross_entropy_soft_backward(const float* probs, const float* target, int64_t n, int64_t c, const float* dy,
                                 int64_t dy_len, float scale, float* dlogits) {
  check_loss_rows("cross_entropy_soft_backward", n, c);
  check_loss_dy("cross_entropy_soft_backward", dy, dy_len, n);
  if (n > 0 && (!probs || !target || !dlogits))
    throw_type("cross_entropy_soft_backward: probs, target and dlogits must not be null");
  int64_t grain = std::max<int64_t>(1, (int64_t(1) << 15) / c);
  parallel_for(n, grain, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const float* t = target + r * c;
      const float* p = probs + r * c;
      float* d = dlogits + r * c;
      double tsum = 0;
      for (int64_t j = 0; j < c; ++j) tsum += double(t[j]);
      float g = dy[dy_len == 1 ? 0 : r] * scale;
      float ts = float(tsum);
      for (int64_t j = 0; j < c; ++j) d[j] = (p[j] * ts - t[j]) * g;
    }
  });
}

double nll_loss_forward(const float* log_probs, const int32_t* labels, int64_t n, int64_t c, float* losses) {
  check_args("nll_loss", labels, n, c);
  if (n > 0 && !log_probs) throw_type("nll_loss: log_probs must not be null");
  return parallel_sum(n, kElementGrain, [&](int64_t r0, int64_t r1) {
    double acc = 0;
    for (int64_t r = r0; r < r1; ++r) {
      float l = -log_probs[r * c + labels[r]];
      if (losses) losses[r] = l;
      acc += double(l);
    }
    return acc;
  });
}

void nll_loss_backward(const int32_t* labels, int64_t n, int64_t c, const float* dy, int64_t dy_len, float scale,
                       float* dlog_probs) {
  check_args("nll_loss_backward", labels, n, c);
  check_loss_dy("nll_loss_backward", dy, dy_len, n);
  if (n > 0 && !dlog_probs) throw_type("nll_loss_backward: dlog_probs must not be null");
  int64_t grain = std::max<int64_t>(1, kElementGrain / c);
  parallel_for(n, grain, [&](int64_t r0, int64_t r1) {
    std::fill(dlog_probs + r0 * c, dlog_probs + r1 * c, 0.f);
    for (int64_t r = r0; r < r1; ++r) dlog_probs[r * c + labels[r]] = -(dy[dy_len == 1 ? 0 : r] * scale);
  });
}

double mse_loss_forward(const float* input, const float* target, int64_t count, float* losses) {
  check_loss_count("mse_loss", count);
  if (count > 0 && (!input || !target)) throw_type("mse_loss: input and target must not be null");
  return parallel_sum(count, kElementGrain, [&](int64_t b, int64_t e) {
    double acc = 0;
    for (int64_t i = b; i < e; ++i) {
      double d = double(input[i]) - double(target[i]);
      if (losses) losses[i] = float(d * d);
      acc += d * d;
    }
    return acc;
  });
}

void mse_loss_backward(const float* input, const float* target, int64_t count, const float* dy, int64_t dy_len,
                       float scale, float* dinput, float* dtarget) {
  check_loss_count("mse_loss_backward", count);
  check_loss_dy("mse_loss_backward", dy, dy_len, count);
  if (count > 0 && (!input || !target)) throw_type("mse_loss_backward: input and target must not be null");
  parallel_for(count, kElementGrain, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      float g = 2.f * (input[i] - target[i]) * (dy[dy_len == 1 ? 0 : i] * scale);
      if (dinput) dinput[i] = g;
      if (dtarget) dtarget[i] = -g;
    }
  });
}

double bce_with_logits_forward(const float* logits, const float* target, int64_t count, const float* pos_weight,
                               int64_t pw_len, float* losses) {
  check_loss_count("bce_with_logits", count);
  check_pos_weight("bce_with_logits", pos_weight, pw_len, count);
  if (count > 0 && (!logits || !target)) throw_type("bce_with_logits: logits and target must not be null");
  return parallel_sum(count, kElementGrain, [&](int64_t b, int64_t e) {
    double acc = 0;
    for (int64_t i = b; i < e; ++i) {
      double x = logits[i], t = target[i];
      double softplus_neg = std::log1p(std::exp(-std::fabs(x))) + std::max(-x, 0.0);  // log(1 + exp(-x))
      if (std::isnan(x)) softplus_neg = x;
      double w = pos_weight ? 1.0 + (double(pos_weight[i % pw_len]) - 1.0) * t : 1.0;
      double l = (1.0 - t) * x + w * softplus_neg;
      if (losses) losses[i] = float(l);
      acc += l;
    }
    return acc;
  });
}

void bce_with_logits_backward(const float* logits, const float* target, int64_t count, const float* pos_weight,
                              int64_t pw_len, const float* dy, int64_t dy_len, float scale, float* dlogits,
                              float* dtarget) {
  check_loss_count("bce_with_logits_backward", count);
  check_pos_weight("bce_with_logits_backward", pos_weight, pw_len, count);
  check_loss_dy("bce_with_logits_backward", dy, dy_len, count);
  if (count > 0 && (!logits || !target)) throw_type("bce_with_logits_backward: logits and target must not be null");
  parallel_for(count, kElementGrain, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      double x = logits[i], t = target[i];
      double g = double(dy[dy_len == 1 ? 0 : i]) * double(scale);
      double pw = pos_weight ? double(pos_weight[i % pw_len]) : 1.0;
      if (dlogits) {
        double sig_neg = 1.0 / (1.0 + std::exp(x));  // sigmoid(-x); exact 0 or 1 at the extremes
        dlogits[i] = float(((1.0 - t) - (1.0 + (pw - 1.0) * t) * sig_neg) * g);
      }
      if (dtarget) {
        double softplus_neg = std::log1p(std::exp(-std::fabs(x))) + std::max(-x, 0.0);
        if (std::isnan(x)) softplus_neg = x;
        dtarget[i] = float((-x + (pw - 1.0) * softplus_neg) * g);
      }
    }
  });
}

}  // namespace convkit
