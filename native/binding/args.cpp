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

namespace {

// The geometry's numbers, packed once in TypeScript (lib/geometry.ts) so that a call reads one
// property instead of eighteen.
const int32_t* packed_geometry(const Napi::Object& g, const char* fn) {
  Napi::Value packed = g.Get("packed");
  if (!packed.IsTypedArray() || packed.As<Napi::TypedArray>().TypedArrayType() != napi_int32_array ||
      packed.As<Napi::TypedArray>().ElementLength() != kPackedGeometryLength) {
    type_error(g.Env(), std::string(fn) + ": geometry.packed must be an Int32Array of " +
                            std::to_string(kPackedGeometryLength) + " (from convGeometry() or poolGeometry())");
  }
  return packed.As<Napi::Int32Array>().Data();
}

}  // namespace

namespace {

// The packed Int32Array of a broadcast or reduce geometry object, `per_dim` values per dim after the rank.
const int32_t* packed_dims(const Napi::Value& g, int per_dim, const char* fn, int32_t* rank) {
  if (!g.IsObject()) type_error(g.Env(), std::string(fn) + ": geometry must be an object");
  Napi::Value v = g.As<Napi::Object>().Get("packed");
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_int32_array)
    type_error(g.Env(), std::string(fn) + ": geometry.packed must be an Int32Array (from broadcastGeometry() or reduceGeometry())");
  auto a = v.As<Napi::Int32Array>();
  const size_t length = a.ElementLength();
  if (length < 1 || a[0] < 1 || a[0] > convkit::kMaxArithDims || length != size_t(1 + per_dim * a[0]))
    convkit::throw_range(std::string(fn) + ": the packed shape has " + std::to_string(length) + " values for rank " +
                         (length ? std::to_string(a[0]) : std::string("?")) + " (at most " +
                         std::to_string(convkit::kMaxArithDims) + " dims)");
  *rank = a[0];
  return a.Data() + 1;
}

}  // namespace

convkit::BroadcastShape broadcast_shape(const Napi::Value& geometry, const char* fn) {
  convkit::BroadcastShape g;
  const int32_t* p = packed_dims(geometry, 3, fn, &g.rank);
  for (int i = 0; i < g.rank; ++i) {
    g.shape[i] = p[i];
    g.a_stride[i] = p[g.rank + i];
    g.b_stride[i] = p[2 * g.rank + i];
  }
  convkit::check_broadcast_shape(g, fn);
  return g;
}

convkit::ReduceShape reduce_shape(const Napi::Value& geometry, const char* fn) {
  convkit::ReduceShape g;
  const int32_t* p = packed_dims(geometry, 2, fn, &g.rank);
  for (int i = 0; i < g.rank; ++i) {
    g.shape[i] = p[i];
    g.reduced[i] = p[g.rank + i] != 0;
  }
  convkit::check_reduce_shape(g, fn);
  return g;
}

convkit::ConvShape conv_shape(const Napi::Object& g, const char* fn) {
  const int32_t* p = packed_geometry(g, fn);
  convkit::ConvShape s{};
  s.n = p[0]; s.c = p[1]; s.h = p[2]; s.w = p[3];
  s.o = p[4]; s.kh = p[5]; s.kw = p[6];
  s.stride_h = p[7]; s.stride_w = p[8];
  s.pad_top = p[9]; s.pad_left = p[10]; s.pad_bottom = p[11]; s.pad_right = p[12];
  s.dilation_h = p[13]; s.dilation_w = p[14];
  s.groups = p[15];
  s.oh = p[16]; s.ow = p[17];
  convkit::validate(s);
  return s;
}

convkit::PoolShape pool_shape(const Napi::Object& g, const char* fn) {
  const int32_t* p = packed_geometry(g, fn);
  convkit::PoolShape s{};
  s.n = p[0]; s.c = p[1]; s.h = p[2]; s.w = p[3];
  s.kh = p[4]; s.kw = p[5];
  s.stride_h = p[6]; s.stride_w = p[7];
  s.pad_top = p[8]; s.pad_left = p[9]; s.pad_bottom = p[10]; s.pad_right = p[11];
  s.dilation_h = p[12]; s.dilation_w = p[13];
  s.ceil_mode = p[14] != 0;
  s.count_include_pad = p[15] != 0;
  s.oh = p[16]; s.ow = p[17];
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
