// gemm({transA, transB, m, n, k, alpha, beta, a, b, c}) over contiguous row-major matrices.
#include "args.h"
#include "call.h"
#include "convkit/gemm.h"

namespace binding {
namespace {

PreparedCall prepare_gemm(const Napi::CallbackInfo& info) {
  const char* fn = "gemm";
  Napi::Object args = object(info, 0, fn, "args");
  bool trans_a = boolean(args.Get("transA"), fn, "transA");
  bool trans_b = boolean(args.Get("transB"), fn, "transB");
  int64_t m = integer(args.Get("m"), fn, "m"), n = integer(args.Get("n"), fn, "n"), k = integer(args.Get("k"), fn, "k");
  if (m < 0 || n < 0 || k < 0) throw Napi::RangeError::New(info.Env(), "gemm: m, n and k must be non-negative");
  float alpha = number(args.Get("alpha"), fn, "alpha"), beta = number(args.Get("beta"), fn, "beta");
  auto a = float_field(args, "a", fn), b = float_field(args, "b", fn), c = float_field(args, "c", fn);
  expect_length(a, checked_product({m, k}, fn, "a"), fn, "a");
  expect_length(b, checked_product({k, n}, fn, "b"), fn, "b");
  expect_length(c, checked_product({m, n}, fn, "c"), fn, "c");
  int64_t lda = trans_a ? m : k, ldb = trans_b ? k : n;
  return {[=] { convkit::sgemm(trans_a, trans_b, m, n, k, alpha, a.data, lda, b.data, ldb, beta, c.data, n); },
          {a.owner, b.owner, c.owner}};
}

}  // namespace

void register_gemm(Napi::Env env, Napi::Object exports) {
  exports.Set("gemm", Napi::Function::New(env, expose_sync<prepare_gemm>, "gemm"));
  exports.Set("gemmAsync", Napi::Function::New(env, expose_async<prepare_gemm>, "gemmAsync"));
}

}  // namespace binding
