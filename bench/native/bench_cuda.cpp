// The CUDA backend's headline figures: SGEMM 4096^3 in FP32 and TF32 (GFLOP/s), and the N64
// 64->64 56x56 3x3 pad-1 conv forward and backward (ms). Each figure is the best of 5 runs
// after a warm-up, timed on the host around the call and a synchronize(). Random inputs.
//   bench_cuda
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>
#include <vector>

#include "convkit/conv.h"
#include "convkit_cuda/device.h"
#include "convkit_cuda/kernels.h"

namespace {

template <class F>
double best_seconds(F&& fn, int reps = 5) {
  fn();
  convkit::cuda::synchronize();
  double best = 1e30;
  for (int r = 0; r < reps; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    fn();
    convkit::cuda::synchronize();
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  return best;
}

// A device buffer of n uniform values in [-1, 1].
class Buffer {
 public:
  Buffer(size_t n, std::mt19937& rng) : ptr_(static_cast<float*>(convkit::cuda::allocate(n * sizeof(float)))) {
    std::uniform_real_distribution<float> dist(-1.f, 1.f);
    std::vector<float> host(n);
    for (auto& v : host) v = dist(rng);
    convkit::cuda::copy_to_device(ptr_, host.data(), n * sizeof(float));
  }
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;
  ~Buffer() { convkit::cuda::release(ptr_); }
  float* get() const { return ptr_; }

 private:
  float* ptr_;
};

void bench_sgemm(bool tf32, std::mt19937& rng) {
  constexpr int64_t n = 4096;
  Buffer a(size_t(n * n), rng), b(size_t(n * n), rng), c(size_t(n * n), rng);
  convkit::cuda::set_tf32(tf32);
  const double s = best_seconds(
      [&] { convkit::cuda::sgemm(false, false, n, n, n, 1.f, a.get(), n, b.get(), n, 0.f, c.get(), n); });
  convkit::cuda::set_tf32(false);
  std::printf("sgemm %s 4096x4096x4096: %.1f GFLOP/s (%.3f ms)\n", tf32 ? "tf32" : "fp32", 2.0 * n * n * n / s * 1e-9,
              s * 1e3);
}

void bench_conv(std::mt19937& rng) {
  convkit::ConvShape s{64, 64, 56, 56, 64, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 56, 56};
  Buffer x(size_t(s.n * s.c * s.h * s.w), rng), w(size_t(s.o * s.c * s.kh * s.kw), rng), bias(size_t(s.o), rng);
  Buffer y(size_t(s.n * s.o * s.oh * s.ow), rng), dx(size_t(s.n * s.c * s.h * s.w), rng);
  Buffer dw(size_t(s.o * s.c * s.kh * s.kw), rng), db(size_t(s.o), rng);
  const double flops = 2.0 * s.n * s.o * s.c * s.kh * s.kw * s.oh * s.ow;
  const double f = best_seconds([&] { convkit::cuda::conv2d_forward(s, x.get(), w.get(), bias.get(), y.get()); });
  std::printf("conv2d N64 64->64 56x56 3x3 pad 1 forward: %.3f ms (%.1f GFLOP/s)\n", f * 1e3, flops / f * 1e-9);
  const double b = best_seconds(
      [&] { convkit::cuda::conv2d_backward(s, x.get(), w.get(), y.get(), dx.get(), dw.get(), db.get()); });
  std::printf("conv2d N64 64->64 56x56 3x3 pad 1 backward (dx, dw, db): %.3f ms (%.1f GFLOP/s)\n", b * 1e3,
              2 * flops / b * 1e-9);
}

}  // namespace

int main() {
  const auto& info = convkit::cuda::probe();
  if (!info.available) {
    std::printf("bench_cuda: no usable CUDA device (%s)\n", info.reason.c_str());
    return 0;
  }
  std::printf("bench_cuda: %s (sm_%d%d, %d multiprocessors)\n", info.name.c_str(), info.cc_major, info.cc_minor,
              info.multiprocessors);
  std::mt19937 rng(7);
  bench_sgemm(false, rng);
  if (info.cc_major >= 8) bench_sgemm(true, rng);
  else std::printf("sgemm tf32 4096x4096x4096: skipped below sm_80\n");
  bench_conv(rng);
  return 0;
}
