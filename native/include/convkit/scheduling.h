// The compute threads' scheduling policy. On Linux they run under SCHED_BATCH: the same share of
// the CPU as any other thread of the same nice value, but their wake-ups do not preempt the
// thread that is running (sched(7)). The event loop wakes a libuv worker for every async call,
// and the pool wakes its threads for every parallel region; under the default policy a woken
// thread may take the core of the thread that woke it, the event loop's. With SCHED_BATCH, 200
// back-to-back LeNet runAsync calls on 2 cores saw about a fifth fewer 1 ms timer ticks late by
// more than 0.8 ms (a modest gain, measured in alternating runs on a noisy VM). The pool's
// threads take the policy when they start, a libuv worker when it first runs convkit's async
// work, and both keep it: the wake-up is what preempts, so a policy taken only while the work
// runs comes too late. Node's other work on those libuv threads (fs, crypto, zlib) then runs the
// same way, at the same share of the CPU. CONVKIT_SCHED_BATCH=0 turns it off (elsewhere than
// Linux it is always off).
#pragma once
#include <chrono>

namespace convkit {

// Whether compute threads switch to SCHED_BATCH (read once from CONVKIT_SCHED_BATCH).
bool batch_scheduling_enabled();

// The calling thread's scheduling policy now (other: real-time, deadline, or not Linux).
enum class ThreadPolicy { normal, batch, idle, other };
ThreadPolicy this_thread_policy();
const char* policy_name(ThreadPolicy policy);

// Switches this thread to SCHED_BATCH for its lifetime, when enabled and when it runs under the
// default policy (a thread made real-time or idle keeps what it has).
void batch_scheduling_on_this_thread();

// Switches this thread to SCHED_IDLE for its lifetime (from the default or batch policy): it
// runs only on CPU time that no other thread wants. For threads that must never delay the event
// loop, such as the workers of a machine that serves and does little else; under other load on
// the machine they get next to nothing. Not governed by CONVKIT_SCHED_BATCH: it is asked for.
void idle_scheduling_on_this_thread();

// Yield points in long computations. A thread woken on a core where a compute thread runs (the
// event loop, woken by a timer or a finished call) often cannot preempt it: the kernel places it
// behind, and re-checks only at its next tick, 4 ms apart at HZ=250. A compute thread that calls
// maybe_yield() between chunks of work gives the core up once per kInterval of its computing, so
// such a thread waits for at most about that long. sched_yield keeps the thread's share of the
// CPU (under EEVDF it only moves its deadline), and returns at once when nothing else waits for
// the core. CONVKIT_YIELD=0 turns the yield points off (read once).
class YieldPoints {
 public:
  static constexpr std::chrono::microseconds kInterval{100};
  YieldPoints();
  void maybe_yield();
  int yields() const { return yields_; }

 private:
  std::chrono::steady_clock::time_point next_;
  int yields_ = 0;
};

bool yield_points_enabled();

}  // namespace convkit
