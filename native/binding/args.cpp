#include "args.h"

#include <cmath>
#include <limits>

namespace binding {
namespace {

[[noreturn]] void type_error(const Napi::Env& env, const std::string& message) {
  throw Napi::TypeError::New(env, message);
}
[[noreturn]] void range_error(const Napi::Env& env, const std::string& message) {
  throw Napi::RangeError::New(env, message);
}

template <class T, napi_typedarray_type Kind>
Span<T> typed_array(const Napi::Value& v, const char* fn, const char* name, bool nullable, const char* kind_name) {
  Span<T> span;
  if (nullable && (v.IsNull() || v.IsUndefined())) return span;
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != Kind) {
    type_error(v.Env(), std::string(fn) + ": " + name + " must be a " + kind_name);
  }
  auto array = v.As<Napi::TypedArrayOf<T>>();
  span.data = array.Data();
  span.length = static_cast<int64_t>(array.ElementLength());
  span.owner = v;
  return span;
}

}  // namespace

Span<float> float_array(const Napi::CallbackInfo& info, size_t index, const char* fn, const char* name) {
  return typed_array<float, napi_float32_array>(info[index], fn, name, false, "Float32Array");
}
Span<float> optional_float_array(const Napi::CallbackInfo& info, size_t index, const char* fn, const char* name) {
  return typed_array<float, napi_float32_array>(info[index], fn, name, true, "Float32Array or null");
}
Span<int32_t> int32_array(const Napi::CallbackInfo& info, size_t index, const char* fn, const char* name) {
  return typed_array<int32_t, napi_int32_array>(info[index], fn, name, false, "Int32Array");
}
Span<int32_t> optional_int32_array(const Napi::CallbackInfo& info, size_t index, const char* fn, const char* name) {
  return typed_array<int32_t, napi_int32_array>(info[index], fn, name, true, "Int32Array or null");
}

Span<uint8_t> uint8_array(const Napi::CallbackInfo& info, size_t index, const char* fn, const char* name) {
  return typed_array<uint8_t, napi_uint8_array>(info[index], fn, name, false, "Uint8Array");
}

Span<float> float_value(const Napi::Value& v, const char* fn, const char* name) {
  return typed_array<float, napi_float32_array>(v, fn, name, false, "Float32Array");
}

int64_t integer(const Napi::Value& v, const char* fn, const char* name) {
  if (!v.IsNumber()) type_error(v.Env(), std::string(fn) + ": " + name + " must be a number");
  double d = v.As<Napi::Number>().DoubleValue();
  // 2^53: beyond it a double no longer holds every integer.
  if (!std::isfinite(d) || d != std::floor(d) || std::fabs(d) > 9007199254740992.0) {
    range_error(v.Env(), std::string(fn) + ": " + name + " must be an integer, got " + std::to_string(d));
  }
  return static_cast<int64_t>(d);
}

float number(const Napi::Value& v, const char* fn, const char* name) {
  if (!v.IsNumber()) type_error(v.Env(), std::string(fn) + ": " + name + " must be a number");
  return static_cast<float>(v.As<Napi::Number>().DoubleValue());
}

bool boolean(const Napi::Value& v, const char* fn, const char* name) {
  if (!v.IsBoolean()) type_error(v.Env(), std::string(fn) + ": " + name + " must be a boolean");
  return v.As<Napi::Boolean>().Value();
}

Napi::Object object(const Napi::CallbackInfo& info, size_t index, const char* fn, const char* name) {
  if (!info[index].IsObject()) type_error(info.Env(), std::string(fn) + ": " + name + " must be an object");
  return info[index].As<Napi::Object>();
}

convkit::ConvShape conv_shape(const Napi::Object& g, const char* fn) {
  auto field = [&](const char* key) { return integer(g.Get(key), fn, key); };
  convkit::ConvShape s{};
  s.n = field("n"); s.c = field("c"); s.h = field("h"); s.w = field("w");
  s.o = field("o"); s.kh = field("kh"); s.kw = field("kw");
  s.stride_h = field("strideH"); s.stride_w = field("strideW");
  s.pad_top = field("padTop"); s.pad_left = field("padLeft");
  s.pad_bottom = field("padBottom"); s.pad_right = field("padRight");
  s.dilation_h = field("dilationH"); s.dilation_w = field("dilationW");
  s.groups = field("groups");
  s.oh = field("oh"); s.ow = field("ow");
  convkit::validate(s);
  return s;
}

convkit::PoolShape pool_shape(const Napi::Object& g, const char* fn) {
  auto field = [&](const char* key) { return integer(g.Get(key), fn, key); };
  convkit::PoolShape s{};
  s.n = field("n"); s.c = field("c"); s.h = field("h"); s.w = field("w");
  s.kh = field("kh"); s.kw = field("kw");
  s.stride_h = field("strideH"); s.stride_w = field("strideW");
  s.pad_top = field("padTop"); s.pad_left = field("padLeft");
  s.pad_bottom = field("padBottom"); s.pad_right = field("padRight");
  s.dilation_h = field("dilationH"); s.dilation_w = field("dilationW");
  s.ceil_mode = boolean(g.Get("ceilMode"), fn, "ceilMode");
  s.count_include_pad = boolean(g.Get("countIncludePad"), fn, "countIncludePad");
  s.oh = field("oh"); s.ow = field("ow");
  convkit::validate(s);
  return s;
}

template <class T>
void expect_length(const Span<T>& span, int64_t expected, const char* fn, const char* name) {
  if (span.length != expected) {
    throw Napi::RangeError::New(span.owner.Env(), std::string(fn) + ": " + name + " has " + std::to_string(span.length) +
                                                      " elements, expected " + std::to_string(expected));
  }
}
template void expect_length<float>(const Span<float>&, int64_t, const char*, const char*);
template void expect_length<int32_t>(const Span<int32_t>&, int64_t, const char*, const char*);
template void expect_length<uint8_t>(const Span<uint8_t>&, int64_t, const char*, const char*);

int64_t checked_product(std::initializer_list<int64_t> dims, const char* fn, const char* what) {
  int64_t product = 1;
  for (int64_t d : dims) {
    if (d < 0 || (d != 0 && product > std::numeric_limits<int64_t>::max() / d)) {
      throw convkit::Error(convkit::ErrorKind::range, std::string(fn) + ": " + what + " size overflows");
    }
    product *= d;
  }
  return product;
}

}  // namespace binding
