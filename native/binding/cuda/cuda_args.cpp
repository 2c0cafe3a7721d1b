#include "cuda_args.h"

#include <string>

#include "convkit_cuda/device.h"

namespace binding::cuda {
namespace {

template <class T>
DevicePtr<T> device_ptr(const Napi::Value& v, Dtype dtype, const char* fn, const char* name, bool nullable) {
  DevicePtr<T> p;
  if (nullable && (v.IsNull() || v.IsUndefined())) return p;
  std::string kind = std::string("a cuda DeviceArray of ") + dtype_name(dtype) + (nullable ? " or null" : "");
  if (!DeviceArray::is(v)) throw Napi::TypeError::New(v.Env(), std::string(fn) + ": " + name + " must be " + kind);
  DeviceArray* array = DeviceArray::unwrap(v);
  if (array->dtype() != dtype) {
    throw Napi::TypeError::New(v.Env(), std::string(fn) + ": " + name + " must be " + kind + ", got " +
                                            dtype_name(array->dtype()));
  }
  if (array->disposed()) throw Napi::TypeError::New(v.Env(), std::string(fn) + ": " + name + " was disposed");
  p.data = static_cast<T*>(array->data());
  p.length = array->length();
  p.present = true;
  return p;
}

// Waits for an event on the libuv pool and settles a promise.
class EventWorker : public Napi::AsyncWorker {
 public:
  explicit EventWorker(const Napi::Env& env)
      : Napi::AsyncWorker(env, "convkit.cudaWait"), deferred_(Napi::Promise::Deferred::New(env)),
        event_(convkit::cuda::record_event()) {}
  ~EventWorker() override { convkit::cuda::destroy_event(event_); }

  Napi::Promise promise() { return deferred_.Promise(); }

 protected:
  void Execute() override {
    try {
      convkit::cuda::wait_event(event_);
    } catch (const std::exception& e) {
      SetError(e.what());
    }
  }
  void OnOK() override { deferred_.Resolve(Env().Undefined()); }
  void OnError(const Napi::Error& e) override { deferred_.Reject(Napi::RangeError::New(Env(), e.Message()).Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  convkit::cuda::Event* event_;
};

}  // namespace

DevicePtr<float> floats(const Napi::Value& v, const char* fn, const char* name) {
  return device_ptr<float>(v, Dtype::float32, fn, name, false);
}
DevicePtr<float> optional_floats(const Napi::Value& v, const char* fn, const char* name) {
  return device_ptr<float>(v, Dtype::float32, fn, name, true);
}
DevicePtr<int32_t> ints(const Napi::Value& v, const char* fn, const char* name) {
  return device_ptr<int32_t>(v, Dtype::int32, fn, name, false);
}
DevicePtr<int32_t> optional_ints(const Napi::Value& v, const char* fn, const char* name) {
  return device_ptr<int32_t>(v, Dtype::int32, fn, name, true);
}
DevicePtr<uint8_t> bytes(const Napi::Value& v, const char* fn, const char* name) {
  return device_ptr<uint8_t>(v, Dtype::uint8, fn, name, false);
}

void throw_length(int64_t got, int64_t expected, const char* fn, const char* name) {
  throw convkit::Error(convkit::ErrorKind::range, std::string(fn) + ": " + name + " has " + std::to_string(got) +
                                                      " elements, expected " + std::to_string(expected));
}

Napi::Value when_done(const Napi::Env& env) {
  auto* worker = new EventWorker(env);  // deletes itself when settled
  Napi::Promise promise = worker->promise();
  worker->Queue();
  return promise;
}

}  // namespace binding::cuda
