#include "convkit/host_memory.h"

#include <sys/mman.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <new>
#include <unordered_map>
#include <vector>

namespace convkit::host_memory {
namespace {

constexpr size_t kSmallStep = 512;
constexpr size_t kLargeFrom = size_t(1) << 20;  // 1 MiB: from here on, huge-page mappings
constexpr size_t kHugePage = size_t(2) << 20;
constexpr int64_t kDefaultLimit = int64_t(512) << 20;

size_t size_class(size_t bytes) {
  if (bytes < kLargeFrom) return (bytes + kSmallStep - 1) / kSmallStep * kSmallStep;
  return (bytes + kHugePage - 1) / kHugePage * kHugePage;
}

// A 2 MiB-aligned anonymous mapping (over-map, then trim both ends), advised to use huge
// pages, which THP's `madvise` mode honours.
void* map_huge(size_t bytes) {
  size_t span = bytes + kHugePage;
  void* raw = mmap(nullptr, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED) throw std::bad_alloc();
  uintptr_t start = reinterpret_cast<uintptr_t>(raw);
  uintptr_t aligned = (start + kHugePage - 1) & ~(uintptr_t(kHugePage) - 1);
  if (aligned > start) munmap(raw, aligned - start);
  size_t tail = (start + span) - (aligned + bytes);
  if (tail > 0) munmap(reinterpret_cast<void*>(aligned + bytes), tail);
  void* block = reinterpret_cast<void*>(aligned);
  madvise(block, bytes, MADV_HUGEPAGE);  // advice only: a failure just means small pages
  return block;
}

void* system_alloc(size_t size) {
  if (size >= kLargeFrom) return map_huge(size);
  void* p = std::aligned_alloc(64, size);
  if (!p) throw std::bad_alloc();
  return p;
}

void system_free(void* p, size_t size) {
  if (size >= kLargeFrom) munmap(p, size);
  else std::free(p);
}

int64_t limit_from_env() {
  const char* text = std::getenv("CONVKIT_HOST_CACHE_LIMIT");
  if (!text || !*text) return kDefaultLimit;
  char* end = nullptr;
  double value = std::strtod(text, &end);
  switch (end ? *end : '\0') {
    case 'k': case 'K': value *= 1024.0; break;
    case 'm': case 'M': value *= 1024.0 * 1024.0; break;
    case 'g': case 'G': value *= 1024.0 * 1024.0 * 1024.0; break;
    default: break;
  }
  return value >= 0 && value < 9.0e18 ? int64_t(value) : kDefaultLimit;
}

void fill_poison(void* p, size_t bytes) {
  const uint32_t nan = 0x7fc0dead;  // a quiet NaN with a recognisable payload
  auto* words = static_cast<uint32_t*>(p);
  std::fill(words, words + bytes / 4, nan);
}

struct Block {
  size_t size;
  int refs;
};

class Cache {
 public:
  void* acquire(size_t bytes, bool zero) {
    size_t size = size_class(std::max<size_t>(bytes, 1));
    void* p = nullptr;
    bool poison;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      ++stats_.allocations;
      poison = poison_;
      auto it = free_.find(size);
      if (it != free_.end() && !it->second.empty()) {
        p = it->second.back();
        it->second.pop_back();
        stats_.cached_bytes -= int64_t(size);
        ++stats_.cache_hits;
      } else {
        // Make room under the limit from other size classes' cached blocks, else refuse.
        trim_locked(stats_.limit_bytes - stats_.allocated_bytes - int64_t(size));
        if (stats_.allocated_bytes + stats_.cached_bytes + int64_t(size) > stats_.limit_bytes) return nullptr;
        stats_.allocated_bytes += int64_t(size);  // reserve it now, so concurrent callers respect the limit
      }
    }
    bool fresh = p == nullptr;
    if (fresh) {
      try {
        p = system_alloc(size);  // outside the lock: mmap and the first touch are slow
      } catch (...) {
        std::lock_guard<std::mutex> lock(mutex_);
        stats_.allocated_bytes -= int64_t(size);
        throw;
      }
    }
    // A fresh mapping is already zero; a fresh small block or a recycled one is not.
    if (zero && !(fresh && size >= kLargeFrom)) std::memset(p, 0, bytes);
    else if (!zero && poison) fill_poison(p, size);
    std::lock_guard<std::mutex> lock(mutex_);
    if (fresh) ++stats_.system_allocations;
    else stats_.allocated_bytes += int64_t(size);
    live_[p] = Block{size, 1};
    stats_.peak_allocated_bytes = std::max(stats_.peak_allocated_bytes, stats_.allocated_bytes);
    return p;
  }

