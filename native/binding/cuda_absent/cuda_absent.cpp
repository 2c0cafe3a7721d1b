// The cuda exports of a build without CUDA (no nvcc, or CONVKIT_CUDA=OFF): probe() alone,
// saying why there is no backend (CONVKIT_NO_CUDA_WHY, set by CMakeLists.txt).
#include "../call.h"

namespace binding {
namespace {

Napi::Value probe(const Napi::CallbackInfo& info) {
  Napi::Object out = Napi::Object::New(info.Env());
  out.Set("built", false);
  out.Set("available", false);
  out.Set("reason", "this build has no CUDA backend (" CONVKIT_NO_CUDA_WHY ")");
  return out;
}

}  // namespace

void register_cuda(Napi::Env env, Napi::Object exports) {
  Napi::Object cuda = Napi::Object::New(env);
  cuda.Set("probe", Napi::Function::New(env, probe, "probe"));
  exports.Set("cuda", cuda);
}

}  // namespace binding
