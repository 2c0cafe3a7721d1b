// The device layer: probe, the one stream, the caching allocator, copies and events.
// Everything here is host code over the CUDA runtime API (linked statically). The runtime
// loads the driver (libcuda) on first use, so on a machine without one probe() reports it
// and nothing else is ever called.
#include "convkit_cuda/device.h"

#include <cuda_runtime.h>

#include <cstdlib>
#include <map>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "convkit/error.h"

namespace convkit::cuda {
namespace {

std::string cuda_message(cudaError_t status) {
  return std::string(cudaGetErrorName(status)) + ": " + cudaGetErrorString(status);
}

void check(cudaError_t status, const char* what) {
  if (status != cudaSuccess) throw_range(std::string(what) + " failed (" + cuda_message(status) + ")");
}

std::string mib(size_t bytes) { return std::to_string(bytes >> 20) + " MiB"; }

DeviceInfo probe_now() {
  DeviceInfo info;
  cudaRuntimeGetVersion(&info.runtime_version);
  cudaDriverGetVersion(&info.driver_version);  // leaves 0 when there is no driver
  cudaError_t status = cudaGetDeviceCount(&info.device_count);
  if (status != cudaSuccess) {
    info.device_count = 0;
    if (status == cudaErrorInsufficientDriver && info.driver_version == 0) {
      info.reason = "no NVIDIA driver found (libcuda.so could not be loaded)";
    } else if (status == cudaErrorInsufficientDriver) {
      info.reason = "the NVIDIA driver (CUDA " + std::to_string(info.driver_version / 1000) + "." +
                    std::to_string(info.driver_version % 1000 / 10) + ") is older than this build's runtime (CUDA " +
                    std::to_string(info.runtime_version / 1000) + "." + std::to_string(info.runtime_version % 1000 / 10) +
                    ")";
    } else if (status == cudaErrorNoDevice) {
      info.reason = "no CUDA-capable GPU found";
    } else {
      info.reason = "the CUDA runtime could not start (" + cuda_message(status) + ")";
    }
    cudaGetLastError();  // clear the error so later calls are not blamed for it
    return info;
  }
  if (info.device_count == 0) {
    info.reason = "no CUDA-capable GPU found";
    return info;
  }
  const char* wanted = std::getenv("CONVKIT_CUDA_DEVICE");
  info.device = wanted ? std::atoi(wanted) : 0;
  if (info.device < 0 || info.device >= info.device_count) {
    info.reason = "CONVKIT_CUDA_DEVICE=" + std::string(wanted) + " but there are " + std::to_string(info.device_count) +
                  " device(s)";
    return info;
  }
  // Properties only: cudaSetDevice would create the device's context (hundreds of MiB and
  // a noticeable start-up), which a process that never uses the GPU should not pay for.
  // The context starts at the first allocation or launch (use_device).
  cudaDeviceProp prop{};
  status = cudaGetDeviceProperties(&prop, info.device);
  if (status != cudaSuccess) {
    info.reason = "device " + std::to_string(info.device) + " could not be opened (" + cuda_message(status) + ")";
    cudaGetLastError();
    return info;
  }
  info.name = prop.name;
  info.cc_major = prop.major;
  info.cc_minor = prop.minor;
  info.total_memory = prop.totalGlobalMem;
  info.multiprocessors = prop.multiProcessorCount;
  if (prop.major < 7 || (prop.major == 7 && prop.minor < 5)) {
    info.reason = info.name + " is sm_" + std::to_string(prop.major) + std::to_string(prop.minor) +
                  ", older than the oldest architecture this build supports (sm_75)";
    return info;
  }
  info.available = true;
  return info;
}

// Sizes are rounded so that a training loop, which asks for the same sizes every step,
// finds its blocks in the cache: 512 B granules up to 1 MiB, then 2 MiB granules.
size_t round_size(size_t bytes) {
  constexpr size_t kSmall = 512, kLarge = size_t(2) << 20, kSmallLimit = size_t(1) << 20;
  if (bytes == 0) bytes = 1;
  size_t granule = bytes <= kSmallLimit ? kSmall : kLarge;
  return (bytes + granule - 1) / granule * granule;
}

class Allocator {
 public:
  void* allocate(size_t bytes) {
    std::lock_guard<std::mutex> lock(mutex_);
    size_t size = round_size(bytes);
    ++stats_.allocations;
    void* ptr = nullptr;
    auto cached = free_.find(size);
    if (cached != free_.end() && !cached->second.empty()) {
      ptr = cached->second.back();
      cached->second.pop_back();
      ++stats_.cache_hits;
    } else {
      cudaError_t status = cudaMalloc(&ptr, size);
      if (status == cudaErrorMemoryAllocation) {
        cudaGetLastError();
        release_cached_locked();  // the cache may hold enough, in blocks of other sizes
        status = cudaMalloc(&ptr, size);
      }
      if (status == cudaErrorMemoryAllocation) {
        cudaGetLastError();
        size_t free_bytes = 0, total_bytes = 0;
        cudaMemGetInfo(&free_bytes, &total_bytes);
        throw_range("CUDA out of memory: tried to allocate " + mib(size) + " (" + mib(stats_.allocated_bytes) +
                    " allocated by convkit, " + mib(free_bytes) + " free of " + mib(total_bytes) + ")");
      }
      // Anything else is a broken context, most often an earlier kernel's fault (sticky).
      if (status != cudaSuccess) check(status, "cudaMalloc (the device is in an error state)");
      ++stats_.device_allocations;
      stats_.reserved_bytes += size;
    }
    live_[ptr] = size;
    stats_.allocated_bytes += size;
    if (stats_.allocated_bytes > stats_.peak_allocated_bytes) stats_.peak_allocated_bytes = stats_.allocated_bytes;
    return ptr;
  }

