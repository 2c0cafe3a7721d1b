// Shared by the .cu files: the stream every kernel runs on, launch-error checks that throw
// convkit::Error instead of aborting, and grid sizing for elementwise loops.
#pragma once
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>
#include <string>

#include "convkit/error.h"
#include "convkit_cuda/device.h"

namespace convkit::cuda {

inline cudaStream_t stream() { return static_cast<cudaStream_t>(stream_handle()); }

// Throws Error(range) "what: <CUDA message>" when status is not cudaSuccess.
inline void check(cudaError_t status, const char* what) {
  if (status != cudaSuccess) {
    throw Error(ErrorKind::range, std::string(what) + ": CUDA error " + cudaGetErrorName(status) + " (" +
                                      cudaGetErrorString(status) + ")");
  }
}

// Call right after a <<<...>>> launch: reports a bad configuration at once (faults inside a
// kernel surface at the next synchronizing call, which checks too).
inline void check_launch(const char* kernel) { check(cudaGetLastError(), kernel); }

constexpr int kThreads = 256;

// Blocks for a grid-stride loop over n items: enough to fill the GPU, capped so the
// index arithmetic stays cheap.
inline unsigned grid_for(int64_t n, int threads = kThreads) {
  int64_t blocks = (n + threads - 1) / threads;
  return static_cast<unsigned>(std::max<int64_t>(1, std::min<int64_t>(blocks, 65535LL * 8)));
}

// Throws Error(type) "op: what must not be null" for a required pointer.
inline void need(const void* ptr, const char* op, const char* what) {
  if (!ptr) throw_type(std::string(op) + ": " + what + " must not be null");
}

// Temporary device memory for partial sums, from the caching allocator rather than the
// workspace, so callers may keep their own data in the workspace across these calls. Released
// right after the launches: the stream orders its last use before any reuse. Null when empty.
class Scratch {
 public:
  explicit Scratch(size_t bytes) : ptr_(bytes ? allocate(bytes) : nullptr) {}
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  ~Scratch() { release(ptr_); }
  template <class T>
  T* as() const {
    return static_cast<T*>(ptr_);
  }

 private:
  void* ptr_;
};

}  // namespace convkit::cuda
