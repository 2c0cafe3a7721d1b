// The layout kernels (convkit/layout.h) with the Backend contract's argument order:
// stridedCopy(plan, src, dst), argmax(x, outer, dim, inner, out).
#include "args.h"
#include "call.h"
#include "convkit/layout.h"
#include "layout_args.h"

namespace binding {
namespace {

PreparedCall prepare_strided_copy(const Napi::CallbackInfo& info) {
  const char* fn = "stridedCopy";
  convkit::StridedCopyShape s = strided_copy_shape(info[0], fn);
  auto src = float_array(info, 1, fn, "src"), dst = float_array(info, 2, fn, "dst");
  convkit::validate(s, src.length, dst.length);
  return {[=] { convkit::strided_copy(s, src.data, src.length, dst.data, dst.length); }, {}};
}

PreparedCall prepare_argmax(const Napi::CallbackInfo& info) {
  const char* fn = "argmax";
  auto x = float_array(info, 0, fn, "x");
  const int64_t outer = integer(info[1], fn, "outer"), dim = integer(info[2], fn, "dim"), inner = integer(info[3], fn, "inner");
  auto out = int32_array(info, 4, fn, "out");
  if (outer < 0 || dim < 1 || inner < 0)
    throw Napi::RangeError::New(info.Env(), std::string(fn) + ": outer and inner must be >= 0 and dim >= 1");
  expect_length(x, checked_product({outer, dim, inner}, fn, "x"), fn, "x");
  expect_length(out, checked_product({outer, inner}, fn, "out"), fn, "out");
  return {[=] { convkit::argmax(x.data, outer, dim, inner, out.data); }, {}};
}

}  // namespace

void register_layout(Napi::Env env, Napi::Object exports) {
  exports.Set("stridedCopy", Napi::Function::New(env, expose_sync<prepare_strided_copy>, "stridedCopy"));
  exports.Set("argmax", Napi::Function::New(env, expose_sync<prepare_argmax>, "argmax"));
}

}  // namespace binding
