// Internal: im2col / col2im for convkit's convolution (conv.cpp).
//
// The column matrix of one image has K = c*kh*kw rows, row r = (ci*kh + ky)*kw + kx, and one
// column per output position (oy*ow + ox). Group g owns the contiguous rows
// [g*Kg, (g+1)*Kg), Kg = (c/groups)*kh*kw, matching the OIHW weight layout. Several images
// (or a range of output rows of one image) sit side by side: an image's block starts at
// `col` and rows are `ldcol` floats apart.
#pragma once
#include <cstdint>

#include "convkit/conv.h"

namespace convkit {
namespace detail {

// Writes rows [r0, r1) of the column matrix of image x_img (c x h x w) for output rows
// [oy0, oy1): col[r*ldcol + (oy - oy0)*ow + ox]. Padding reads as 0. Serial.
void im2col_rows(const ConvShape& s, const float* x_img, int64_t r0, int64_t r1, int64_t oy0, int64_t oy1,
                 float* col, int64_t ldcol);

// The adjoint for channels [c0, c1) of one image: dx_img[ci, iy, ix] += col[...] over every
// (ky, kx, oy in [oy0, oy1), ox) that reads it. With zero_first, those channel planes of
// dx_img are zeroed first. Channels are independent, so threads may split them. Serial.
void col2im_channels(const ConvShape& s, const float* col, int64_t ldcol, int64_t oy0, int64_t oy1, int64_t c0,
                     int64_t c1, float* dx_img, bool zero_first);

}  // namespace detail
}  // namespace convkit
