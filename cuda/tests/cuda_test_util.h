// Support for the CUDA kernel tests: device buffers that copy to and from std::vector, and
// the skip rule. Each test computes a result with the CPU core (convkit::...) and with the
// CUDA kernel (convkit::cuda::...) on the same inputs and compares them with test_util.h.
#pragma once
#include <cstdio>
#include <vector>

#include "convkit_cuda/device.h"
#include "test_util.h"

namespace test {

// ctest treats this exit code as "skipped" (SKIP_RETURN_CODE in CMakeLists.txt).
constexpr int kSkipped = 77;

// Returns true when a GPU is usable; otherwise prints why, so the caller can return kSkipped.
inline bool cuda_usable(const char* name) {
  const auto& info = convkit::cuda::probe();
  if (!info.available) {
    std::printf("%s: skipped, no usable CUDA device (%s)\n", name, info.reason.c_str());
    return false;
  }
  std::printf("%s: on %s (sm_%d%d)\n", name, info.name.c_str(), info.cc_major, info.cc_minor);
  return true;
}

// A device copy of a host vector (or n zeroed elements); back to the host with to_host().
template <class T>
class DeviceVector {
 public:
  explicit DeviceVector(const std::vector<T>& host) : size_(host.size()) {
    ptr_ = static_cast<T*>(convkit::cuda::allocate(bytes()));
    if (size_) convkit::cuda::copy_to_device(ptr_, host.data(), bytes());
  }
  explicit DeviceVector(size_t n) : size_(n) {
    ptr_ = static_cast<T*>(convkit::cuda::allocate(bytes()));
    convkit::cuda::fill_zero(ptr_, bytes());
  }
  DeviceVector(const DeviceVector&) = delete;
  DeviceVector& operator=(const DeviceVector&) = delete;
  ~DeviceVector() { convkit::cuda::release(ptr_); }

  T* get() { return ptr_; }
  const T* get() const { return ptr_; }
  size_t size() const { return size_; }
  size_t bytes() const { return size_ * sizeof(T); }

  std::vector<T> to_host() const {
    std::vector<T> out(size_);
    if (size_) convkit::cuda::copy_to_host(out.data(), ptr_, bytes());
    return out;
  }

 private:
  size_t size_;
  T* ptr_ = nullptr;
};

}  // namespace test
