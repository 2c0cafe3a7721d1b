// Shapes for the conv and pool kernel tests (CPU and CUDA): build one from its sizes with the
// output size computed, and describe it in a failure message.
#pragma once
#include <cstdio>
#include <string>

#include "convkit/conv.h"
#include "convkit/pool.h"

namespace test {

inline convkit::ConvShape conv_shape(int64_t n, int64_t c, int64_t h, int64_t w, int64_t o, int64_t kh, int64_t kw,
                                     int64_t sh = 1, int64_t sw = 1, int64_t pt = 0, int64_t pl = 0, int64_t pb = 0,
                                     int64_t pr = 0, int64_t dh = 1, int64_t dw = 1, int64_t g = 1) {
  convkit::ConvShape s{n, c, h, w, o, kh, kw, sh, sw, pt, pl, pb, pr, dh, dw, g, 0, 0};
  s.oh = convkit::conv_output_size(h, kh, sh, pt, pb, dh);
  s.ow = convkit::conv_output_size(w, kw, sw, pl, pr, dw);
  return s;
}

inline convkit::PoolShape pool_shape(int64_t n, int64_t c, int64_t h, int64_t w, int64_t kh, int64_t kw, int64_t sh,
                                     int64_t sw, int64_t pt = 0, int64_t pl = 0, int64_t pb = 0, int64_t pr = 0,
                                     int64_t dh = 1, int64_t dw = 1, bool ceil = false, bool cip = true) {
  convkit::PoolShape s{n, c, h, w, kh, kw, sh, sw, pt, pl, pb, pr, dh, dw, ceil, cip, 0, 0};
  s.oh = convkit::pool_output_size(h, kh, sh, pt, pb, dh, ceil);
  s.ow = convkit::pool_output_size(w, kw, sw, pl, pr, dw, ceil);
  return s;
}

inline std::string describe(const convkit::ConvShape& s) {
  char buf[256];
  std::snprintf(buf, sizeof buf,
                "n%lld c%lld %lldx%lld o%lld k%lldx%lld s%lldx%lld pad(%lld,%lld,%lld,%lld) d%lldx%lld g%lld",
                (long long)s.n, (long long)s.c, (long long)s.h, (long long)s.w, (long long)s.o, (long long)s.kh,
                (long long)s.kw, (long long)s.stride_h, (long long)s.stride_w, (long long)s.pad_top,
                (long long)s.pad_left, (long long)s.pad_bottom, (long long)s.pad_right, (long long)s.dilation_h,
                (long long)s.dilation_w, (long long)s.groups);
  return buf;
}

inline std::string describe(const convkit::PoolShape& s) {
  char b[256];
  std::snprintf(b, sizeof b, "n%lld c%lld %lldx%lld k%lldx%lld s%lldx%lld pad(%lld,%lld,%lld,%lld) d%lldx%lld%s%s",
                (long long)s.n, (long long)s.c, (long long)s.h, (long long)s.w, (long long)s.kh, (long long)s.kw,
                (long long)s.stride_h, (long long)s.stride_w, (long long)s.pad_top, (long long)s.pad_left,
                (long long)s.pad_bottom, (long long)s.pad_right, (long long)s.dilation_h, (long long)s.dilation_w,
                s.ceil_mode ? " ceil" : "", s.count_include_pad ? " cip" : "");
  return b;
}

}  // namespace test
