// CUDA kernels with the same semantics as the CPU core (native/include/convkit/*.h), on
// device pointers. Every call queues work on the device layer's stream and returns; shapes
// are validated on the host first (convkit::validate) and launch errors throw convkit::Error.
//
// Losses differ from the CPU core in one way: instead of returning their sum to the host,
// they write total[0] = sum * scale on the device (total may be null), so a training step
// never waits for the GPU. Labels and argmax are int32 on the device; a label out of
// [0, c) yields NaN for that row (the host validates labels before upload).
#pragma once
#include <cstdint>

#include "convkit/arith.h"
#include "convkit/batchnorm.h"
#include "convkit/conv.h"
#include "convkit/optim.h"
#include "convkit/pool.h"

namespace convkit::cuda {

// ---- GEMM (row-major, same contract as convkit::sgemm) -----------------------------------
// The FP32 path is exact single precision. The TF32 path runs on tensor cores (sm_80+) with
// 10-bit mantissa inputs and FP32 accumulation; it is opt-in because its precision differs.
void sgemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
           int64_t lda, const float* b, int64_t ldb, float beta, float* c, int64_t ldc);
void set_tf32(bool enabled);   // default false; falls back to FP32 below sm_80
bool tf32_enabled();

// ---- convolution: im2col / col2im + sgemm ---------------------------------------------------
void conv2d_forward(const ConvShape& s, const float* x, const float* w, const float* bias, float* y);
void conv2d_backward(const ConvShape& s, const float* x, const float* w, const float* dy, float* dx,
                     float* dw, float* db);
// Tests only: the workspace bound in floats (default 2^26, 256 MiB; <= 0 restores it), so that
// images too large for one workspace, which are cut into ranges of output rows, run at small sizes.
void set_conv_workspace_limit_for_testing(int64_t floats);

// ---- pooling ---------------------------------------------------------------------------------
void max_pool2d_forward(const PoolShape& s, const float* x, float* y, int32_t* argmax);
void max_pool2d_backward(const PoolShape& s, const float* dy, const int32_t* argmax, float* dx);
void avg_pool2d_forward(const PoolShape& s, const float* x, float* y);
void avg_pool2d_backward(const PoolShape& s, const float* dy, float* dx);

// ---- activations and softmax ([outer, dim, inner]) ------------------------------------------
void relu_forward(const float* x, float* y, int64_t n);
void relu_backward(const float* x, const float* dy, float* dx, int64_t n);
void leaky_relu_forward(const float* x, float* y, int64_t n, float slope);
void leaky_relu_backward(const float* x, const float* dy, float* dx, int64_t n, float slope);
void sigmoid_forward(const float* x, float* y, int64_t n);
void sigmoid_backward(const float* y, const float* dy, float* dx, int64_t n);
void tanh_forward(const float* x, float* y, int64_t n);
void tanh_backward(const float* y, const float* dy, float* dx, int64_t n);
void softmax_forward(const float* x, float* y, int64_t outer, int64_t dim, int64_t inner);
void softmax_backward(const float* y, const float* dy, float* dx, int64_t outer, int64_t dim, int64_t inner);
void log_softmax_forward(const float* x, float* y, int64_t outer, int64_t dim, int64_t inner);
void log_softmax_backward(const float* y, const float* dy, float* dx, int64_t outer, int64_t dim, int64_t inner);

// ---- losses (see the note above about total) -------------------------------------------------
// Fused softmax + cross-entropy on labels: probs = softmax(logits); total[0] = sum of
// -log(probs[r, labels[r]]) * scale.
void cross_entropy_forward(const float* logits, const int32_t* labels, int64_t n, int64_t c, float* probs,
                           float* total, float scale);
// dlogits = (probs - onehot(labels)) * dy[0] * scale.
void cross_entropy_backward(const float* probs, const int32_t* labels, int64_t n, int64_t c, const float* dy,
                            float scale, float* dlogits);
void cross_entropy_soft_forward(const float* logits, const float* target, int64_t n, int64_t c, float* probs,
                                float* losses, float* total, float scale);
void cross_entropy_soft_backward(const float* probs, const float* target, int64_t n, int64_t c, const float* dy,
                                 int64_t dy_len, float scale, float* dlogits);
