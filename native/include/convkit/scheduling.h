// The compute threads' scheduling policy. On Linux they run under SCHED_BATCH: the same share of
// the CPU as any other thread of the same nice value, but their wake-ups do not preempt the
// thread that is running. Without it, the libuv worker that an async call wakes was placed on
// the event loop's core and preempted the loop for its whole first time slice, and the pool's
// threads, woken for each parallel region, did the same: on 2 cores the loop's 1 ms timer was
// 2-4 ms late around each LeNet batch run with runAsync. The pool's threads take the policy when
// they start, a libuv worker when it first runs convkit's async work, and both keep it: the
// wake-up is what preempts, so a policy taken only while the work runs comes too late. Node's
// other work on those libuv threads (fs, crypto, zlib) then runs the same way, at the same
// share of the CPU. CONVKIT_SCHED_BATCH=0 turns it off (elsewhere than Linux it is always off).
#pragma once

namespace convkit {

// Whether compute threads switch to SCHED_BATCH (read once from CONVKIT_SCHED_BATCH).
bool batch_scheduling_enabled();

// Whether the calling thread runs under SCHED_BATCH now (for tests).
bool this_thread_batch_scheduled();

// Switches this thread to SCHED_BATCH for its lifetime, when enabled and when it runs under the
// default policy (a thread made real-time or idle keeps what it has).
void batch_scheduling_on_this_thread();


}  // namespace convkit
