#include "convkit/isa.h"

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>

#include "convkit/error.h"

namespace convkit {
namespace {

#if CONVKIT_X86_KERNELS
// libgcc's __builtin_cpu_supports checks XCR0 too, so a CPU whose OS has not enabled the
// wide registers reports the feature as missing.
bool cpu_has_avx512() {
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
         __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl");
}
bool cpu_has_avx2() { return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"); }
void cpu_features_init() { __builtin_cpu_init(); }
#else
// Not x86 (or built without the AVX files): the scalar kernels are the only ones compiled.
bool cpu_has_avx512() { return false; }
bool cpu_has_avx2() { return false; }
void cpu_features_init() {}
#endif

std::once_flag init_once;
std::atomic<int> active{static_cast<int>(Isa::scalar)};
std::string note;

void init() {
  cpu_features_init();
  Isa chosen = best_supported_isa();
  if (const char* env = std::getenv("CONVKIT_ISA"); env && *env) {
    Isa wanted;
    if (!parse_isa(env, &wanted)) {
      note = std::string("CONVKIT_ISA=") + env + " is not one of scalar, avx2, avx512; using " + isa_name(chosen);
    } else if (!isa_supported(wanted)) {
      note = std::string("CONVKIT_ISA=") + env + " is not supported by this CPU; using " + isa_name(chosen);
    } else {
      chosen = wanted;
      if (wanted != best_supported_isa()) note = std::string("forced by CONVKIT_ISA=") + env;
    }
  }
  active.store(static_cast<int>(chosen));
}

}  // namespace

bool isa_supported(Isa isa) {
  switch (isa) {
    case Isa::scalar: return true;
    case Isa::avx2: return cpu_has_avx2();
    case Isa::avx512: return cpu_has_avx512() && cpu_has_avx2();
  }
  return false;
}

Isa best_supported_isa() {
  if (isa_supported(Isa::avx512)) return Isa::avx512;
  if (isa_supported(Isa::avx2)) return Isa::avx2;
  return Isa::scalar;
}

Isa active_isa() {
  std::call_once(init_once, init);
  return static_cast<Isa>(active.load(std::memory_order_relaxed));
}

void set_active_isa(Isa isa) {
  std::call_once(init_once, init);
  if (!isa_supported(isa)) throw_range(std::string("isa: this CPU cannot run ") + isa_name(isa));
  active.store(static_cast<int>(isa));
}

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::scalar: return "scalar";
    case Isa::avx2: return "avx2";
    case Isa::avx512: return "avx512";
  }
  return "unknown";
}

bool parse_isa(const char* name, Isa* out) {
  for (Isa isa : {Isa::scalar, Isa::avx2, Isa::avx512}) {
    if (std::strcmp(name, isa_name(isa)) == 0) {
      *out = isa;
      return true;
    }
  }
  return false;
}

const char* isa_note() {
  std::call_once(init_once, init);
  return note.c_str();
}

}  // namespace convkit
