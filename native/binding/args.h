// Argument extraction for the binding: typed arrays and geometry objects, checked, with
// errors that name the function and the argument. No arithmetic beyond size checks.
#pragma once
#include <napi.h>

#include <cstdint>
#include <string>

#include "convkit/arith.h"
#include "convkit/conv.h"
#include "convkit/error.h"
#include "convkit/pool.h"

namespace binding {

template <class T>
struct Span {
  T* data = nullptr;
  int64_t length = 0;
  Napi::Value owner;  // the JS typed array, for async workers to keep alive
  bool present() const { return !owner.IsEmpty(); }  // false for an optional null
};

Span<float> float_array(const Napi::CallbackInfo& info, size_t index, const char* fn, const char* name);
Span<float> optional_float_array(const Napi::CallbackInfo& info, size_t index, const char* fn, const char* name);
Span<int32_t> int32_array(const Napi::CallbackInfo& info, size_t index, const char* fn, const char* name);
Span<int32_t> optional_int32_array(const Napi::CallbackInfo& info, size_t index, const char* fn, const char* name);
Span<uint8_t> uint8_array(const Napi::CallbackInfo& info, size_t index, const char* fn, const char* name);

Span<float> float_value(const Napi::Value& v, const char* fn, const char* name);
int64_t integer(const Napi::Value& v, const char* fn, const char* name);
float number(const Napi::Value& v, const char* fn, const char* name);
bool boolean(const Napi::Value& v, const char* fn, const char* name);
Napi::Object object(const Napi::CallbackInfo& info, size_t index, const char* fn, const char* name);

// A ConvGeometry / PoolGeometry object, read from its `packed` Int32Array (the field order of
// lib/backend/types.ts) and validated by the core.
constexpr size_t kPackedGeometryLength = 18;
convkit::ConvShape conv_shape(const Napi::Object& g, const char* fn);
convkit::PoolShape pool_shape(const Napi::Object& g, const char* fn);

// A BroadcastShape / ReduceShape from a geometry object's packed Int32Array (lib/ops/broadcast.ts):
// [rank, shape..., aStrides..., bStrides...] and [rank, shape..., reduced (0 or 1)...], checked.
convkit::BroadcastShape broadcast_shape(const Napi::Value& g, const char* fn);
convkit::ReduceShape reduce_shape(const Napi::Value& g, const char* fn);

// Throws a RangeError unless span.length == expected ("fn: name has L elements, expected E").
template <class T>
void expect_length(const Span<T>& span, int64_t expected, const char* fn, const char* name);

// Product of dims, RangeError on overflow of int64.
int64_t checked_product(std::initializer_list<int64_t> dims, const char* fn, const char* what);

}  // namespace binding
