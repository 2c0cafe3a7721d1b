// One way to expose a kernel: a `prepare` function checks the JS arguments and returns the
// work as a closure plus the buffers it touches; expose_sync runs it now, expose_async queues
// it on the libuv pool and keeps the buffers alive until it settles.
#pragma once
#include <napi.h>

#include <functional>
#include <vector>

namespace binding {

struct PreparedCall {
  std::function<void()> work;
  std::vector<Napi::Value> buffers;  // typed arrays the work reads or writes
};

using Prepare = PreparedCall (*)(const Napi::CallbackInfo& info);

// Turns convkit::Error and std::bad_alloc thrown by body into JS TypeError / RangeError.
Napi::Value guarded(const Napi::Env& env, const std::function<Napi::Value()>& body);

template <Prepare prepare>
Napi::Value expose_sync(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&] {
    prepare(info).work();
    return info.Env().Undefined();
  });
}

Napi::Value queue_async(const Napi::Env& env, PreparedCall call);

template <Prepare prepare>
Napi::Value expose_async(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&] { return queue_async(info.Env(), prepare(info)); });
}

void register_controls(Napi::Env env, Napi::Object exports);
void register_host_memory(Napi::Env env, Napi::Object exports);
void register_gemm(Napi::Env env, Napi::Object exports);
void register_conv(Napi::Env env, Napi::Object exports);
void register_pool(Napi::Env env, Napi::Object exports);
void register_activation(Napi::Env env, Napi::Object exports);
void register_loss(Napi::Env env, Napi::Object exports);
void register_batchnorm(Napi::Env env, Napi::Object exports);
void register_dropout(Napi::Env env, Napi::Object exports);
void register_elementwise(Napi::Env env, Napi::Object exports);
void register_arith(Napi::Env env, Napi::Object exports);
void register_layout(Napi::Env env, Napi::Object exports);
void register_optim(Napi::Env env, Napi::Object exports);
void register_plan(Napi::Env env, Napi::Object exports);
void register_train_plan(Napi::Env env, Napi::Object exports);
// The `cuda` exports object (native/binding/cuda, or cuda_absent in a build without nvcc).
void register_cuda(Napi::Env env, Napi::Object exports);

}  // namespace binding
