// The CUDA device layer: probing, the one compute stream, a caching allocator, copies and
// events. No CUDA types leak out of this header, so the binding and the C++ tests compile
// with the host compiler alone. Every failure throws convkit::Error; nothing aborts.
//
// Ordering model: every kernel and copy runs on one stream in issue order, so a block
// returned to the cache may be handed out again at once (its last use is ordered before
// any new use). Host code sees results only through copy_to_host or synchronize.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace convkit::cuda {

struct DeviceInfo {
  bool available = false;
  std::string reason;        // why not, when not available
  int device_count = 0;
  int device = -1;           // the ordinal in use (CONVKIT_CUDA_DEVICE, default 0)
  std::string name;
  int cc_major = 0, cc_minor = 0;
  size_t total_memory = 0;
  int multiprocessors = 0;
  int runtime_version = 0;   // e.g. 13000
  int driver_version = 0;    // 0 when no driver is installed
};

// Probes once (cached) and never throws.
const DeviceInfo& probe();

// Throws Error(range) with probe().reason when there is no usable device.
void ensure_available();

// ---- memory: a caching allocator over cudaMalloc, blocks rounded to size classes ----------
void* allocate(size_t bytes);   // Error(range) "CUDA out of memory ..." when the device is full
void release(void* ptr);        // back to the cache; null is ignored
void empty_cache();             // frees every cached (unused) block, and this thread's workspace, to the driver

struct MemoryStats {
  size_t allocated_bytes = 0;       // in live blocks (rounded sizes)
  size_t reserved_bytes = 0;        // live + cached, i.e. held from the driver
  size_t peak_allocated_bytes = 0;
  uint64_t allocations = 0;         // allocate() calls
  uint64_t cache_hits = 0;          // of those, served from the cache
  uint64_t device_allocations = 0;  // cudaMalloc calls
};
MemoryStats memory_stats();

// A scratch buffer of at least `bytes`, valid until the calling thread's next workspace()
// or empty_cache() call. Kernels that need temporary memory (im2col columns, partial sums)
// take it from here.
void* workspace(size_t bytes);

// ---- copies, all on the stream ------------------------------------------------------------
void copy_to_device(void* dst, const void* host_src, size_t bytes);  // returns once src may be reused
void copy_to_host(void* host_dst, const void* src, size_t bytes);    // waits for the stream
void copy_on_device(void* dst, const void* src, size_t bytes);
void fill_zero(void* dst, size_t bytes);
void synchronize();

// The stream as an opaque handle (cudaStream_t) for kernel launches in cuda/src.
void* stream_handle();

// ---- events: let a libuv worker wait for work queued so far, off the event loop ------------
struct Event;
Event* record_event();          // marks everything queued so far
void wait_event(Event* event);  // blocks the calling thread until it completes; throws on a kernel fault
void destroy_event(Event* event);
// Waits for `ready`, then copies src to the host without waiting for anything queued after
// it: with src a private snapshot taken before `ready`, later kernels cannot change what
// arrives (downloadAsync).
void copy_to_host_after(Event* ready, void* host_dst, const void* src, size_t bytes);

}  // namespace convkit::cuda
