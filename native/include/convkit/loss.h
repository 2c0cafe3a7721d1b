// Cross-entropy from logits, fused with its softmax and stable for large logits.
#pragma once
#include <cstdint>

namespace convkit {

// logits [n, c], labels in [0, c) (throws Error(range) otherwise). Writes the softmax
// probabilities to probs [n, c] (kept for the backward pass) and returns the mean loss.
float cross_entropy_forward(const float* logits, const int32_t* labels, int64_t n, int64_t c, float* probs);

// dlogits = (probs - onehot(labels)) * scale; scale is the upstream gradient divided by n.
void cross_entropy_backward(const float* probs, const int32_t* labels, int64_t n, int64_t c,
                            float scale, float* dlogits);

}  // namespace convkit
