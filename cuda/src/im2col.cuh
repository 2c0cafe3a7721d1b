// im2col / col2im on the device for a chunk of images, so that one GEMM covers many images.
//
// The column matrix of images [i0, i0 + nb) is cols[K, nb*P]: K = c*kh*kw rows, row
// r = (ci*kh + ky)*kw + kx, and column img*P + oy*ow + ox (P = oh*ow, img counted from i0).
// Group g's matrix [Kg, nb*P] (Kg = K/groups) is the contiguous block of rows [g*Kg, (g+1)*Kg),
// matching the OIHW weight layout. The kernels index inside one image and one chunk with
// int: the caller keeps c*kh*kw, the padded height and width, h*w, nb*P and nb*c below 2^30.
#pragma once
#include <cstdint>

#include "convkit/conv.h"

namespace convkit::cuda {

// Fills cols from x (the whole batch); padding reads as 0.
void im2col(const ConvShape& s, const float* x, int64_t i0, int64_t nb, float* cols);

// The same for output rows [oy0, oy1) of image img alone: cols [K, (oy1 - oy0)*ow], the column of
// (oy, ox) being (oy - oy0)*ow + ox. For an image too large to hold its columns at once.
void im2col_rows(const ConvShape& s, const float* x, int64_t img, int64_t oy0, int64_t oy1, float* cols);

// The adjoint: dx[i0 .. i0 + nb) (the whole batch's gradient) is overwritten with, for each
// input element, the sum of the column entries that read it. One thread per input element
// gathers in a fixed order: no atomics, deterministic.
void col2im(const ConvShape& s, const float* cols, int64_t i0, int64_t nb, float* dx);

// The adjoint of im2col_rows, accumulated: adds to image img of dx (the whole batch's gradient)
// the column entries of output rows [oy0, oy1) alone, touching only the input rows they read.
// Over ranges that cover the image, onto zeros, it gives col2im's result up to rounding (the
// terms are summed range by range); one thread per input element, so still no atomics.
void col2im_rows_add(const ConvShape& s, const float* cols, int64_t img, int64_t oy0, int64_t oy1, float* dx);

}  // namespace convkit::cuda
