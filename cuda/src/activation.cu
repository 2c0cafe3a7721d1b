// Elementwise activations, forward and backward, with the CPU core's formulas and NaN rules
// (native/src/vec_kernels.h): relu(NaN) = NaN, relu_backward is x <= 0 ? 0 : dy (so 0 at
// x == 0 and dy at NaN), leaky_relu/sigmoid/tanh propagate NaN. When every pointer is
// 16-byte aligned the grid-stride loop moves float4s and the first threads do the tail.
#include <cstdint>
#include <string>

#include "convkit/error.h"
#include "convkit_cuda/kernels.h"
#include "launch.cuh"

namespace convkit::cuda {
namespace {

struct Relu {
  __device__ float operator()(float v) const { return v <= 0.f ? 0.f : v; }
};
struct ReluBackward {
  __device__ float operator()(float x, float g) const { return x <= 0.f ? 0.f : g; }
};
struct LeakyRelu {
  float slope;
  __device__ float operator()(float v) const { return v > 0.f ? v : v * slope; }
};
struct LeakyReluBackward {
  float slope;
  __device__ float operator()(float x, float g) const { return x > 0.f ? g : g * slope; }
};
struct Sigmoid {
  __device__ float operator()(float v) const { return 1.f / (1.f + expf(-v)); }
};
struct SigmoidBackward {  // from the output y
  __device__ float operator()(float y, float g) const { return g * (y * (1.f - y)); }
};
struct Tanh {
  __device__ float operator()(float v) const { return tanhf(v); }
};
struct TanhBackward {  // from the output y; no fused multiply-add, as the CPU rounds y*y first
  __device__ float operator()(float y, float g) const { return g * (1.f - __fmul_rn(y, y)); }
};

__device__ __forceinline__ int64_t thread_index() { return blockIdx.x * int64_t(blockDim.x) + threadIdx.x; }
__device__ __forceinline__ int64_t thread_count() { return int64_t(gridDim.x) * blockDim.x; }

template <class F>
__global__ void map1_scalar(const float* x, float* y, int64_t n, F f) {
  for (int64_t i = thread_index(); i < n; i += thread_count()) y[i] = f(x[i]);
}

template <class F>
__global__ void map1_vec4(const float* x, float* y, int64_t n, F f) {
  const int64_t n4 = n / 4;
  const float4* x4 = reinterpret_cast<const float4*>(x);
  float4* y4 = reinterpret_cast<float4*>(y);
  for (int64_t i = thread_index(); i < n4; i += thread_count()) {
    float4 v = x4[i];
    y4[i] = make_float4(f(v.x), f(v.y), f(v.z), f(v.w));
  }
  const int64_t t = n4 * 4 + thread_index();
  if (t < n) y[t] = f(x[t]);
}

template <class F>
__global__ void map2_scalar(const float* a, const float* b, float* y, int64_t n, F f) {
  for (int64_t i = thread_index(); i < n; i += thread_count()) y[i] = f(a[i], b[i]);
}

template <class F>
__global__ void map2_vec4(const float* a, const float* b, float* y, int64_t n, F f) {
  const int64_t n4 = n / 4;
  const float4* a4 = reinterpret_cast<const float4*>(a);
  const float4* b4 = reinterpret_cast<const float4*>(b);
  float4* y4 = reinterpret_cast<float4*>(y);
  for (int64_t i = thread_index(); i < n4; i += thread_count()) {
    float4 u = a4[i], v = b4[i];
    y4[i] = make_float4(f(u.x, v.x), f(u.y, v.y), f(u.z, v.z), f(u.w, v.w));
  }
  const int64_t t = n4 * 4 + thread_index();
  if (t < n) y[t] = f(a[t], b[t]);
}

bool aligned16(const void* p) { return reinterpret_cast<uintptr_t>(p) % 16 == 0; }

// The CPU core's argument rules; true when there is work.
bool check_n(const char* op, int64_t n, const void* a, const void* b, const void* c = nullptr, bool three = false) {
  if (n < 0) throw_range(std::string(op) + ": element count must be >= 0, got " + std::to_string(n));
  if (n > 0 && (!a || !b || (three && !c))) throw_type(std::string(op) + ": a data pointer is null");
  return n > 0;
}

template <class F>
void map1(const char* op, const float* x, float* y, int64_t n, F f) {
  if (!check_n(op, n, x, y)) return;
  if (aligned16(x) && aligned16(y)) map1_vec4<<<grid_for((n + 3) / 4), kThreads, 0, stream()>>>(x, y, n, f);
  else map1_scalar<<<grid_for(n), kThreads, 0, stream()>>>(x, y, n, f);
  check_launch(op);
}

template <class F>
void map2(const char* op, const float* a, const float* b, float* y, int64_t n, F f) {
  if (!check_n(op, n, a, b, y, true)) return;
  if (aligned16(a) && aligned16(b) && aligned16(y))
    map2_vec4<<<grid_for((n + 3) / 4), kThreads, 0, stream()>>>(a, b, y, n, f);
  else
    map2_scalar<<<grid_for(n), kThreads, 0, stream()>>>(a, b, y, n, f);
  check_launch(op);
}

}  // namespace

void relu_forward(const float* x, float* y, int64_t n) { map1("relu", x, y, n, Relu{}); }
void relu_backward(const float* x, const float* dy, float* dx, int64_t n) {
  map2("relu_backward", x, dy, dx, n, ReluBackward{});
}
void leaky_relu_forward(const float* x, float* y, int64_t n, float slope) {
  map1("leaky_relu", x, y, n, LeakyRelu{slope});
}
void leaky_relu_backward(const float* x, const float* dy, float* dx, int64_t n, float slope) {
  map2("leaky_relu_backward", x, dy, dx, n, LeakyReluBackward{slope});
}
void sigmoid_forward(const float* x, float* y, int64_t n) { map1("sigmoid", x, y, n, Sigmoid{}); }
void sigmoid_backward(const float* y, const float* dy, float* dx, int64_t n) {
  map2("sigmoid_backward", y, dy, dx, n, SigmoidBackward{});
}
void tanh_forward(const float* x, float* y, int64_t n) { map1("tanh", x, y, n, Tanh{}); }
void tanh_backward(const float* y, const float* dy, float* dx, int64_t n) {
  map2("tanh_backward", y, dy, dx, n, TanhBackward{});
}

}  // namespace convkit::cuda
