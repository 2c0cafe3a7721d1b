// The layout kernels on device arrays: stridedCopy(plan, src, dst) and
// argmax(x, outer, dim, inner, out), with the cpu binding's argument order.
#include <string>

#include "../layout_args.h"
#include "convkit_cuda/layout.h"
#include "cuda_args.h"

namespace binding::cuda {
namespace {

void strided_copy(const Napi::CallbackInfo& info) {
  const char* fn = "stridedCopy";
  convkit::StridedCopyShape s = strided_copy_shape(info[0], fn);
  auto src = floats(info[1], fn, "src"), dst = floats(info[2], fn, "dst");
  convkit::cuda::strided_copy(s, src.data, src.length, dst.data, dst.length);
}

void argmax(const Napi::CallbackInfo& info) {
  const char* fn = "argmax";
  auto x = floats(info[0], fn, "x");
  const int64_t outer = integer(info[1], fn, "outer"), dim = integer(info[2], fn, "dim"), inner = integer(info[3], fn, "inner");
  auto out = ints(info[4], fn, "out");
  if (outer < 0 || dim < 1 || inner < 0)
    convkit::throw_range(std::string(fn) + ": outer and inner must be >= 0 and dim >= 1");
  expect_length(x, checked_product({outer, dim, inner}, fn, "x"), fn, "x");
  expect_length(out, checked_product({outer, inner}, fn, "out"), fn, "out");
  convkit::cuda::argmax(x.data, outer, dim, inner, out.data);
}

}  // namespace

void register_layout(Napi::Env env, Napi::Object cuda) {
  cuda.Set("stridedCopy", Napi::Function::New(env, expose<strided_copy>, "stridedCopy"));
  cuda.Set("argmax", Napi::Function::New(env, expose<argmax>, "argmax"));
}

}  // namespace binding::cuda
