// Dropout's mask application: one multiply per element, split over threads in large chunks.
#include "convkit/dropout.h"

#include <string>

#include "convkit/error.h"
#include "convkit/threads.h"

namespace convkit {

void dropout_apply(const float* x, const uint8_t* mask, float scale, float* y, int64_t n) {
  if (n < 0) throw_range("dropout: n must be non-negative, got " + std::to_string(n));
  if (n == 0) return;
  if (!x || !mask || !y) throw_type("dropout: x, mask and y must not be null");
  parallel_for(n, int64_t(1) << 16, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) y[i] = x[i] * (mask[i] ? scale : 0.f);
  });
}

}  // namespace convkit
