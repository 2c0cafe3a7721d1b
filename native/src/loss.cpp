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
