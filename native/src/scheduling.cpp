#include "convkit/scheduling.h"

#include <cstdlib>
#include <cstring>

#if defined(__linux__)
#include <pthread.h>
#include <sched.h>
#define CONVKIT_HAS_SCHED_BATCH 1
#endif

namespace convkit {
namespace {

#if CONVKIT_HAS_SCHED_BATCH
int current_policy() {
  int policy = SCHED_OTHER;
  sched_param param{};
  if (pthread_getschedparam(pthread_self(), &policy, &param) != 0) return -1;
  return policy;
}

// From SCHED_OTHER to SCHED_BATCH at the same nice value: no privilege needed. A failure (a
// sandbox that forbids it) leaves the thread as it was, which only preempts as before.
void set_policy(int policy) {
  sched_param param{};
  pthread_setschedparam(pthread_self(), policy, &param);
}
#endif

}  // namespace

bool batch_scheduling_enabled() {
#if CONVKIT_HAS_SCHED_BATCH
  static const bool enabled = [] {
    const char* env = std::getenv("CONVKIT_SCHED_BATCH");
    return !(env && std::strcmp(env, "0") == 0);
  }();
  return enabled;
#else
  return false;
#endif
}

bool this_thread_batch_scheduled() {
#if CONVKIT_HAS_SCHED_BATCH
  return current_policy() == SCHED_BATCH;
#else
  return false;
#endif
}

void batch_scheduling_on_this_thread() {
#if CONVKIT_HAS_SCHED_BATCH
  if (batch_scheduling_enabled() && current_policy() == SCHED_OTHER) set_policy(SCHED_BATCH);
#endif
}

}  // namespace convkit
