// Arguments of the cuda kernels: DeviceArray handles, checked for dtype, liveness and
// length, with errors that name the function and the argument. Kernels are exposed with
// expose(), which queues the work and returns, or expose_async(), whose Promise settles
// once the GPU has finished it (waited for on the libuv pool, never on the event loop).
#pragma once
#include <napi.h>

#include <cstdint>

#include "../args.h"
#include "../call.h"
#include "device_array.h"

namespace binding::cuda {

template <class T>
struct DevicePtr {
  T* data = nullptr;
  int64_t length = 0;
  bool present = false;  // false for an optional null
};

DevicePtr<float> floats(const Napi::Value& v, const char* fn, const char* name);
DevicePtr<float> optional_floats(const Napi::Value& v, const char* fn, const char* name);
DevicePtr<int32_t> ints(const Napi::Value& v, const char* fn, const char* name);
DevicePtr<int32_t> optional_ints(const Napi::Value& v, const char* fn, const char* name);
DevicePtr<uint8_t> bytes(const Napi::Value& v, const char* fn, const char* name);

[[noreturn]] void throw_length(int64_t got, int64_t expected, const char* fn, const char* name);

// RangeError "fn: name has L elements, expected E" (a null optional passes).
template <class T>
void expect_length(const DevicePtr<T>& p, int64_t expected, const char* fn, const char* name) {
  if (p.present && p.length != expected) throw_length(p.length, expected, fn, name);
}

// A promise that resolves when everything queued on the stream so far has finished.
Napi::Value when_done(const Napi::Env& env);

using Launch = void (*)(const Napi::CallbackInfo& info);

template <Launch launch>
Napi::Value expose(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&] {
    launch(info);
    return info.Env().Undefined();
  });
}

template <Launch launch>
Napi::Value expose_async(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&] {
    launch(info);
    return when_done(info.Env());
  });
}

// Each family adds its functions to the `cuda` exports object.
void register_memory(Napi::Env env, Napi::Object cuda);
void register_gemm_conv(Napi::Env env, Napi::Object cuda);
void register_pool(Napi::Env env, Napi::Object cuda);
void register_activation(Napi::Env env, Napi::Object cuda);
void register_loss(Napi::Env env, Napi::Object cuda);
void register_batchnorm(Napi::Env env, Napi::Object cuda);
void register_elementwise(Napi::Env env, Napi::Object cuda);
void register_arith(Napi::Env env, Napi::Object cuda);
void register_layout(Napi::Env env, Napi::Object cuda);
void register_optim(Napi::Env env, Napi::Object cuda);

}  // namespace binding::cuda
