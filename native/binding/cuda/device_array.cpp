#include "device_array.h"

#include <cmath>
#include <string>

#include "../call.h"
#include "convkit/error.h"
#include "convkit_cuda/device.h"

namespace binding::cuda {
namespace {

struct Pending {
  std::shared_ptr<DeviceBlock> block;
  Dtype dtype;
  int64_t offset, length;
};

// The constructor, kept per environment (worker threads each load the addon anew).
struct Instance {
  Napi::FunctionReference constructor;
};

napi_typedarray_type typed_array_kind(Dtype dtype) {
  switch (dtype) {
    case Dtype::int32: return napi_int32_array;
    case Dtype::uint8: return napi_uint8_array;
    default: return napi_float32_array;
  }
}

const char* typed_array_name(Dtype dtype) {
  switch (dtype) {
    case Dtype::int32: return "Int32Array";
    case Dtype::uint8: return "Uint8Array";
    default: return "Float32Array";
  }
}

// The host array of a copy: the matching typed array kind with exactly `length` elements.
Napi::TypedArray host_array(const Napi::CallbackInfo& info, const char* fn, const DeviceArray& self) {
  Napi::Value v = info[0];
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != typed_array_kind(self.dtype())) {
    throw Napi::TypeError::New(info.Env(), std::string(fn) + ": the host array must be a " + typed_array_name(self.dtype()));
  }
  auto array = v.As<Napi::TypedArray>();
  if (static_cast<int64_t>(array.ElementLength()) != self.length()) {
    throw Napi::RangeError::New(info.Env(), std::string(fn) + ": the host array has " + std::to_string(array.ElementLength()) +
                                                " elements, the device array " + std::to_string(self.length()));
  }
  return array;
}

void* typed_array_data(const Napi::TypedArray& array) {
  return static_cast<uint8_t*>(array.ArrayBuffer().Data()) + array.ByteOffset();
}

void expect_live(const Napi::Env& env, const DeviceArray& self, const char* fn) {
  if (self.disposed()) throw Napi::TypeError::New(env, std::string(fn) + ": the device array was disposed");
}

// Copies device -> host on the libuv pool, so the event loop never waits for the GPU. What
// arrives is the array as of the downloadAsync() call: the constructor (main thread) queues a
// copy into a private snapshot and an event after it, and the worker waits only for that
// event, so kernels queued later can neither change the result nor delay it.
class DownloadWorker : public Napi::AsyncWorker {
 public:
  DownloadWorker(const Napi::Env& env, const DeviceArray& source, Napi::TypedArray host)
      : Napi::AsyncWorker(env, "convkit.cudaDownload"), deferred_(Napi::Promise::Deferred::New(env)),
        host_(Napi::Persistent(host.As<Napi::Object>())), dst_(typed_array_data(host)), bytes_(source.bytes()) {
    if (bytes_ == 0) return;
    snapshot_ = std::make_shared<DeviceBlock>(env, bytes_);
    convkit::cuda::copy_on_device(snapshot_->ptr, source.data(), bytes_);
    ready_ = convkit::cuda::record_event();
  }
  ~DownloadWorker() override { convkit::cuda::destroy_event(ready_); }

  Napi::Promise promise() { return deferred_.Promise(); }

