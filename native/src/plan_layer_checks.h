// What the inference plan (plan.cpp) and the training plan (train_plan.cpp) check alike when a
// conv or pooling layer is added: its geometry for one image, and that it takes the elements per
// image it is given. Each returns the layer's output elements per image.
#pragma once
#include <cstdint>
#include <string>

#include "convkit/conv.h"
#include "convkit/error.h"
#include "convkit/pool.h"

namespace convkit {

inline void check_in_size(int64_t expected, int64_t in_size, const std::string& where, const char* kind) {
  if (expected != in_size)
    throw_range(where + " (" + kind + "): expects " + std::to_string(expected) + " inputs per image, gets " + std::to_string(in_size));
}

inline int64_t checked_conv_out_size(ConvShape& c, int64_t in_size, const std::string& where) {
  c.n = 1;
  validate(c);
  check_in_size(c.c * c.h * c.w, in_size, where, "conv");
  return c.o * c.oh * c.ow;
}

inline int64_t checked_pool_out_size(PoolShape& p, int64_t in_size, const std::string& where) {
  p.n = 1;
  validate(p);
  check_in_size(p.c * p.h * p.w, in_size, where, "pool");
  return p.c * p.oh * p.ow;
}

// Multiply-adds count 2: one image's forward.
inline int64_t conv_flops(const ConvShape& c) { return 2 * c.o * c.oh * c.ow * (c.c / c.groups) * c.kh * c.kw; }

}  // namespace convkit
