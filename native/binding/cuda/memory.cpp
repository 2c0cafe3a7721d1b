// The cuda exports object: probe, device arrays (empty, upload), the caching allocator's
// controls and stream synchronisation. Kernel families register themselves into it.
#include <string>

#include "convkit_cuda/device.h"
#include "convkit_cuda/kernels.h"
#include "cuda_args.h"

namespace binding {
namespace cuda {
namespace {

Napi::Value probe(const Napi::CallbackInfo& info) {
  const auto& d = convkit::cuda::probe();
  Napi::Env env = info.Env();
  Napi::Object out = Napi::Object::New(env);
  out.Set("built", true);
  out.Set("available", d.available);
  out.Set("reason", d.reason);
  out.Set("deviceCount", d.device_count);
  out.Set("device", d.device);
  out.Set("name", d.name);
  out.Set("computeCapability", d.available ? std::to_string(d.cc_major) + "." + std::to_string(d.cc_minor) : "");
  out.Set("totalMemory", double(d.total_memory));
  out.Set("multiprocessors", d.multiprocessors);
  out.Set("runtimeVersion", d.runtime_version);
  out.Set("driverVersion", d.driver_version);
  return out;
}

Dtype parse_dtype(const Napi::Value& v, const char* fn) {
  std::string name = v.IsString() ? v.As<Napi::String>().Utf8Value() : "";
  if (name == "float32") return Dtype::float32;
  if (name == "int32") return Dtype::int32;
  if (name == "uint8") return Dtype::uint8;
  throw Napi::TypeError::New(v.Env(), std::string(fn) + ": dtype must be 'float32', 'int32' or 'uint8'");
}

Napi::Object new_array(Napi::Env env, Dtype dtype, int64_t length) {
  size_t bytes = static_cast<size_t>(length) * dtype_size(dtype);
  auto block = length > 0 ? std::make_shared<DeviceBlock>(env, bytes) : nullptr;
  return DeviceArray::create(env, std::move(block), dtype, 0, length);
}

// empty(dtype, n): n zeroed elements on the device.
Napi::Value empty(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    Dtype dtype = parse_dtype(info[0], "empty");
    int64_t n = integer(info[1], "empty", "n");
    if (n < 0) throw Napi::RangeError::New(info.Env(), "empty: n must be non-negative, got " + std::to_string(n));
    convkit::cuda::ensure_available();
    Napi::Object array = new_array(info.Env(), dtype, n);
    convkit::cuda::fill_zero(DeviceArray::unwrap(array)->data(), DeviceArray::unwrap(array)->bytes());
    return array;
  });
}

// upload(typedArray): a device copy of a Float32Array, Int32Array or Uint8Array.
Napi::Value upload(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    if (!info[0].IsTypedArray()) throw Napi::TypeError::New(info.Env(), "upload: data must be a Float32Array, Int32Array or Uint8Array");
    auto host = info[0].As<Napi::TypedArray>();
    Dtype dtype;
    switch (host.TypedArrayType()) {
      case napi_float32_array: dtype = Dtype::float32; break;
      case napi_int32_array: dtype = Dtype::int32; break;
      case napi_uint8_array: dtype = Dtype::uint8; break;
      default: throw Napi::TypeError::New(info.Env(), "upload: data must be a Float32Array, Int32Array or Uint8Array");
    }
    convkit::cuda::ensure_available();
    Napi::Object array = new_array(info.Env(), dtype, static_cast<int64_t>(host.ElementLength()));
    const void* src = static_cast<const uint8_t*>(host.ArrayBuffer().Data()) + host.ByteOffset();
    convkit::cuda::copy_to_device(DeviceArray::unwrap(array)->data(), src, host.ByteLength());
    return array;
  });
}

Napi::Value empty_cache(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&] {
    convkit::cuda::empty_cache();
    return info.Env().Undefined();
  });
}

Napi::Value memory_stats(const Napi::CallbackInfo& info) {
  auto s = convkit::cuda::memory_stats();
  Napi::Object out = Napi::Object::New(info.Env());
  out.Set("allocatedBytes", double(s.allocated_bytes));
  out.Set("reservedBytes", double(s.reserved_bytes));
  out.Set("peakAllocatedBytes", double(s.peak_allocated_bytes));
  out.Set("allocations", double(s.allocations));
  out.Set("cacheHits", double(s.cache_hits));
  out.Set("deviceAllocations", double(s.device_allocations));
  return out;
}

Napi::Value synchronize(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&] {
    convkit::cuda::synchronize();
    return info.Env().Undefined();
  });
}

Napi::Value synchronize_async(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&] {
    convkit::cuda::ensure_available();
    return when_done(info.Env());
  });
}

Napi::Value set_tf32(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&] {
    convkit::cuda::set_tf32(boolean(info[0], "setTf32", "enabled"));
    return info.Env().Undefined();
  });
}

Napi::Value tf32(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), convkit::cuda::tf32_enabled()); }

}  // namespace

void register_memory(Napi::Env env, Napi::Object cuda) {
  cuda.Set("DeviceArray", DeviceArray::define(env));
  cuda.Set("probe", Napi::Function::New(env, probe, "probe"));
  cuda.Set("empty", Napi::Function::New(env, empty, "empty"));
  cuda.Set("upload", Napi::Function::New(env, upload, "upload"));
  cuda.Set("emptyCache", Napi::Function::New(env, empty_cache, "emptyCache"));
  cuda.Set("memoryStats", Napi::Function::New(env, memory_stats, "memoryStats"));
  cuda.Set("synchronize", Napi::Function::New(env, synchronize, "synchronize"));
  cuda.Set("synchronizeAsync", Napi::Function::New(env, synchronize_async, "synchronizeAsync"));
  cuda.Set("setTf32", Napi::Function::New(env, set_tf32, "setTf32"));
  cuda.Set("tf32", Napi::Function::New(env, tf32, "tf32"));
}

}  // namespace cuda

void register_cuda(Napi::Env env, Napi::Object exports) {
  Napi::Object cuda = Napi::Object::New(env);
  cuda::register_memory(env, cuda);
  cuda::register_gemm_conv(env, cuda);
  cuda::register_pool(env, cuda);
  cuda::register_activation(env, cuda);
  cuda::register_loss(env, cuda);
  cuda::register_batchnorm(env, cuda);
  cuda::register_elementwise(env, cuda);
  cuda::register_arith(env, cuda);
  cuda::register_layout(env, cuda);
  cuda::register_optim(env, cuda);
  exports.Set("cuda", cuda);
}

}  // namespace binding
