// 2-D max and average pooling, NCHW, with PyTorch semantics (ceil mode drops a window that
// would start inside the right/bottom padding; count_include_pad counts padding that lies
// inside the padded input only).
#pragma once
#include <cstdint>

namespace convkit {

struct PoolShape {
  int64_t n, c, h, w;
  int64_t kh, kw;
  int64_t stride_h, stride_w;
  int64_t pad_top, pad_left, pad_bottom, pad_right;
  int64_t dilation_h, dilation_w;      // max pool only; 1 for average pooling
  bool ceil_mode;
  bool count_include_pad;              // average pooling only
  int64_t oh, ow;                      // output size, checked against the formula
};

int64_t pool_output_size(int64_t in, int64_t k, int64_t stride, int64_t pad_before,
                         int64_t pad_after, int64_t dilation, bool ceil_mode);

void validate(const PoolShape& s);

// argmax (may be null when no backward pass will follow) gets, per output, the index
// ih*w + iw of the chosen input inside its own (n, c) plane, as in PyTorch.
void max_pool2d_forward(const PoolShape& s, const float* x, float* y, int32_t* argmax);
void max_pool2d_backward(const PoolShape& s, const float* dy, const int32_t* argmax, float* dx);

void avg_pool2d_forward(const PoolShape& s, const float* x, float* y);
void avg_pool2d_backward(const PoolShape& s, const float* dy, float* dx);

}  // namespace convkit
