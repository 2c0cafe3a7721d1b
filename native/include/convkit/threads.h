// The core's own thread pool, sized to the cores (or CONVKIT_NUM_THREADS) and resizable.
// A parallel region entered while another is running (nested, or from a second libuv
// worker) runs inline on the calling thread instead of waiting, so it can never deadlock.
#pragma once
#include <cstdint>
#include <functional>

namespace convkit {

int num_threads();
void set_num_threads(int n);           // 1..1024, throws Error(range) otherwise
int hardware_threads();

// Runs fn(tid, nthreads) once on each of nthreads threads (the caller is tid 0), and returns
// when all are done. nthreads is num_threads(), or 1 when the pool is busy.
void parallel_run(const std::function<void(int tid, int nthreads)>& fn);

// Runs fn on the calling thread with the pool held, so that every kernel fn calls runs
// single-threaded: for work too small to be worth waking the pool for, once per kernel.
void run_serially(const std::function<void()>& fn);

// Splits [0, n) into contiguous chunks of at least `grain` items, at most one per thread,
// and runs fn(begin, end) for each.
void parallel_for(int64_t n, int64_t grain, const std::function<void(int64_t begin, int64_t end)>& fn);

// A reusable barrier for the threads of one parallel_run (BLIS-style shared packing).
class Barrier {
 public:
  explicit Barrier(int count);
  void wait();
 private:
  int count_;
  void* impl_;  // atomics + mutex + condition variable, kept out of the header
 public:
  ~Barrier();
  Barrier(const Barrier&) = delete;
  Barrier& operator=(const Barrier&) = delete;
};

}  // namespace convkit
