// DeviceArray: a JS handle to device memory (float32, int32 or uint8 elements). Handles
// that share memory (views) share one DeviceBlock; the block returns to the caching
// allocator when its last handle is disposed or collected. dispose() is explicit and may be
// called twice; a disposed handle is rejected by every kernel with a TypeError.
#pragma once
#include <napi.h>

#include <cstdint>
#include <memory>

namespace binding::cuda {

enum class Dtype { float32, int32, uint8 };

const char* dtype_name(Dtype dtype);
size_t dtype_size(Dtype dtype);

// Device memory from the caching allocator. Its size is reported to V8 as external memory,
// so that a loop which drops device tensors gets collected as often as the GPU needs, not as
// rarely as their small JS handles alone would cause.
struct DeviceBlock {
  void* ptr = nullptr;
  DeviceBlock(napi_env env, size_t bytes);
  ~DeviceBlock();
  DeviceBlock(const DeviceBlock&) = delete;
  DeviceBlock& operator=(const DeviceBlock&) = delete;

 private:
  napi_env env_;
  int64_t bytes_;
};

class DeviceArray : public Napi::ObjectWrap<DeviceArray> {
 public:
  static Napi::Function define(Napi::Env env);
  // A new handle (JS object) over block + offset elements; block may be null when length is 0.
  static Napi::Object create(Napi::Env env, std::shared_ptr<DeviceBlock> block, Dtype dtype, int64_t offset,
                             int64_t length);
  static bool is(const Napi::Value& value);
  static DeviceArray* unwrap(const Napi::Value& value) { return Unwrap(value.As<Napi::Object>()); }

  explicit DeviceArray(const Napi::CallbackInfo& info);

  Dtype dtype() const { return dtype_; }
  int64_t length() const { return length_; }
  bool disposed() const { return disposed_; }
  // The first element's address; null for an empty array.
  void* data() const;
  size_t bytes() const { return static_cast<size_t>(length_) * dtype_size(dtype_); }

 private:
  Napi::Value get_length(const Napi::CallbackInfo& info);
  Napi::Value get_dtype(const Napi::CallbackInfo& info);
  Napi::Value get_disposed(const Napi::CallbackInfo& info);
  Napi::Value dispose(const Napi::CallbackInfo& info);
  Napi::Value view(const Napi::CallbackInfo& info);
  Napi::Value upload(const Napi::CallbackInfo& info);
  Napi::Value download(const Napi::CallbackInfo& info);
  Napi::Value download_async(const Napi::CallbackInfo& info);

  std::shared_ptr<DeviceBlock> block_;
  Dtype dtype_ = Dtype::float32;
  int64_t offset_ = 0;
  int64_t length_ = 0;
  bool disposed_ = false;
};

}  // namespace binding::cuda
