// gemm's argument object {transA, transB, m, n, k, alpha, beta, a, b, c}, read once for both
// storages: `get(value, fn, name)` reads one matrix (a Float32Array for cpu, a DeviceArray for
// cuda) and returns something with .data and .length.
#pragma once
#include <napi.h>

#include <string>

#include "args.h"

namespace binding {

template <class Matrix>
struct GemmCall {
  bool trans_a, trans_b;
  int64_t m, n, k, lda, ldb;
  float alpha, beta;
  Matrix a, b, c;  // c is m x n with ldc = n
};

template <class Get>
auto gemm_call(const Napi::CallbackInfo& info, const char* fn, Get get) {
  Napi::Object args = object(info, 0, fn, "args");
  using Matrix = decltype(get(args.Get("a"), fn, "a"));
  GemmCall<Matrix> g;
  g.trans_a = boolean(args.Get("transA"), fn, "transA");
  g.trans_b = boolean(args.Get("transB"), fn, "transB");
  g.m = integer(args.Get("m"), fn, "m"), g.n = integer(args.Get("n"), fn, "n"), g.k = integer(args.Get("k"), fn, "k");
  if (g.m < 0 || g.n < 0 || g.k < 0) throw Napi::RangeError::New(info.Env(), std::string(fn) + ": m, n and k must be non-negative");
  g.alpha = number(args.Get("alpha"), fn, "alpha"), g.beta = number(args.Get("beta"), fn, "beta");
  g.a = get(args.Get("a"), fn, "a"), g.b = get(args.Get("b"), fn, "b"), g.c = get(args.Get("c"), fn, "c");
  expect_length(g.a, checked_product({g.m, g.k}, fn, "a"), fn, "a");
  expect_length(g.b, checked_product({g.k, g.n}, fn, "b"), fn, "b");
  expect_length(g.c, checked_product({g.m, g.n}, fn, "c"), fn, "c");
  g.lda = g.trans_a ? g.m : g.k;
  g.ldb = g.trans_b ? g.k : g.n;
  return g;
}

}  // namespace binding
