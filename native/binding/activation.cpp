// Elementwise activations and softmax along an axis on Float32Arrays (the shared glue is in
// activation_glue.h).
#include "activation_glue.h"
#include "convkit/activation.h"

namespace binding {
namespace {

struct HostArrays {
  static Span<float> get(const Napi::CallbackInfo& info, size_t i, const char* fn, const char* name) {
    return float_array(info, i, fn, name);
  }
};

}  // namespace

void register_activation(Napi::Env env, Napi::Object exports) {
  activation_glue::register_all<HostArrays>(env, exports, {
      convkit::relu_forward, convkit::sigmoid_forward, convkit::tanh_forward,
      convkit::relu_backward, convkit::sigmoid_backward, convkit::tanh_backward,
      convkit::leaky_relu_forward, convkit::leaky_relu_backward,
      convkit::softmax_forward, convkit::log_softmax_forward,
      convkit::softmax_backward, convkit::log_softmax_backward});
}

}  // namespace binding
