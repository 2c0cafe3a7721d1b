// The elementwise helpers of the autograd, ops and optimizers on device arrays: copy(src, dst),
// fill(x, value), axpy(alpha, x, y), scale(x, alpha), broadcast2d(c, rows, cols, m, n, y),
// reduce2d(dy, rows, cols, m, n, beta, dc), and dropout(x, mask, scale, y).
#include <string>

#include "convkit_cuda/device.h"
#include "convkit_cuda/kernels.h"
#include "cuda_args.h"

namespace binding::cuda {
namespace {

void copy(const Napi::CallbackInfo& info) {
  const char* fn = "copy";
  auto src = floats(info[0], fn, "src"), dst = floats(info[1], fn, "dst");
  expect_length(dst, src.length, fn, "dst");
  // cudaMemcpyAsync requires disjoint ranges (views of one array may overlap); dst == src is a no-op.
  if (dst.data != src.data && dst.data < src.data + src.length && src.data < dst.data + dst.length)
    convkit::throw_range(std::string(fn) + ": src and dst overlap (views of one array)");
  convkit::cuda::copy_on_device(dst.data, src.data, static_cast<size_t>(src.length) * sizeof(float));
}

void fill(const Napi::CallbackInfo& info) {
  const char* fn = "fill";
  auto x = floats(info[0], fn, "x");
  convkit::cuda::fill(x.data, number(info[1], fn, "value"), x.length);
}

void axpy(const Napi::CallbackInfo& info) {
  const char* fn = "axpy";
  float alpha = number(info[0], fn, "alpha");
  auto x = floats(info[1], fn, "x"), y = floats(info[2], fn, "y");
  expect_length(y, x.length, fn, "y");
  convkit::cuda::axpy(alpha, x.data, y.data, x.length);
}

void scale(const Napi::CallbackInfo& info) {
  const char* fn = "scale";
  auto x = floats(info[0], fn, "x");
  convkit::cuda::scale(x.data, number(info[1], fn, "alpha"), x.length);
}

// [rows, cols] broadcast to [m, n]: the sizes from arguments first.., checked.
struct Broadcast {
  int64_t rows, cols, m, n;
};

Broadcast broadcast(const Napi::CallbackInfo& info, size_t first, const char* fn) {
  Broadcast b{integer(info[first], fn, "rows"), integer(info[first + 1], fn, "cols"), integer(info[first + 2], fn, "m"),
              integer(info[first + 3], fn, "n")};
  if (b.m < 0) convkit::throw_range(std::string(fn) + ": m must be >= 0, got " + std::to_string(b.m));
  if (b.n < 0) convkit::throw_range(std::string(fn) + ": n must be >= 0, got " + std::to_string(b.n));
  if (b.rows != 1 && b.rows != b.m)
    convkit::throw_range(std::string(fn) + ": rows must be 1 or m (" + std::to_string(b.m) + "), got " +
                         std::to_string(b.rows));
  if (b.cols != 1 && b.cols != b.n)
    convkit::throw_range(std::string(fn) + ": cols must be 1 or n (" + std::to_string(b.n) + "), got " +
                         std::to_string(b.cols));
  return b;
}

void broadcast2d(const Napi::CallbackInfo& info) {
  const char* fn = "broadcast2d";
  auto c = floats(info[0], fn, "c");
  Broadcast b = broadcast(info, 1, fn);
  auto y = floats(info[5], fn, "y");
  expect_length(c, checked_product({b.rows, b.cols}, fn, "c"), fn, "c");
  expect_length(y, checked_product({b.m, b.n}, fn, "y"), fn, "y");
  convkit::cuda::broadcast_2d(c.data, b.rows, b.cols, b.m, b.n, y.data);
}

void reduce2d(const Napi::CallbackInfo& info) {
  const char* fn = "reduce2d";
  auto dy = floats(info[0], fn, "dy");
  Broadcast b = broadcast(info, 1, fn);
  float beta = number(info[5], fn, "beta");
  auto dc = floats(info[6], fn, "dc");
  expect_length(dy, checked_product({b.m, b.n}, fn, "dy"), fn, "dy");
  expect_length(dc, checked_product({b.rows, b.cols}, fn, "dc"), fn, "dc");
  convkit::cuda::reduce_2d(dy.data, b.rows, b.cols, b.m, b.n, beta, dc.data);
}

void dropout(const Napi::CallbackInfo& info) {
  const char* fn = "dropout";
  auto x = floats(info[0], fn, "x");
  auto mask = bytes(info[1], fn, "mask");
  float scale = number(info[2], fn, "scale");
  auto y = floats(info[3], fn, "y");
  expect_length(mask, x.length, fn, "mask");
  expect_length(y, x.length, fn, "y");
  convkit::cuda::dropout_apply(x.data, mask.data, scale, y.data, x.length);
}

}  // namespace

void register_elementwise(Napi::Env env, Napi::Object cuda) {
  cuda.Set("copy", Napi::Function::New(env, expose<copy>, "copy"));
  cuda.Set("fill", Napi::Function::New(env, expose<fill>, "fill"));
  cuda.Set("axpy", Napi::Function::New(env, expose<axpy>, "axpy"));
  cuda.Set("scale", Napi::Function::New(env, expose<scale>, "scale"));
  cuda.Set("broadcast2d", Napi::Function::New(env, expose<broadcast2d>, "broadcast2d"));
  cuda.Set("reduce2d", Napi::Function::New(env, expose<reduce2d>, "reduce2d"));
  cuda.Set("dropout", Napi::Function::New(env, expose<dropout>, "dropout"));
}

}  // namespace binding::cuda