 protected:
  void Execute() override {
    if (bytes_ == 0) return;
    try {
      convkit::cuda::copy_to_host_after(ready_, dst_, snapshot_->ptr, bytes_);
    } catch (const std::exception& e) {
      SetError(e.what());
    }
  }
  void OnOK() override { deferred_.Resolve(Env().Undefined()); }
  void OnError(const Napi::Error& e) override { deferred_.Reject(Napi::RangeError::New(Env(), e.Message()).Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  std::shared_ptr<DeviceBlock> snapshot_;  // released on the main thread, after the copy
  convkit::cuda::Event* ready_ = nullptr;
  Napi::ObjectReference host_;
  void* dst_;
  size_t bytes_;
};

}  // namespace

const char* dtype_name(Dtype dtype) {
  switch (dtype) {
    case Dtype::int32: return "int32";
    case Dtype::uint8: return "uint8";
    default: return "float32";
  }
}

size_t dtype_size(Dtype dtype) { return dtype == Dtype::uint8 ? 1 : 4; }

DeviceBlock::DeviceBlock(napi_env env, size_t bytes)
    : ptr(convkit::cuda::allocate(bytes)), env_(env), bytes_(static_cast<int64_t>(bytes)) {
  int64_t total = 0;
  napi_adjust_external_memory(env_, bytes_, &total);
}

DeviceBlock::~DeviceBlock() {
  convkit::cuda::release(ptr);
  int64_t total = 0;
  napi_adjust_external_memory(env_, -bytes_, &total);
}

Napi::Function DeviceArray::define(Napi::Env env) {
  Napi::Function ctor = DefineClass(env, "DeviceArray",
                                    {InstanceAccessor<&DeviceArray::get_length>("length"),
                                     InstanceAccessor<&DeviceArray::get_dtype>("dtype"),
                                     InstanceAccessor<&DeviceArray::get_disposed>("disposed"),
                                     InstanceMethod<&DeviceArray::dispose>("dispose"),
                                     InstanceMethod<&DeviceArray::view>("view"),
                                     InstanceMethod<&DeviceArray::upload>("upload"),
                                     InstanceMethod<&DeviceArray::download>("download"),
                                     InstanceMethod<&DeviceArray::download_async>("downloadAsync")});
  auto* instance = new Instance{Napi::Persistent(ctor)};
  env.SetInstanceData<Instance>(instance);
  return ctor;
}

Napi::Object DeviceArray::create(Napi::Env env, std::shared_ptr<DeviceBlock> block, Dtype dtype, int64_t offset,
                                 int64_t length) {
  Pending pending{std::move(block), dtype, offset, length};
  return env.GetInstanceData<Instance>()->constructor.New({Napi::External<Pending>::New(env, &pending)});
}

bool DeviceArray::is(const Napi::Value& value) {
  if (!value.IsObject()) return false;
  auto* instance = value.Env().GetInstanceData<Instance>();
  return instance && value.As<Napi::Object>().InstanceOf(instance->constructor.Value());
}

DeviceArray::DeviceArray(const Napi::CallbackInfo& info) : Napi::ObjectWrap<DeviceArray>(info) {
  if (info.Length() != 1 || !info[0].IsExternal()) {
    throw Napi::TypeError::New(info.Env(), "DeviceArray: not constructible from JS; use cuda.empty() or cuda.upload()");
  }
  Pending* pending = info[0].As<Napi::External<Pending>>().Data();
  block_ = std::move(pending->block);
  dtype_ = pending->dtype;
  offset_ = pending->offset;
  length_ = pending->length;
}

void* DeviceArray::data() const {
  if (!block_ || length_ == 0) return nullptr;
  return static_cast<uint8_t*>(block_->ptr) + static_cast<size_t>(offset_) * dtype_size(dtype_);
}

Napi::Value DeviceArray::get_length(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), double(length_)); }
Napi::Value DeviceArray::get_dtype(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), dtype_name(dtype_)); }
Napi::Value DeviceArray::get_disposed(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), disposed_); }

Napi::Value DeviceArray::dispose(const Napi::CallbackInfo& info) {
  disposed_ = true;
  block_.reset();  // the memory goes back to the cache once no other view holds it
  return info.Env().Undefined();
}

Napi::Value DeviceArray::view(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    expect_live(info.Env(), *this, "view");
    if (!info[0].IsNumber() || !info[1].IsNumber()) throw Napi::TypeError::New(info.Env(), "view: offset and length must be numbers");
    double offset = info[0].As<Napi::Number>().DoubleValue(), length = info[1].As<Napi::Number>().DoubleValue();
    // In range first: converting a huge or infinite double to int64 is undefined behaviour.
    if (!(offset >= 0 && length >= 0 && offset + length <= double(length_) && offset == std::floor(offset) &&
          length == std::floor(length))) {
      throw Napi::RangeError::New(info.Env(), "view: [" + std::to_string(offset) + ", +" + std::to_string(length) +
                                                  ") is outside the array of " + std::to_string(length_) + " elements");
    }
    return create(info.Env(), block_, dtype_, offset_ + int64_t(offset), int64_t(length));
  });
}

Napi::Value DeviceArray::upload(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&] {
    expect_live(info.Env(), *this, "upload");
    Napi::TypedArray host = host_array(info, "upload", *this);
    convkit::cuda::copy_to_device(data(), typed_array_data(host), bytes());
    return info.Env().Undefined();
  });
}

Napi::Value DeviceArray::download(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&] {
    expect_live(info.Env(), *this, "download");
    Napi::TypedArray host = host_array(info, "download", *this);
    convkit::cuda::copy_to_host(typed_array_data(host), data(), bytes());
    return info.Env().Undefined();
  });
}

Napi::Value DeviceArray::download_async(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    expect_live(info.Env(), *this, "downloadAsync");
    Napi::TypedArray host = host_array(info, "downloadAsync", *this);
    auto* worker = new DownloadWorker(info.Env(), *this, host);  // deletes itself when settled
    Napi::Promise promise = worker->promise();
    worker->Queue();
    return promise;
  });
}

}  // namespace binding::cuda
