// 2-D convolution, NCHW input, OIHW weight ([out, in/groups, kh, kw]), im2col + GEMM.
#pragma once
#include <cstdint>
#include <vector>

namespace convkit {

struct ConvShape {
  int64_t n, c, h, w;                  // input
  int64_t o, kh, kw;                   // weight: o x (c/groups) x kh x kw
  int64_t stride_h, stride_w;
  int64_t pad_top, pad_left, pad_bottom, pad_right;
  int64_t dilation_h, dilation_w;
  int64_t groups;
  int64_t oh, ow;                      // output size, checked against the formula
};

// out = floor((in + pad_before + pad_after - dilation*(k-1) - 1) / stride) + 1
int64_t conv_output_size(int64_t in, int64_t k, int64_t stride, int64_t pad_before,
                         int64_t pad_after, int64_t dilation);

// Throws Error (range) naming the field when the shape is inconsistent or absurd.
void validate(const ConvShape& s);

// y[n, o, oh, ow]; bias may be null.
void conv2d_forward(const ConvShape& s, const float* x, const float* w, const float* bias, float* y);

// conv2d_forward, then y = max(y, 0) (NaN kept), inside the kernel where the layer takes the
// direct path (few channels), else as a second pass.
void conv2d_forward_relu(const ConvShape& s, const float* x, const float* w, const float* bias, float* y);

// The weights repacked once into the layout conv2d_forward would repack them into on every
// call (the direct kernel's [group][c][kh][kw][o], when it vectorises over channels); empty
// when the kernel reads them in place.
std::vector<float> conv2d_prepack_weights(const ConvShape& s, const float* w);

// conv2d_forward, or conv2d_forward_relu when relu, reading packed (from
// conv2d_prepack_weights for the same shape, any n; may be null) instead of repacking w.
void conv2d_forward_prepacked(const ConvShape& s, const float* x, const float* w, const float* packed,
                              const float* bias, float* y, bool relu);

// Any of dx, dw, db may be null (not wanted). Each one given is overwritten, not accumulated.
void conv2d_backward(const ConvShape& s, const float* x, const float* w, const float* dy,
                     float* dx, float* dw, float* db);

}  // namespace convkit