void nll_loss_forward(const float* log_probs, const int32_t* labels, int64_t n, int64_t c, float* losses,
                      float* total, float scale);
void nll_loss_backward(const int32_t* labels, int64_t n, int64_t c, const float* dy, int64_t dy_len, float scale,
                       float* dlog_probs);
void mse_loss_forward(const float* input, const float* target, int64_t count, float* losses, float* total,
                      float scale);
void mse_loss_backward(const float* input, const float* target, int64_t count, const float* dy, int64_t dy_len,
                       float scale, float* dinput, float* dtarget);
void bce_with_logits_forward(const float* logits, const float* target, int64_t count, const float* pos_weight,
                             int64_t pw_len, float* losses, float* total, float scale);
void bce_with_logits_backward(const float* logits, const float* target, int64_t count, const float* pos_weight,
                              int64_t pw_len, const float* dy, int64_t dy_len, float scale, float* dlogits,
                              float* dtarget);

// ---- batch normalisation ---------------------------------------------------------------------
// Training statistics in one call: per channel, mean and inv_std = 1/sqrt(var + eps) with the
// biased variance; when running_mean/running_var are non-null they move toward the batch
// statistics: r = (1 - momentum) r + momentum * stat, the variance unbiased (count/(count-1)).
void batch_norm_train_stats(const BatchNormShape& s, const float* x, float eps, float momentum, float* mean,
                            float* inv_std, float* running_mean, float* running_var);
// Evaluation: mean = running_mean, inv_std = 1/sqrt(running_var + eps) (copies, as the CPU path).
void batch_norm_eval_stats(int64_t c, const float* running_mean, const float* running_var, float eps, float* mean,
                           float* inv_std);
void batch_norm_forward(const BatchNormShape& s, const float* x, const float* mean, const float* inv_std,
                        const float* weight, const float* bias, float* y);
void batch_norm_backward(const BatchNormShape& s, const float* x, const float* dy, const float* mean,
                         const float* inv_std, const float* weight, bool training, float* dx, float* dweight,
                         float* dbias);

// ---- dropout ---------------------------------------------------------------------------------
void dropout_apply(const float* x, const uint8_t* mask, float scale, float* y, int64_t n);

// ---- elementwise helpers the autograd and ops layers need -------------------------------------
void fill(float* x, float value, int64_t n);
void axpy(float alpha, const float* x, float* y, int64_t n);   // y += alpha * x
void scale(float* x, float alpha, int64_t n);                   // x *= alpha
// y [m, n] = c broadcast from [rows, cols], where rows is 1 or m and cols is 1 or n.
void broadcast_2d(const float* c, int64_t rows, int64_t cols, int64_t m, int64_t n, float* y);
// dc [rows, cols] = beta * dy [m, n] summed over the broadcast dims (the adjoint of broadcast_2d).
void reduce_2d(const float* dy, int64_t rows, int64_t cols, int64_t m, int64_t n, float beta, float* dc);

// ---- broadcasting arithmetic, sums over axes, clamp (semantics in convkit/arith.h) -------------
// binary: one thread per output element; sum_axes: sums in double, combined in a fixed order
// (deterministic).
void binary(BinaryOp op, const BroadcastShape& g, const float* a, const float* b, float* y);
void sum_axes(const ReduceShape& g, const float* x, float beta, float* y);
void clamp(int64_t n, const float* x, float lo, float hi, float* y);
void clamp_backward(int64_t n, const float* x, const float* dy, float lo, float hi, float* dx);

// ---- optimizer updates (one fused pass per parameter; formulas and options in convkit/optim.h) -
using convkit::AdamStep;
using convkit::RmspropStep;
using convkit::SgdStep;
// buf may be null only when momentum is 0.
void sgd_step(const SgdStep& o, float* param, const float* grad, float* buf, int64_t n);
// max_exp_avg_sq non-null selects AMSGrad.
void adam_step(const AdamStep& o, float* param, const float* grad, float* exp_avg, float* exp_avg_sq,
               float* max_exp_avg_sq, int64_t n);
// momentum_buf is used when momentum > 0; grad_avg non-null selects the centered variant.
void rmsprop_step(const RmspropStep& o, float* param, const float* grad, float* square_avg, float* momentum_buf,
                  float* grad_avg, int64_t n);

}  // namespace convkit::cuda
