#include "convkit/scheduling.h"

#include <cstdlib>
#include <cstring>
#include <thread>

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

// From SCHED_OTHER to SCHED_BATCH or SCHED_IDLE: no privilege needed. A failure (a sandbox
// that forbids it) leaves the thread as it was, which only preempts as before.
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

ThreadPolicy this_thread_policy() {
#if CONVKIT_HAS_SCHED_BATCH
  switch (current_policy()) {
    case SCHED_OTHER: return ThreadPolicy::normal;
    case SCHED_BATCH: return ThreadPolicy::batch;
    case SCHED_IDLE: return ThreadPolicy::idle;
    default: return ThreadPolicy::other;
  }
#else
  return ThreadPolicy::other;
#endif
}

const char* policy_name(ThreadPolicy policy) {
  switch (policy) {
    case ThreadPolicy::normal: return "normal";
    case ThreadPolicy::batch: return "batch";
    case ThreadPolicy::idle: return "idle";
    default: return "other";
  }
}

void batch_scheduling_on_this_thread() {
#if CONVKIT_HAS_SCHED_BATCH
  if (batch_scheduling_enabled() && current_policy() == SCHED_OTHER) set_policy(SCHED_BATCH);
#endif
}

bool yield_points_enabled() {
  static const bool enabled = [] {
    const char* env = std::getenv("CONVKIT_YIELD");
    return !(env && std::strcmp(env, "0") == 0);
  }();
  return enabled;
}

YieldPoints::YieldPoints() : next_(std::chrono::steady_clock::now() + kInterval) {}

void YieldPoints::maybe_yield() {
  if (!yield_points_enabled()) return;
  const auto now = std::chrono::steady_clock::now();
  if (now < next_) return;
  std::this_thread::yield();  // sched_yield on Linux
  ++yields_;
  next_ = std::chrono::steady_clock::now() + kInterval;
}

void idle_scheduling_on_this_thread() {
#if CONVKIT_HAS_SCHED_BATCH
  const int policy = current_policy();
  if (policy == SCHED_OTHER || policy == SCHED_BATCH) set_policy(SCHED_IDLE);
#endif
}

}  // namespace convkit
