// The host caching allocator behind cpu tensor storage. A fresh 4 MiB array costs ~1,000
// page faults (~15 ms here) the first time a kernel writes it; a block from this cache costs
// none. Blocks are 64-byte aligned; from 1 MiB up they are 2 MiB-aligned mappings with
// MADV_HUGEPAGE, so even a fresh one faults in 2 MiB pages. Blocks are reused by size class
// (512 B steps below 1 MiB, 2 MiB steps above) and reference-counted: a holder (a JS array, an
// async worker) retains a block, and it goes back to the cache when the last holder releases
// it, so a block in use is never handed out twice. Thread-safe.
#pragma once
#include <cstddef>
#include <cstdint>

namespace convkit::host_memory {

struct Stats {
  int64_t allocated_bytes;       // in blocks that someone holds (rounded to the size classes)
  int64_t peak_allocated_bytes;  // the most allocated_bytes has been since the last reset_peak()
  int64_t cached_bytes;          // in free blocks kept for reuse
  int64_t limit_bytes;           // allocated_bytes + cached_bytes never exceed this
  int64_t allocations;           // acquire() calls
  int64_t cache_hits;            // acquire() calls served from the cache
  int64_t system_allocations;    // blocks taken from the system (mmap / aligned_alloc)
};

// A block of at least `bytes` (> 0) with one holder, zero-filled when `zero`, else undefined
// (NaN-poisoned in poison mode). nullptr when held plus cached blocks would exceed the limit
// even with the cache emptied (the caller then uses ordinary memory); std::bad_alloc when the
// system has no memory left.
void* acquire(size_t bytes, bool zero);
// Adds a holder to a block from acquire().
void retain(void* block);
// Drops a holder; the last one returns the block to the cache (or to the system, above the limit).
void release(void* block);
// Usable size of a live block (its size class), 0 for a pointer this allocator did not hand out.
size_t block_size(const void* block);

// Returns every cached block to the system; blocks in use are untouched.
void empty_cache();
// Caps held plus cached bytes; shrinks the cache at once when needed. Default:
// CONVKIT_HOST_CACHE_LIMIT (bytes, or with a K/M/G suffix) or 512 MiB.
void set_limit(int64_t bytes);
// Test mode: blocks handed out without zero-fill are filled with a NaN pattern, so an output a
// kernel does not completely overwrite shows up as NaN.
void set_poison(bool on);
Stats stats();
void reset_peak();

// Makes glibc keep freed heap memory instead of giving it back to the system at once, for the
// arrays that V8 allocates itself (tensors below the cached sizes, and JS data): allocations up
// to 32 MiB come from the heap (not a fresh mmap each), and up to the cache limit of free heap
// top is kept. Without it a freed 1 MiB V8 array comes back as ~60 page faults (~1 ms here)
// the next time. Process-wide, so the addon calls it once at load; CONVKIT_TUNE_MALLOC=0 skips
// it. Returns whether it changed anything (glibc only).
bool tune_system_allocator();

}  // namespace convkit::host_memory
