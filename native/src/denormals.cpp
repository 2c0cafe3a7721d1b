#include "convkit/denormals.h"

#include <cstdlib>
#include <cstring>

#if defined(__x86_64__) || defined(__i386__)
#include <xmmintrin.h>
#define CONVKIT_HAS_MXCSR 1
#endif

namespace convkit {
namespace {

#if CONVKIT_HAS_MXCSR
constexpr unsigned kFlushBits = 0x8040;  // MXCSR FTZ (bit 15) | DAZ (bit 6)
unsigned read_mode() { return _mm_getcsr(); }
void write_mode(unsigned mode) { _mm_setcsr(mode); }
#else
// Other architectures keep their default mode (the scalar path there is not the hot one).
constexpr unsigned kFlushBits = 0;
unsigned read_mode() { return 0; }
void write_mode(unsigned) {}
#endif

}  // namespace

bool flush_denormals_enabled() {
  static const bool enabled = [] {
    const char* env = std::getenv("CONVKIT_FLUSH_DENORMALS");
    return kFlushBits != 0 && !(env && std::strcmp(env, "0") == 0);
  }();
  return enabled;
}

void flush_denormals_on_this_thread() {
  if (flush_denormals_enabled()) write_mode(read_mode() | kFlushBits);
}

FlushDenormalsScope::FlushDenormalsScope() : saved_(0), active_(flush_denormals_enabled()) {
  if (!active_) return;
  saved_ = read_mode();
  if ((saved_ & kFlushBits) != kFlushBits) write_mode(saved_ | kFlushBits);
  else active_ = false;  // already flushing (a pool thread): nothing to restore
}

FlushDenormalsScope::~FlushDenormalsScope() {
  if (active_) write_mode(saved_);
}

}  // namespace convkit
