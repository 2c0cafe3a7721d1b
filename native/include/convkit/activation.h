// Elementwise activations and softmax along one axis, forward and backward, vectorised per
// ISA. Backward passes overwrite dx. Tensors for softmax are viewed as [outer, dim, inner].
#pragma once
#include <cstdint>

namespace convkit {

void relu_forward(const float* x, float* y, int64_t n);
void relu_backward(const float* x, const float* dy, float* dx, int64_t n);
void leaky_relu_forward(const float* x, float* y, int64_t n, float slope);
void leaky_relu_backward(const float* x, const float* dy, float* dx, int64_t n, float slope);
void sigmoid_forward(const float* x, float* y, int64_t n);
void sigmoid_backward(const float* y, const float* dy, float* dx, int64_t n);  // from the output
void tanh_forward(const float* x, float* y, int64_t n);
void tanh_backward(const float* y, const float* dy, float* dx, int64_t n);     // from the output

void softmax_forward(const float* x, float* y, int64_t outer, int64_t dim, int64_t inner);
void softmax_backward(const float* y, const float* dy, float* dx, int64_t outer, int64_t dim, int64_t inner);
void log_softmax_forward(const float* x, float* y, int64_t outer, int64_t dim, int64_t inner);
void log_softmax_backward(const float* y, const float* dy, float* dx, int64_t outer, int64_t dim, int64_t inner);

}  // namespace convkit
