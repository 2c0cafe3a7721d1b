// Internal: how the memory-bound elementwise passes (elementwise.cpp, arith.cpp) split their
// work over threads. Every such pass is limited by memory bandwidth, so below kGrain elements
// it stays on the calling thread.
#pragma once
#include <algorithm>
#include <cstdint>

#include "convkit/threads.h"

namespace convkit {

// Below this many elements a second thread costs more than it saves: axpy on 2^14 floats
// took 0.82 us on one thread, 0.95 on two; 2^15 1.9 against 2.1 (hot pool, AVX-512).
// Also the size of the blocks of a total sum, whose partials are added in order.
constexpr int64_t kGrain = int64_t(1) << 15;

inline int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// fn(begin, end) over [0, n) in 64-element aligned ranges, one per thread for large n.
template <class F>
void for_elems(int64_t n, F&& fn) {
  if (n <= kGrain) {
    if (n > 0) fn(int64_t(0), n);
    return;
  }
  parallel_for(ceil_div(n, 64), kGrain / 64,
               [&](int64_t b0, int64_t b1) { fn(b0 * 64, std::min(n, b1 * 64)); });
}

}  // namespace convkit