  void release(void* ptr) {
    if (!ptr) return;
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = live_.find(ptr);
    if (it == live_.end()) return;  // not ours (or released twice): never corrupt the cache
    stats_.allocated_bytes -= it->second;
    free_[it->second].push_back(ptr);
    live_.erase(it);
  }

  void empty_cache() {
    std::lock_guard<std::mutex> lock(mutex_);
    release_cached_locked();
  }

  MemoryStats stats() {
    std::lock_guard<std::mutex> lock(mutex_);
    return stats_;
  }

 private:
  void release_cached_locked() {
    // cudaFree waits for the device, so no queued kernel can still be using a freed block.
    for (auto& [size, blocks] : free_) {
      for (void* p : blocks) {
        cudaFree(p);
        stats_.reserved_bytes -= size;
      }
      blocks.clear();
    }
    free_.clear();
  }

  std::mutex mutex_;
  std::unordered_map<void*, size_t> live_;
  std::map<size_t, std::vector<void*>> free_;
  MemoryStats stats_;
};

// Process-lifetime singletons, deliberately leaked: destroying them at exit would call into
// a runtime that may already be torn down.
Allocator& allocator() {
  static Allocator* instance = new Allocator();
  return *instance;
}

cudaStream_t make_stream() {
  ensure_available();
  cudaStream_t s = nullptr;
  check(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking), "cudaStreamCreate");
  return s;
}

// The runtime's current device is per host thread; libuv workers that copy or wait must
// select ours before touching the stream.
void use_device() {
  thread_local bool selected = false;
  if (!selected) {
    check(cudaSetDevice(probe().device), "cudaSetDevice");
    selected = true;
  }
}

// One per host thread, so that two JS threads (worker_threads) never hand each other's
// scratch memory back to the cache mid-operation. Reuse is stream-ordered, as for any block.
struct Workspace {
  void* ptr = nullptr;
  size_t bytes = 0;
  void release_block() {
    allocator().release(ptr);
    ptr = nullptr;
    bytes = 0;
  }
  ~Workspace() { release_block(); }  // a thread's exit; the allocator itself is never destroyed
};
thread_local Workspace workspace_of_thread;

}  // namespace

