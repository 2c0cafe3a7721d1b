#include "convkit/threads.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "convkit/denormals.h"
#include "convkit/error.h"
#include "convkit/scheduling.h"

namespace convkit {
namespace {

void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

// Polls `ready` for up to ~50 us (a futex wake-up costs tens of microseconds); true if it
// became true. (Yielding between polls measured worse on an oversubscribed machine: the
// scheduler hands the core to the other process for a whole time slice.)
template <class Ready>
bool spin_until(Ready&& ready) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::microseconds(50);
  for (;;) {
    for (int i = 0; i < 64; ++i) {
      if (ready()) return true;
      cpu_relax();
    }
    if (std::chrono::steady_clock::now() > deadline) return ready();
  }
}

// A region publishes the job and bumps the epoch; the caller runs tid 0 itself, then runs
// any tid whose worker has not claimed it yet (a worker on a core busy with another process
// can take milliseconds to be scheduled), then waits for the rest. Workers spin briefly on
// the epoch before sleeping on a condition variable, because back-to-back regions (GEMM
// after GEMM) are the common case and a futex wake-up costs tens of microseconds.
class ThreadPool {
 public:
  ThreadPool() { resize(initial_size()); }
  ~ThreadPool() { stop_workers(); }

  // Lock-free, so that asking does not wait for a running region to finish.
  int size() const { return published_size_.load(std::memory_order_relaxed); }

  void resize(int n) {
    std::lock_guard<std::mutex> region(region_mutex_);
    stop_workers();
    size_ = n;
    published_size_.store(n, std::memory_order_relaxed);
    stopping_ = false;
    const uint64_t current = epoch_.load();
    claimed_.reset(new std::atomic<uint64_t>[size_t(n)]);
    for (int tid = 0; tid < n; ++tid) claimed_[tid].store(current);
    for (int tid = 1; tid < n; ++tid) workers_.emplace_back([this, tid, current] { worker_loop(tid, current); });
  }

  // Holding the region makes every parallel region fn enters run inline on this thread.
  void serially(const std::function<void()>& fn) {
    std::unique_lock<std::mutex> region(region_mutex_, std::try_to_lock);
    fn();
  }

  void run(const std::function<void(int, int)>& fn) {
    std::unique_lock<std::mutex> region(region_mutex_, std::try_to_lock);
    if (!region.owns_lock() || size_ == 1) {
      fn(0, 1);  // busy (nested or concurrent caller) or single-threaded: run inline
      return;
    }
    job_ = &fn;
    first_error_ = nullptr;
    pending_.store(size_ - 1, std::memory_order_relaxed);
    uint64_t epoch;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      epoch = epoch_.fetch_add(1, std::memory_order_release) + 1;
    }
    wake_.notify_all();
    try {
      fn(0, size_);
    } catch (...) {
      record_error(std::current_exception());
    }
    for (int tid = 1; tid < size_; ++tid) {
      if (!claim(tid, epoch)) continue;
      try {
        fn(tid, size_);
      } catch (...) {
        record_error(std::current_exception());
      }
      pending_.fetch_sub(1, std::memory_order_acq_rel);
    }
    if (!spin_until([this] { return pending_.load(std::memory_order_acquire) == 0; })) {
      std::unique_lock<std::mutex> lock(mutex_);
      done_.wait(lock, [this] { return pending_.load(std::memory_order_acquire) == 0; });
    }
    job_ = nullptr;
    if (first_error_) std::rethrow_exception(first_error_);
  }

 private:
  static int initial_size() {
    if (const char* env = std::getenv("CONVKIT_NUM_THREADS"); env && *env) {
      int n = std::atoi(env);
      if (n >= 1 && n <= 1024) return n;
    }
    return hardware_threads();
  }

  void worker_loop(int tid, uint64_t seen) {
    flush_denormals_on_this_thread();
    batch_scheduling_on_this_thread();
    for (;;) {
      auto has_news = [&] {
        return stopping_.load(std::memory_order_acquire) || epoch_.load(std::memory_order_acquire) != seen;
      };
      if (!spin_until(has_news)) {
        std::unique_lock<std::mutex> lock(mutex_);
        wake_.wait(lock, has_news);
      }
      if (stopping_.load(std::memory_order_acquire)) return;
      seen = epoch_.load(std::memory_order_acquire);
      if (!claim(tid, seen)) continue;  // the caller ran this tid itself
      try {
        (*job_)(tid, size_);
      } catch (...) {
        record_error(std::current_exception());
      }
      if (pending_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
        std::lock_guard<std::mutex> lock(mutex_);  // pairs with the caller's predicate check
        done_.notify_one();
      }
    }
  }