  void retain(void* p) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = live_.find(p);
    if (it != live_.end()) ++it->second.refs;
  }

  void release(void* p) {
    size_t size;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      auto it = live_.find(p);
      if (it == live_.end() || --it->second.refs > 0) return;
      size = it->second.size;
      live_.erase(it);
      stats_.allocated_bytes -= int64_t(size);
      if (stats_.allocated_bytes + stats_.cached_bytes + int64_t(size) <= stats_.limit_bytes) {
        free_[size].push_back(p);
        stats_.cached_bytes += int64_t(size);
        return;
      }
    }
    system_free(p, size);
  }

  size_t block_size(const void* p) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = live_.find(const_cast<void*>(p));
    return it == live_.end() ? 0 : it->second.size;
  }

  void set_limit(int64_t bytes) {
    std::lock_guard<std::mutex> lock(mutex_);
    stats_.limit_bytes = std::max<int64_t>(bytes, 0);
    trim_locked(stats_.limit_bytes - stats_.allocated_bytes);
  }

  void empty() {
    std::lock_guard<std::mutex> lock(mutex_);
    trim_locked(0);
  }

  void set_poison(bool on) {
    std::lock_guard<std::mutex> lock(mutex_);
    poison_ = on;
  }

  Stats stats() {
    std::lock_guard<std::mutex> lock(mutex_);
    return stats_;
  }

  void reset_peak() {
    std::lock_guard<std::mutex> lock(mutex_);
    stats_.peak_allocated_bytes = stats_.allocated_bytes;
  }

 private:
  // Frees cached blocks, largest classes first, until at most `keep` bytes stay cached.
  void trim_locked(int64_t keep) {
    std::vector<size_t> classes;
    for (auto& entry : free_) classes.push_back(entry.first);
    std::sort(classes.rbegin(), classes.rend());
    for (size_t size : classes) {
      auto& list = free_[size];
      while (!list.empty() && stats_.cached_bytes > keep) {
        system_free(list.back(), size);
        list.pop_back();
        stats_.cached_bytes -= int64_t(size);
      }
    }
  }

  std::mutex mutex_;
  std::unordered_map<void*, Block> live_;
  std::unordered_map<size_t, std::vector<void*>> free_;
  Stats stats_{0, 0, 0, limit_from_env(), 0, 0, 0};
  bool poison_ = false;
};

// Never destroyed: JS arrays may release blocks during process teardown, after static
// destructors would have run.
Cache& cache() {
  static Cache* instance = new Cache();
  return *instance;
}

}  // namespace

void* acquire(size_t bytes, bool zero) { return cache().acquire(bytes, zero); }
void retain(void* block) { cache().retain(block); }
void release(void* block) { cache().release(block); }
size_t block_size(const void* block) { return cache().block_size(block); }
void empty_cache() { cache().empty(); }
void set_limit(int64_t bytes) { cache().set_limit(bytes); }
void set_poison(bool on) { cache().set_poison(on); }
Stats stats() { return cache().stats(); }
void reset_peak() { cache().reset_peak(); }

bool tune_system_allocator() {
#if defined(__GLIBC__)
  const char* env = std::getenv("CONVKIT_TUNE_MALLOC");
  if (env && std::strcmp(env, "0") == 0) return false;
  constexpr int kMmapThreshold = 32 << 20;  // glibc's own ceiling for the dynamic threshold
  int64_t limit = std::min<int64_t>(stats().limit_bytes, int64_t(1) << 30);
  return mallopt(M_MMAP_THRESHOLD, kMmapThreshold) == 1 && mallopt(M_TRIM_THRESHOLD, int(std::max<int64_t>(limit, kMmapThreshold))) == 1;
#else
  return false;
#endif
}

}  // namespace convkit::host_memory
