// CUDA batch normalisation against the CPU core: statistics (with the running-stat update of
// lib/ops/batchnorm.ts, re-derived on the host here), forward and backward in training and
// eval, with and without weight/bias, on odd shapes, one value per plane, a large mean, shapes
// whose channels are cut into many pieces, an empty batch and NaN.
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "convkit/batchnorm.h"
#include "convkit/error.h"
#include "convkit_cuda/kernels.h"
#include "cuda_test_util.h"

using convkit::BatchNormShape;
using test::DeviceVector;

namespace {

constexpr float kEps = 1e-5f, kMomentum = 0.1f;

// lib/ops/batchnorm.ts after backend.batchNorm2dStats: inv_std and the running statistics
// from the float mean and variance, in double.
struct HostFinish {
  std::vector<float> inv_std, running_mean, running_var;
};

HostFinish host_finish(const BatchNormShape& s, const std::vector<float>& mean, const std::vector<float>& var,
                       std::vector<float> running_mean, std::vector<float> running_var) {
  HostFinish f{std::vector<float>(var.size()), std::move(running_mean), std::move(running_var)};
  const double count = double(s.n * s.hw), unbiased = count / (count - 1), momentum = kMomentum;
  for (size_t ch = 0; ch < var.size(); ++ch) {
    f.inv_std[ch] = float(1 / std::sqrt(double(var[ch]) + double(kEps)));
    f.running_mean[ch] = float((1 - momentum) * f.running_mean[ch] + momentum * mean[ch]);
    f.running_var[ch] = float((1 - momentum) * f.running_var[ch] + momentum * var[ch] * unbiased);
  }
  return f;
}

std::string label(const BatchNormShape& s, float offset) {
  char buf[96];
  std::snprintf(buf, sizeof buf, "[n %lld, c %lld, hw %lld] offset %g", (long long)s.n, (long long)s.c,
                (long long)s.hw, offset);
  return buf;
}

void check_stats(const BatchNormShape& s, const std::vector<float>& x, std::mt19937& rng, const std::string& what) {
  const size_t c = size_t(s.c);
  std::vector<float> mean(c), var(c);
  convkit::batch_norm_stats(s, x.data(), mean.data(), var.data());
  auto running_mean = test::random_vector(c, rng), running_var = test::random_vector(c, rng, 0.5f, 2.f);
  HostFinish want = host_finish(s, mean, var, running_mean, running_var);

  DeviceVector<float> dx(x), dmean(c), dinv(c), drm(running_mean), drv(running_var);
  convkit::cuda::batch_norm_train_stats(s, dx.get(), kEps, kMomentum, dmean.get(), dinv.get(), drm.get(), drv.get());
  test::expect_close(("train mean " + what).c_str(), dmean.to_host(), mean, 1e-6, 1e-6);
  test::expect_close(("train inv_std " + what).c_str(), dinv.to_host(), want.inv_std, 1e-6, 1e-5);
  test::expect_close(("running_mean " + what).c_str(), drm.to_host(), want.running_mean, 1e-6, 1e-6);
  test::expect_close(("running_var " + what).c_str(), drv.to_host(), want.running_var, 1e-6, 1e-5);

  // Without running statistics (a model that keeps none): the same mean and inv_std.
  DeviceVector<float> dmean2(c), dinv2(c);
  convkit::cuda::batch_norm_train_stats(s, dx.get(), kEps, kMomentum, dmean2.get(), dinv2.get(), nullptr, nullptr);
  test::expect_close(("train mean, no running stats " + what).c_str(), dmean2.to_host(), mean, 1e-6, 1e-6);
  test::expect_close(("train inv_std, no running stats " + what).c_str(), dinv2.to_host(), want.inv_std, 1e-6, 1e-5);

  // Eval: copies of the running statistics, inv_std = 1/sqrt(running_var + eps).
  std::vector<float> eval_inv(c);
  for (size_t ch = 0; ch < c; ++ch) eval_inv[ch] = float(1 / std::sqrt(double(running_var[ch]) + double(kEps)));
  DeviceVector<float> drm0(running_mean), drv0(running_var), emean(c), einv(c);
  convkit::cuda::batch_norm_eval_stats(s.c, drm0.get(), drv0.get(), kEps, emean.get(), einv.get());
  test::expect_close(("eval mean " + what).c_str(), emean.to_host(), running_mean, 1e-12, 0);
  test::expect_close(("eval inv_std " + what).c_str(), einv.to_host(), eval_inv, 1e-7, 1e-6);
}

void check_forward_backward(const BatchNormShape& s, const std::vector<float>& x, std::mt19937& rng,
                            const std::string& what) {
  const size_t c = size_t(s.c), total = x.size();
  auto dy = test::random_vector(total, rng);
  auto w = test::random_vector(c, rng, 0.5f, 2.f), b = test::random_vector(c, rng);
  std::vector<float> mean(c), var(c), inv(c);
  convkit::batch_norm_stats(s, x.data(), mean.data(), var.data());
  for (size_t ch = 0; ch < c; ++ch) inv[ch] = float(1 / std::sqrt(double(var[ch]) + double(kEps)));

  DeviceVector<float> dx_in(x), ddy(dy), dw(w), db(b), dmean(mean), dinv(inv), dy_out(total);
  for (bool affine : {true, false}) {
    const float* wp = affine ? w.data() : nullptr;
    const float* bp = affine ? b.data() : nullptr;
    const std::string tag = what + (affine ? " affine" : " no affine");

    std::vector<float> y(total);
    convkit::batch_norm_forward(s, x.data(), mean.data(), inv.data(), wp, bp, y.data());
    convkit::cuda::batch_norm_forward(s, dx_in.get(), dmean.get(), dinv.get(), affine ? dw.get() : nullptr,
                                      affine ? db.get() : nullptr, dy_out.get());
    test::expect_close(("forward " + tag).c_str(), dy_out.to_host(), y, 1e-5, 1e-5);

    for (bool training : {true, false}) {
      const std::string t = tag + (training ? " training" : " eval");
      std::vector<float> gx(total), gw(c), gb(c);
      convkit::batch_norm_backward(s, x.data(), dy.data(), mean.data(), inv.data(), wp, training, gx.data(),
                                   gw.data(), gb.data());
      DeviceVector<float> dgx(total), dgw(c), dgb(c);
      convkit::cuda::batch_norm_backward(s, dx_in.get(), ddy.get(), dmean.get(), dinv.get(),
                                         affine ? dw.get() : nullptr, training, dgx.get(), dgw.get(), dgb.get());
      test::expect_close(("dx " + t).c_str(), dgx.to_host(), gx, 1e-5, 1e-4);
      test::expect_close(("dweight " + t).c_str(), dgw.to_host(), gw, 1e-5, 1e-5);
      test::expect_close(("dbias " + t).c_str(), dgb.to_host(), gb, 1e-5, 1e-5);

      // dx alone (eval skips the sums), and the parameter gradients alone.
      DeviceVector<float> dgx2(total), dgw2(c);
      convkit::cuda::batch_norm_backward(s, dx_in.get(), ddy.get(), dmean.get(), dinv.get(),
                                         affine ? dw.get() : nullptr, training, dgx2.get(), nullptr, nullptr);
      test::expect_close(("dx only " + t).c_str(), dgx2.to_host(), gx, 1e-5, 1e-4);
      convkit::cuda::batch_norm_backward(s, dx_in.get(), ddy.get(), dmean.get(), dinv.get(),
                                         affine ? dw.get() : nullptr, training, nullptr, dgw2.get(), nullptr);
      test::expect_close(("dweight only " + t).c_str(), dgw2.to_host(), gw, 1e-5, 1e-5);
    }
  }
}

void check_case(BatchNormShape s, float offset, std::mt19937& rng) {
  const std::string what = label(s, offset);
  auto x = test::random_vector(size_t(s.n * s.c * s.hw), rng, offset - 2.f, offset + 2.f);
  check_stats(s, x, rng, what);
  check_forward_backward(s, x, rng, what);
}

// An empty batch: NaN statistics (a mean of nothing) and zero parameter gradients, as the CPU core.
void empty_batch() {
  BatchNormShape s{0, 3, 5};
  DeviceVector<float> mean(3), inv(3), dw(3), db(3);
  convkit::cuda::batch_norm_train_stats(s, nullptr, kEps, kMomentum, mean.get(), inv.get(), nullptr, nullptr);
  for (float v : mean.to_host()) CHECK(std::isnan(v), "empty batch mean %g, want NaN", v);
  for (float v : inv.to_host()) CHECK(std::isnan(v), "empty batch inv_std %g, want NaN", v);
  convkit::cuda::fill(dw.get(), 7.f, 3);
  convkit::cuda::fill(db.get(), 7.f, 3);
  DeviceVector<float> ones(std::vector<float>(3, 1.f));
  convkit::cuda::batch_norm_forward(s, nullptr, ones.get(), ones.get(), nullptr, nullptr, nullptr);
  convkit::cuda::batch_norm_backward(s, nullptr, nullptr, ones.get(), ones.get(), nullptr, true, nullptr, dw.get(),
                                     db.get());
  test::expect_close("empty batch dweight", dw.to_host(), std::vector<float>(3, 0.f));
  test::expect_close("empty batch dbias", db.to_host(), std::vector<float>(3, 0.f));
}

// A NaN turns its own channel's statistics NaN and leaves the others alone.
void nan_channel() {
  BatchNormShape s{2, 2, 3};
  std::vector<float> x = {1, 2, 3, 10, NAN, 10, 4, 5, 6, 10, 10, 10};
  DeviceVector<float> dx(x), mean(2), inv(2);
  convkit::cuda::batch_norm_train_stats(s, dx.get(), kEps, kMomentum, mean.get(), inv.get(), nullptr, nullptr);
  auto m = mean.to_host();
  CHECK(m[0] == 3.5f && std::isnan(m[1]), "NaN channel: mean %g %g", m[0], m[1]);
}

void rejects_bad_shapes() {
  try {
    convkit::cuda::batch_norm_forward(BatchNormShape{-1, 2, 3}, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr);
    CHECK(false, "negative n accepted");
  } catch (const convkit::Error& e) {
    CHECK(e.kind == convkit::ErrorKind::range, "negative n: wrong error kind");
  }
}

}  // namespace

int main() {
  if (!test::cuda_usable("test_cuda_batchnorm")) return test::kSkipped;
  std::mt19937 rng(1234);
  const BatchNormShape shapes[] = {
      {1, 1, 4},    {2, 3, 35},  {64, 16, 100}, {8, 64, 1},    {5, 7, 3},      {2, 3, 300},
      {1000, 3, 1}, {3, 2, 257}, {32, 4, 3136}, {2, 3, 70001}, {1, 1, 3000001},
  };
  for (const auto& s : shapes) check_case(s, 0.f, rng);
  check_case({16, 5, 49}, 1000.f, rng);  // a large mean must not cancel the variance away
  check_case({4, 2, 9000}, 100.f, rng);
  empty_batch();
  nan_channel();
  rejects_bad_shapes();
  return test::finish("test_cuda_batchnorm");
}
