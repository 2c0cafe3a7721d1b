// SCHED_BATCH on Linux: the pool's threads run under it from their start, and a thread that asks
// (a libuv worker on its first async call) switches to it; CONVKIT_SCHED_BATCH=0 turns it off.
// SCHED_IDLE is for a thread that asks for it (a serving pool's worker). Yield points yield at
// most once per interval of work, and never with CONVKIT_YIELD=0.
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <thread>

#include "convkit/scheduling.h"
#include "convkit/threads.h"
#include "test_util.h"

int main() {
#if defined(__linux__)
  CHECK(convkit::batch_scheduling_enabled() == !(std::getenv("CONVKIT_SCHED_BATCH") && std::string(std::getenv("CONVKIT_SCHED_BATCH")) == "0"),
        "enabled unless CONVKIT_SCHED_BATCH=0");
  CHECK(convkit::this_thread_policy() == convkit::ThreadPolicy::normal, "the main thread starts under the default policy");
  convkit::set_num_threads(3);
  const auto caller = std::this_thread::get_id();
  std::atomic<int> pool_threads{0}, batch{0};
  for (int round = 0; round < 20 && pool_threads.load() == 0; ++round) {
    convkit::parallel_run([&](int, int) {
      // Long enough that the workers (which do not preempt anyone to start) claim their share.
      const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(2);
      while (std::chrono::steady_clock::now() < until) {}
      if (std::this_thread::get_id() == caller) return;
      pool_threads++;
      if (convkit::this_thread_policy() == convkit::ThreadPolicy::batch) batch++;
    });
  }
  CHECK(pool_threads.load() > 0, "some share of a region ran on a pool thread");
  CHECK(convkit::this_thread_policy() == convkit::ThreadPolicy::normal, "a parallel region leaves its caller's policy alone");
  std::thread asker([&] {
    convkit::batch_scheduling_on_this_thread();
    const bool switched = convkit::this_thread_policy() == convkit::ThreadPolicy::batch;
    CHECK(switched == convkit::batch_scheduling_enabled(), "a thread that asks runs under SCHED_BATCH exactly when enabled");
    // Where the sandbox let this thread switch, the pool's threads switched too.
    if (switched) CHECK(batch.load() == pool_threads.load(), "%d of %d pool threads under SCHED_BATCH", batch.load(), pool_threads.load());
  });
  asker.join();
  std::thread idler([] {
    convkit::idle_scheduling_on_this_thread();
    CHECK(convkit::this_thread_policy() == convkit::ThreadPolicy::idle, "a thread that asks for SCHED_IDLE gets it (policy %s)",
          convkit::policy_name(convkit::this_thread_policy()));
  });
  idler.join();
  CHECK(convkit::this_thread_policy() == convkit::ThreadPolicy::normal, "other threads' policies leave the caller's alone");
#endif

  // Yield points: at most one per interval of work (the first after one has passed), and some
  // over 20 intervals. Nothing asserts how soon: a loaded machine may preempt this thread anywhere.
  {
    const auto start = std::chrono::steady_clock::now();
    convkit::YieldPoints points;
    const auto until = start + 20 * convkit::YieldPoints::kInterval;
    while (std::chrono::steady_clock::now() < until) points.maybe_yield();
    const auto elapsed = std::chrono::steady_clock::now() - start;
    const int most = int(elapsed / convkit::YieldPoints::kInterval);
    if (convkit::yield_points_enabled()) {
      CHECK(points.yields() >= 1 && points.yields() <= most, "%d yields in %d intervals of work", points.yields(), most);
    } else {
      CHECK(points.yields() == 0, "CONVKIT_YIELD=0 turns them off (%d yields)", points.yields());
    }
  }
  return test::finish("test_scheduling");
}
