// gemm({transA, transB, m, n, k, alpha, beta, a, b, c}) over contiguous row-major matrices.
#include "call.h"
#include "convkit/gemm.h"
#include "gemm_args.h"

namespace binding {
namespace {

PreparedCall prepare_gemm(const Napi::CallbackInfo& info) {
  auto g = gemm_call(info, "gemm", float_value);
  return {[=] { convkit::sgemm(g.trans_a, g.trans_b, g.m, g.n, g.k, g.alpha, g.a.data, g.lda, g.b.data, g.ldb, g.beta,
                               g.c.data, g.n); },
          {g.a.owner, g.b.owner, g.c.owner}};
}

}  // namespace

void register_gemm(Napi::Env env, Napi::Object exports) {
  exports.Set("gemm", Napi::Function::New(env, expose_sync<prepare_gemm>, "gemm"));
  exports.Set("gemmAsync", Napi::Function::New(env, expose_async<prepare_gemm>, "gemmAsync"));
}

}  // namespace binding
