// Scalar layout kernels (baseline x86-64, and every CPU without AVX2).
#include <cstdint>

#include "layout_kernels.h"

namespace convkit {
namespace {

#define CONVKIT_LAYOUT_KERNELS_IMPL
#include "layout_kernels.h"

}  // namespace

extern const LayoutKernels layout_kernels_scalar = {transpose_scalar, argmax_columns_scalar, argmax_row_scalar};

}  // namespace convkit
