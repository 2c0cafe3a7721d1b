// Elementwise activations and softmax along an axis on device arrays (the shared glue is in
// ../activation_glue.h).
#include "../activation_glue.h"
#include "convkit_cuda/kernels.h"
#include "cuda_args.h"

namespace binding::cuda {
namespace {

struct DeviceArrays {
  static DevicePtr<float> get(const Napi::CallbackInfo& info, size_t i, const char* fn, const char* name) {
    return floats(info[i], fn, name);
  }
};

}  // namespace

void register_activation(Napi::Env env, Napi::Object cuda) {
  namespace k = convkit::cuda;
  activation_glue::register_all<DeviceArrays>(env, cuda, {
      k::relu_forward, k::sigmoid_forward, k::tanh_forward,
      k::relu_backward, k::sigmoid_backward, k::tanh_backward,
      k::leaky_relu_forward, k::leaky_relu_backward,
      k::softmax_forward, k::log_softmax_forward,
      k::softmax_backward, k::log_softmax_backward});
}

}  // namespace binding::cuda
