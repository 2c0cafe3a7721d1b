// Flush-to-zero and denormals-are-zero for native arithmetic. Subnormal floats (|x| < 1.2e-38)
// take a microcode path that is 10-100x slower on x86; weights and gradients drift into that
// range late in training. The pool threads flush for their whole life; a thread that JS code
// also runs on (the main thread, a libuv worker) flushes only inside a FlushDenormalsScope, so
// JavaScript's own arithmetic keeps IEEE subnormals. CONVKIT_FLUSH_DENORMALS=0 turns it off.
#pragma once

namespace convkit {

// Whether native code flushes subnormals (read once from CONVKIT_FLUSH_DENORMALS).
bool flush_denormals_enabled();

// Sets FTZ/DAZ on this thread for its lifetime, when enabled (the pool's worker threads).
void flush_denormals_on_this_thread();

// Sets FTZ/DAZ on this thread for the scope and restores the previous mode after it.
class FlushDenormalsScope {
 public:
  FlushDenormalsScope();
  ~FlushDenormalsScope();
  FlushDenormalsScope(const FlushDenormalsScope&) = delete;
  FlushDenormalsScope& operator=(const FlushDenormalsScope&) = delete;

 private:
  unsigned saved_;
  bool active_;
};

}  // namespace convkit
