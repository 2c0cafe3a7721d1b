// The autograd's elementwise helpers (convkit/elementwise.h), with the Backend contract's
// argument order: axpy(alpha, x, y), scale(x, alpha), broadcast2d(c, rows, cols, m, n, y),
// reduce2d(dy, rows, cols, m, n, beta, dc).
#include "args.h"
#include "call.h"
#include "convkit/elementwise.h"

namespace binding {
namespace {

PreparedCall prepare_axpy(const Napi::CallbackInfo& info) {
  const char* fn = "axpy";
  float alpha = number(info[0], fn, "alpha");
  auto x = float_array(info, 1, fn, "x"), y = float_array(info, 2, fn, "y");
  expect_length(x, y.length, fn, "x");
  return {[=] { convkit::axpy(y.length, alpha, x.data, y.data); }, {}};
}

PreparedCall prepare_scale(const Napi::CallbackInfo& info) {
  const char* fn = "scale";
  auto x = float_array(info, 0, fn, "x");
  float alpha = number(info[1], fn, "alpha");
  return {[=] { convkit::scale(x.length, alpha, x.data); }, {}};
}

struct Broadcast {
  int64_t rows, cols, m, n;
};

// rows, cols, m, n from arguments first.., checked against the two arrays' lengths.
Broadcast broadcast_dims(const Napi::CallbackInfo& info, size_t first, const char* fn, const Span<float>& small,
                         const char* small_name, const Span<float>& large, const char* large_name) {
  Broadcast b{integer(info[first], fn, "rows"), integer(info[first + 1], fn, "cols"), integer(info[first + 2], fn, "m"),
              integer(info[first + 3], fn, "n")};
  expect_length(small, checked_product({b.rows, b.cols}, fn, small_name), fn, small_name);
  expect_length(large, checked_product({b.m, b.n}, fn, large_name), fn, large_name);
  return b;
}

PreparedCall prepare_broadcast2d(const Napi::CallbackInfo& info) {
  const char* fn = "broadcast2d";
  auto c = float_array(info, 0, fn, "c"), y = float_array(info, 5, fn, "y");
  Broadcast b = broadcast_dims(info, 1, fn, c, "c", y, "y");
  return {[=] { convkit::broadcast2d(c.data, b.rows, b.cols, b.m, b.n, y.data); }, {}};
}

PreparedCall prepare_reduce2d(const Napi::CallbackInfo& info) {
  const char* fn = "reduce2d";
  auto dy = float_array(info, 0, fn, "dy"), dc = float_array(info, 6, fn, "dc");
  Broadcast b = broadcast_dims(info, 1, fn, dc, "dc", dy, "dy");
  float beta = number(info[5], fn, "beta");
  return {[=] { convkit::reduce2d(dy.data, b.rows, b.cols, b.m, b.n, beta, dc.data); }, {}};
}

}  // namespace

void register_elementwise(Napi::Env env, Napi::Object exports) {
  exports.Set("axpy", Napi::Function::New(env, expose_sync<prepare_axpy>, "axpy"));
  exports.Set("scale", Napi::Function::New(env, expose_sync<prepare_scale>, "scale"));
  exports.Set("broadcast2d", Napi::Function::New(env, expose_sync<prepare_broadcast2d>, "broadcast2d"));
  exports.Set("reduce2d", Napi::Function::New(env, expose_sync<prepare_reduce2d>, "reduce2d"));
}

}  // namespace binding