  // Each tid of a region runs exactly once: on its worker or on the caller, whichever claims
  // it first. Every region claims every tid, so before region `epoch` the mark is epoch - 1.
  bool claim(int tid, uint64_t epoch) {
    uint64_t previous = epoch - 1;
    return claimed_[tid].compare_exchange_strong(previous, epoch, std::memory_order_acq_rel);
  }

  void record_error(std::exception_ptr error) {
    std::lock_guard<std::mutex> lock(error_mutex_);
    if (!first_error_) first_error_ = error;
  }

  void stop_workers() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_.store(true, std::memory_order_release);
    }
    wake_.notify_all();
    for (auto& t : workers_) t.join();
    workers_.clear();
  }

  std::mutex region_mutex_;  // one parallel region at a time
  std::mutex mutex_;
  std::mutex error_mutex_;
  std::condition_variable wake_, done_;
  std::vector<std::thread> workers_;
  const std::function<void(int, int)>* job_ = nullptr;
  std::exception_ptr first_error_;
  std::atomic<uint64_t> epoch_{0};
  std::unique_ptr<std::atomic<uint64_t>[]> claimed_;  // per tid: the last region that claimed it
  std::atomic<int> pending_{0};
  int size_ = 1;
  std::atomic<int> published_size_{1};
  std::atomic<bool> stopping_{false};
};

ThreadPool& pool() {
  static ThreadPool instance;
  return instance;
}

}  // namespace

int hardware_threads() { return std::max(1u, std::thread::hardware_concurrency()); }

int num_threads() { return pool().size(); }

void set_num_threads(int n) {
  if (n < 1 || n > 1024) throw_range("setNumThreads: n must be an integer in [1, 1024], got " + std::to_string(n));
  pool().resize(n);
}

void parallel_run(const std::function<void(int, int)>& fn) {
  FlushDenormalsScope flush;  // the caller's share of the work flushes like the pool threads
  pool().run(fn);
}

void run_serially(const std::function<void()>& fn) {
  FlushDenormalsScope flush;
  pool().serially(fn);
}

void parallel_for(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn) {
  if (n <= 0) return;
  grain = std::max<int64_t>(grain, 1);
  if (n <= grain) {
    fn(0, n);
    return;
  }
  parallel_run([&](int tid, int nthreads) {
    int64_t chunks = std::min<int64_t>(nthreads, (n + grain - 1) / grain);
    if (tid >= chunks) return;
    int64_t begin = n * tid / chunks, end = n * (tid + 1) / chunks;
    if (begin < end) fn(begin, end);
  });
}

// Spins briefly before sleeping, like the pool's workers: GEMM threads meet at a barrier
// every k-block, usually within microseconds of each other.
struct BarrierImpl {
  std::mutex mutex;
  std::condition_variable cv;
  std::atomic<int> waiting{0};
  std::atomic<unsigned> generation{0};
};

Barrier::Barrier(int count) : count_(count), impl_(new BarrierImpl) {}
Barrier::~Barrier() { delete static_cast<BarrierImpl*>(impl_); }

void Barrier::wait() {
  auto* impl = static_cast<BarrierImpl*>(impl_);
  const unsigned gen = impl->generation.load(std::memory_order_acquire);
  if (impl->waiting.fetch_add(1, std::memory_order_acq_rel) + 1 == count_) {
    impl->waiting.store(0, std::memory_order_relaxed);
    {
      std::lock_guard<std::mutex> lock(impl->mutex);
      impl->generation.fetch_add(1, std::memory_order_release);
    }
    impl->cv.notify_all();
    return;
  }
  auto released = [&] { return impl->generation.load(std::memory_order_acquire) != gen; };
  if (spin_until(released)) return;
  std::unique_lock<std::mutex> lock(impl->mutex);
  impl->cv.wait(lock, released);
}

}  // namespace convkit
