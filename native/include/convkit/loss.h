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

// Argument checks shared with the other backends' losses (Error naming op and the argument):
// [n, c] with n >= 0 and c >= 1; count >= 0; dy non-null with 1 or `items` elements;
// pos_weight (when given) with a length that divides count.
void check_loss_rows(const char* op, int64_t n, int64_t c);
void check_loss_count(const char* op, int64_t count);
void check_loss_dy(const char* op, const float* dy, int64_t dy_len, int64_t items);
void check_pos_weight(const char* op, const float* pw, int64_t pw_len, int64_t count);

}  // namespace convkit

// The losses below return the SUM of their per-item losses, accumulated in double (the
// caller divides for a mean), and write each item's loss to `losses` unless it is null.
// Their backward passes take the upstream gradient dy as either one value (length 1, for
// 'mean' and 'sum') or one per item (dy_len == items, for 'none'), times `scale`; they
// overwrite their outputs. All run rows/elements in parallel with parallel_run/parallel_for.
namespace convkit {

// Soft-target cross-entropy: logits and target [n, c] (target holds class probabilities).
// losses[r] = sum_j target[r,j] * (logsumexp(x[r,:]) - x[r,j]) with the row max subtracted,
// so logits of any magnitude stay finite. Writes softmax(logits) to probs [n, c].
double cross_entropy_soft_forward(const float* logits, const float* target, int64_t n, int64_t c, float* probs,
                                  float* losses);
// dlogits[r,j] = (probs[r,j] * sum_k target[r,k] - target[r,j]) * dy[r or 0] * scale. dlogits may alias probs.
void cross_entropy_soft_backward(const float* probs, const float* target, int64_t n, int64_t c, const float* dy,
                                 int64_t dy_len, float scale, float* dlogits);

// Negative log-likelihood: losses[r] = -log_probs[r, labels[r]]; labels in [0, c) (Error(range) otherwise).
double nll_loss_forward(const float* log_probs, const int32_t* labels, int64_t n, int64_t c, float* losses);
// dlog_probs = 0 except dlog_probs[r, labels[r]] = -dy[r or 0] * scale.
void nll_loss_backward(const int32_t* labels, int64_t n, int64_t c, const float* dy, int64_t dy_len, float scale,
                       float* dlog_probs);

// Mean squared error, elementwise over `count` items: losses[i] = (input[i] - target[i])^2.
double mse_loss_forward(const float* input, const float* target, int64_t count, float* losses);
// dinput = 2 (input - target) * g, dtarget = -dinput; either may be null.
void mse_loss_backward(const float* input, const float* target, int64_t count, const float* dy, int64_t dy_len,
                       float scale, float* dinput, float* dtarget);

// Binary cross-entropy with logits, elementwise. With w = 1 + (pos_weight[i % pw_len] - 1) * t
// (w = 1 when pos_weight is null): losses[i] = (1 - t) x + w * (log1p(exp(-|x|)) + max(-x, 0)),
// which is max(x,0) - x t + log1p(exp(-|x|)) without pos_weight.
double bce_with_logits_forward(const float* logits, const float* target, int64_t count, const float* pos_weight,
                               int64_t pw_len, float* losses);
// dlogits = ((1 - t) - w * sigmoid(-x)) * g; dtarget = (-x + (pw - 1) * softplus(-x)) * g; either may be null.
void bce_with_logits_backward(const float* logits, const float* target, int64_t count, const float* pos_weight,
                              int64_t pw_len, const float* dy, int64_t dy_len, float scale, float* dlogits,
                              float* dtarget);

// Argument checks shared with the other backends' losses (Error naming op and the argument):
// [n, c] with n >= 0 and c >= 1; count >= 0; dy non-null with 1 or `items` elements;
// pos_weight (when given) with a length that divides count.
void check_loss_rows(const char* op, int64_t n, int64_t c);
void check_loss_count(const char* op, int64_t count);
void check_loss_dy(const char* op, const float* dy, int64_t dy_len, int64_t items);
void check_pos_weight(const char* op, const float* pw, int64_t pw_len, int64_t count);

}  // namespace convkit
