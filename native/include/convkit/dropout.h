// Inverted dropout with a keep-mask drawn by the caller (so every backend gives the same
// result for the same seed). The same kernel serves forward (on x) and backward (on dy).
#pragma once
#include <cstdint>

namespace convkit {

// y = x * (mask[i] ? scale : 0), a product so that NaN propagates as in PyTorch. y may alias x.
void dropout_apply(const float* x, const uint8_t* mask, float scale, float* y, int64_t n);

}  // namespace convkit