struct Event {
  cudaEvent_t handle;
};

const DeviceInfo& probe() {
  static const DeviceInfo info = probe_now();
  return info;
}

void ensure_available() {
  const DeviceInfo& info = probe();
  if (!info.available) throw_range("CUDA is not available: " + info.reason);
}

// Every launch, copy and event goes through here, so each host thread selects our device
// (the runtime's current device is per thread) before it touches the stream.
void* stream_handle() {
  ensure_available();
  use_device();
  static cudaStream_t s = make_stream();
  return s;
}

void* allocate(size_t bytes) {
  ensure_available();
  use_device();
  return allocator().allocate(bytes);
}

void release(void* ptr) {
  if (ptr) allocator().release(ptr);
}

void empty_cache() {
  if (!probe().available) return;
  use_device();
  workspace_of_thread.release_block();
  allocator().empty_cache();
}

MemoryStats memory_stats() { return probe().available ? allocator().stats() : MemoryStats{}; }

void* workspace(size_t bytes) {
  Workspace& ws = workspace_of_thread;
  if (bytes > ws.bytes) {
    ws.release_block();  // stream-ordered: earlier kernels finish before the block is reused
    ws.ptr = allocate(bytes);
    ws.bytes = bytes;
  }
  return ws.ptr;
}

void copy_to_device(void* dst, const void* host_src, size_t bytes) {
  if (bytes == 0) return;
  // From pageable memory the call returns once the source has been staged, so the caller
  // may reuse or free it at once.
  check(cudaMemcpyAsync(dst, host_src, bytes, cudaMemcpyHostToDevice, static_cast<cudaStream_t>(stream_handle())),
        "copy to device");
}

void copy_to_host(void* host_dst, const void* src, size_t bytes) {
  if (bytes == 0) return;
  cudaStream_t s = static_cast<cudaStream_t>(stream_handle());
  check(cudaMemcpyAsync(host_dst, src, bytes, cudaMemcpyDeviceToHost, s), "copy to host");
  check(cudaStreamSynchronize(s), "copy to host (a queued kernel failed)");
}

void copy_on_device(void* dst, const void* src, size_t bytes) {
  if (bytes == 0 || dst == src) return;
  check(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, static_cast<cudaStream_t>(stream_handle())),
        "device copy");
}

void fill_zero(void* dst, size_t bytes) {
  if (bytes == 0) return;
  check(cudaMemsetAsync(dst, 0, bytes, static_cast<cudaStream_t>(stream_handle())), "fill with zeros");
}

void synchronize() {
  if (!probe().available) return;
  check(cudaStreamSynchronize(static_cast<cudaStream_t>(stream_handle())), "synchronize (a queued kernel failed)");
}

Event* record_event() {
  auto* event = new Event{};
  // Blocking sync: the waiting libuv thread sleeps instead of spinning a core.
  cudaError_t status = cudaEventCreateWithFlags(&event->handle, cudaEventBlockingSync | cudaEventDisableTiming);
  if (status == cudaSuccess) status = cudaEventRecord(event->handle, static_cast<cudaStream_t>(stream_handle()));
  if (status != cudaSuccess) {
    delete event;
    check(status, "record event");
  }
  return event;
}

void wait_event(Event* event) {
  use_device();
  check(cudaEventSynchronize(event->handle), "wait for the GPU (a queued kernel failed)");
}

void copy_to_host_after(Event* ready, void* host_dst, const void* src, size_t bytes) {
  wait_event(ready);
  if (bytes == 0) return;
  // A blocking copy on the legacy default stream, which does not wait for our non-blocking
  // stream: only the work before `ready` (which produced src) has to be finished.
  check(cudaMemcpy(host_dst, src, bytes, cudaMemcpyDeviceToHost), "copy to host");
}

void destroy_event(Event* event) {
  if (!event) return;
  cudaEventDestroy(event->handle);
  delete event;
}

}  // namespace convkit::cuda
