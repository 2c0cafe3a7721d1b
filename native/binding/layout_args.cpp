#include "layout_args.h"

#include <string>

namespace binding {

convkit::StridedCopyShape strided_copy_shape(const Napi::Value& plan, const char* fn) {
  const std::string what = std::string(fn) + ": plan.packed must be an Int32Array of 3 + 3 * rank values (from stridedCopyPlan())";
  if (!plan.IsObject()) throw Napi::TypeError::New(plan.Env(), std::string(fn) + ": plan must be an object");
  Napi::Value packed = plan.As<Napi::Object>().Get("packed");
  if (!packed.IsTypedArray() || packed.As<Napi::TypedArray>().TypedArrayType() != napi_int32_array)
    throw Napi::TypeError::New(plan.Env(), what);
  auto array = packed.As<Napi::Int32Array>();
  const size_t length = array.ElementLength();
  const int32_t* p = array.Data();
  if (length < 3 || p[0] < 0 || length != 3 + 3 * size_t(p[0])) throw Napi::TypeError::New(plan.Env(), what);
  const size_t rank = size_t(p[0]);
  convkit::StridedCopyShape s;
  s.src_offset = p[1];
  s.dst_offset = p[2];
  s.shape.assign(p + 3, p + 3 + rank);
  s.src_strides.assign(p + 3 + rank, p + 3 + 2 * rank);
  s.dst_strides.assign(p + 3 + 2 * rank, p + 3 + 3 * rank);
  return s;
}

}  // namespace binding
