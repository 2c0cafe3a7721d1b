// Module entry: each kernel family registers its own exports.
#include <napi.h>

#include "call.h"

namespace {

Napi::Object init(Napi::Env env, Napi::Object exports) {
  binding::register_controls(env, exports);
  binding::register_host_memory(env, exports);
  binding::register_gemm(env, exports);
  binding::register_conv(env, exports);
  binding::register_pool(env, exports);
  binding::register_activation(env, exports);
  binding::register_loss(env, exports);
  binding::register_batchnorm(env, exports);
  binding::register_dropout(env, exports);
  binding::register_elementwise(env, exports);
  binding::register_arith(env, exports);
  binding::register_layout(env, exports);
  binding::register_optim(env, exports);
  binding::register_plan(env, exports);
  binding::register_train_plan(env, exports);
  binding::register_cuda(env, exports);
  return exports;
}

}  // namespace

NODE_API_MODULE(convkit, init)
