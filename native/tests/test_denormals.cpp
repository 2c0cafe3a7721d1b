// FTZ/DAZ: subnormals flush to zero inside a FlushDenormalsScope and on the pool's threads, and
// the caller's mode comes back after the scope (JS code on that thread keeps IEEE subnormals).
#include <atomic>
#include <cfloat>

#include "convkit/denormals.h"
#include "convkit/threads.h"
#include "test_util.h"

namespace {

// volatile keeps the compiler from folding the product at compile time.
float product(float a, float b) {
  volatile float x = a, y = b;
  return x * y;
}

}  // namespace

int main() {
#if defined(__x86_64__) || defined(__i386__)
  const float tiny = FLT_MIN / 4;  // subnormal
  CHECK(product(tiny, 1.f) != 0.f, "without the scope a subnormal survives");
  {
    convkit::FlushDenormalsScope flush;
    CHECK(product(tiny, 1.f) == 0.f, "inside the scope a subnormal input is treated as zero");
    CHECK(product(FLT_MIN, 0.5f) == 0.f, "inside the scope a subnormal result is flushed");
  }
  CHECK(product(tiny, 1.f) != 0.f, "the scope restores the caller's mode");

  std::atomic<int> flushed{0}, threads{0};
  convkit::parallel_run([&](int, int) {
    threads++;
    if (product(tiny, 1.f) == 0.f) flushed++;
  });
  // Every thread of a parallel region flushes, the caller's share included.
  CHECK(flushed.load() == threads.load(), "%d of %d threads of a parallel region flush subnormals", flushed.load(), threads.load());
  CHECK(product(tiny, 1.f) != 0.f, "after a parallel region the caller's mode is back");
#endif
  return test::finish("test_denormals");
}
