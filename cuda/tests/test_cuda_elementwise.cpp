// CUDA dropout against the CPU core (NaN inputs, y aliasing x), the elementwise helpers
// (fill, axpy, scale, broadcast_2d, reduce_2d in every broadcast case) against host loops, and
// the optimizer updates against the double references of native/tests/optim_ref.h, over
// several steps in a row.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "convkit/dropout.h"
#include "convkit/error.h"
#include "convkit_cuda/kernels.h"
#include "cuda_test_util.h"
#include "optim_ref.h"

using test::DeviceVector;

namespace {

const int64_t kSizes[] = {0, 1, 3, 1023, (int64_t(1) << 20) + 3};

std::string sized(const char* what, int64_t n) { return std::string(what) + " n=" + std::to_string(n); }

void dropout_cases(std::mt19937& rng) {
  for (int64_t n : kSizes) {
    auto x = test::random_vector(static_cast<size_t>(n), rng);
    std::vector<uint8_t> mask(static_cast<size_t>(n));
    for (auto& m : mask) m = uint8_t(rng() % 3 != 0);
    for (int64_t i = 0; i < n; i += 7) x[size_t(i)] = NAN;  // kept or dropped, NaN stays NaN
    const float scale = 1.f / 0.7f;
    std::vector<float> want(static_cast<size_t>(n));
    convkit::dropout_apply(x.data(), mask.data(), scale, want.data(), n);
    DeviceVector<float> dx(x), dy(static_cast<size_t>(n));
    DeviceVector<uint8_t> dmask(mask);
    convkit::cuda::dropout_apply(dx.get(), dmask.get(), scale, dy.get(), n);
    test::expect_same(sized("dropout", n), dy.to_host(), want);
    convkit::cuda::dropout_apply(dx.get(), dmask.get(), scale, dx.get(), n);  // in place
    test::expect_same(sized("dropout in place", n), dx.to_host(), want);
  }
}

void fill_axpy_scale(std::mt19937& rng) {
  for (int64_t n : kSizes) {
    auto x = test::random_vector(static_cast<size_t>(n), rng), y = test::random_vector(static_cast<size_t>(n), rng);
    DeviceVector<float> dx(x), dy(y);
    convkit::cuda::axpy(-1.5f, dx.get(), dy.get(), n);
    std::vector<float> want = y;
    for (size_t i = 0; i < want.size(); ++i) want[i] += -1.5f * x[i];
    test::expect_same(sized("axpy", n), dy.to_host(), want);

    convkit::cuda::scale(dy.get(), 0.25f, n);
    for (auto& v : want) v *= 0.25f;
    test::expect_same(sized("scale", n), dy.to_host(), want);

    convkit::cuda::fill(dy.get(), -3.5f, n);
    test::expect_same(sized("fill", n), dy.to_host(), std::vector<float>(static_cast<size_t>(n), -3.5f));
  }
}

struct Dims {
  int64_t m, n;
};

// Empty, single row/column, odd, and large enough for the multi-piece reductions (many rows of
// few columns, long rows, a total sum over 9M values).
const Dims kMatrices[] = {{0, 5},    {5, 0},    {1, 1},     {1, 7},      {7, 1},     {3, 5},       {257, 33},
                          {1023, 1}, {1, 1023}, {2, 100003}, {70001, 5}, {300000, 3}, {1025, 1023}, {3000, 3001}};

// The element of c [rows, cols] that lands on (i, j) of [m, n].
size_t source(int64_t rows, int64_t cols, int64_t i, int64_t j) {
  return size_t((rows == 1 ? 0 : i) * cols + (cols == 1 ? 0 : j));
}

// Host references: c broadcast to [m, n], and dy summed back onto [rows, cols] in double.
std::vector<float> broadcast_ref(const std::vector<float>& c, int64_t rows, int64_t cols, Dims d) {
  std::vector<float> y(size_t(d.m * d.n));
  for (int64_t i = 0; i < d.m; ++i)
    for (int64_t j = 0; j < d.n; ++j) y[size_t(i * d.n + j)] = c[source(rows, cols, i, j)];
  return y;
}

std::vector<float> reduce_ref(const std::vector<float>& dy, int64_t rows, int64_t cols, Dims d, float beta) {
  std::vector<double> sums(size_t(rows * cols), 0.0);
  for (int64_t i = 0; i < d.m; ++i)
    for (int64_t j = 0; j < d.n; ++j) sums[source(rows, cols, i, j)] += dy[size_t(i * d.n + j)];
  std::vector<float> dc(sums.size());
  for (size_t k = 0; k < dc.size(); ++k) dc[k] = float(sums[k]) * beta;
  return dc;
}

void broadcast_and_reduce(std::mt19937& rng) {
  for (Dims d : kMatrices) {
    auto dy = test::random_vector(size_t(d.m * d.n), rng);
    DeviceVector<float> ddy(dy), dy_out(size_t(d.m * d.n));
    for (int64_t rows : {int64_t(1), d.m}) {
      for (int64_t cols : {int64_t(1), d.n}) {
        char what[96];
        std::snprintf(what, sizeof what, "[%lld, %lld] <-> [%lld, %lld]", (long long)rows, (long long)cols,
                      (long long)d.m, (long long)d.n);
        auto c = test::random_vector(size_t(rows * cols), rng);
        DeviceVector<float> dc(c);
        convkit::cuda::broadcast_2d(dc.get(), rows, cols, d.m, d.n, dy_out.get());
        test::expect_same(std::string("broadcast_2d ") + what, dy_out.to_host(), broadcast_ref(c, rows, cols, d));
        for (float beta : {1.f, 0.5f, -2.f}) {
          convkit::cuda::reduce_2d(ddy.get(), rows, cols, d.m, d.n, beta, dc.get());
          test::expect_same(std::string("reduce_2d ") + what + " beta " + std::to_string(beta), dc.to_host(),
                      reduce_ref(dy, rows, cols, d, beta), 1e-5, 1e-5);
        }
      }
    }
  }
  try {
    convkit::cuda::reduce_2d(nullptr, 2, 3, 4, 3, 1.f, nullptr);
    CHECK(false, "reduce_2d accepted rows 2 for m 4");
  } catch (const convkit::Error& e) {
    CHECK(e.kind == convkit::ErrorKind::range, "reduce_2d bad rows: wrong error kind");
  }
}

// ---- optimizers: against the double references of optim_ref.h --------------------------------

const int64_t kParamSizes[] = {1, 3, 1023, (int64_t(1) << 20) + 3};

void sgd_cases(std::mt19937& rng) {
  for (const auto& cfg : test::kSgdConfigs) {
    for (int64_t n : kParamSizes) {
      auto p = test::random_vector(static_cast<size_t>(n), rng);
      std::vector<float> buf(static_cast<size_t>(n), 0.f);
      DeviceVector<float> dp(p), dbuf(buf);
      for (int step = 1; step <= test::kOptimSteps; ++step) {
        convkit::cuda::SgdStep o{0.05f, cfg.momentum, cfg.dampening, cfg.weight_decay, cfg.nesterov, step == 1};
        auto grad = test::random_vector(static_cast<size_t>(n), rng);
        DeviceVector<float> dgrad(grad);
        test::sgd_ref(o, p, grad, buf);
        convkit::cuda::sgd_step(o, dp.get(), dgrad.get(), cfg.momentum != 0 ? dbuf.get() : nullptr, n);
        const std::string what = std::string("sgd ") + cfg.name + " n=" + std::to_string(n) + " step " +
                                 std::to_string(step);
        test::expect_same(what + " param", dp.to_host(), p, 1e-6, 1e-5);
        if (cfg.momentum != 0) test::expect_same(what + " buffer", dbuf.to_host(), buf, 1e-6, 1e-5);
      }
    }
  }
}

void adam_cases(std::mt19937& rng) {
  for (const auto& cfg : test::kAdamConfigs) {
    for (int64_t n : kParamSizes) {
      auto p = test::random_vector(static_cast<size_t>(n), rng);
      const std::vector<float> zeros(static_cast<size_t>(n), 0.f);
      std::vector<float> m = zeros, v = zeros, vmax = zeros;
      DeviceVector<float> dp(p), dm(m), dv(v), dvmax(vmax);
      for (int step = 1; step <= test::kOptimSteps; ++step) {
        convkit::cuda::AdamStep o{1e-2f, 0.9f, 0.999f, 1e-8f, cfg.weight_decay, cfg.decoupled, step};
        auto grad = test::random_vector(static_cast<size_t>(n), rng);
        DeviceVector<float> dgrad(grad);
        test::adam_ref(o, p, grad, m, v, cfg.amsgrad ? &vmax : nullptr);
        convkit::cuda::adam_step(o, dp.get(), dgrad.get(), dm.get(), dv.get(), cfg.amsgrad ? dvmax.get() : nullptr, n);
        const std::string what = std::string(cfg.name) + " n=" + std::to_string(n) + " step " + std::to_string(step);
        test::expect_same(what + " param", dp.to_host(), p, 1e-6, 1e-5);
        test::expect_same(what + " exp_avg", dm.to_host(), m, 1e-7, 1e-5);
        test::expect_same(what + " exp_avg_sq", dv.to_host(), v, 1e-9, 1e-5);
        if (cfg.amsgrad) test::expect_same(what + " max_exp_avg_sq", dvmax.to_host(), vmax, 1e-9, 1e-5);
      }
    }
  }
}

void rmsprop_cases(std::mt19937& rng) {
  for (const auto& cfg : test::kRmspropConfigs) {
    for (int64_t n : kParamSizes) {
      auto p = test::random_vector(static_cast<size_t>(n), rng);
      const std::vector<float> zeros(static_cast<size_t>(n), 0.f);
      std::vector<float> sq = zeros, buf = zeros, avg = zeros;
      DeviceVector<float> dp(p), dsq(sq), dbuf(buf), davg(avg);
      for (int step = 1; step <= test::kOptimSteps; ++step) {
        convkit::cuda::RmspropStep o{1e-2f, 0.99f, 1e-8f, cfg.weight_decay, cfg.momentum};
        auto grad = test::random_vector(static_cast<size_t>(n), rng);
        DeviceVector<float> dgrad(grad);
        test::rmsprop_ref(o, p, grad, sq, buf, cfg.centered ? &avg : nullptr);
        convkit::cuda::rmsprop_step(o, dp.get(), dgrad.get(), dsq.get(), cfg.momentum > 0 ? dbuf.get() : nullptr,
                                    cfg.centered ? davg.get() : nullptr, n);
        const std::string what = std::string("rmsprop ") + cfg.name + " n=" + std::to_string(n) + " step " +
                                 std::to_string(step);
        test::expect_same(what + " param", dp.to_host(), p, 1e-5, 1e-5);
        test::expect_same(what + " square_avg", dsq.to_host(), sq, 1e-9, 1e-5);
        if (cfg.momentum > 0) test::expect_same(what + " momentum_buf", dbuf.to_host(), buf, 1e-4, 1e-4);
        if (cfg.centered) test::expect_same(what + " grad_avg", davg.to_host(), avg, 1e-7, 1e-5);
      }
    }
  }
}

void optimizer_errors() {
  try {
    convkit::cuda::AdamStep o{1e-3f, 0.9f, 0.999f, 1e-8f, 0, false, 0};
    float dummy = 0;
    convkit::cuda::adam_step(o, &dummy, &dummy, &dummy, &dummy, nullptr, 1);
    CHECK(false, "adam_step accepted step 0");
  } catch (const convkit::Error& e) {
    CHECK(e.kind == convkit::ErrorKind::range, "adam step 0: wrong error kind");
  }
  try {
    convkit::cuda::SgdStep o{0.1f, 0.9f, 0, 0, false, true};
    float dummy = 0;
    convkit::cuda::sgd_step(o, &dummy, &dummy, nullptr, 1);
    CHECK(false, "sgd_step with momentum accepted a null buffer");
  } catch (const convkit::Error& e) {
    CHECK(e.kind == convkit::ErrorKind::type, "sgd null buffer: wrong error kind");
  }
  // Empty parameters do nothing, whatever the pointers.
  convkit::cuda::sgd_step(convkit::cuda::SgdStep{0.1f, 0.9f, 0, 0, false, true}, nullptr, nullptr, nullptr, 0);
  convkit::cuda::rmsprop_step(convkit::cuda::RmspropStep{0.1f, 0.99f, 1e-8f, 0, 0.9f}, nullptr, nullptr, nullptr,
                              nullptr, nullptr, 0);
}

}  // namespace

int main() {
  if (!test::cuda_usable("test_cuda_elementwise")) return test::kSkipped;
  std::mt19937 rng(99);
  dropout_cases(rng);
  fill_axpy_scale(rng);
  broadcast_and_reduce(rng);
  sgd_cases(rng);
  adam_cases(rng);
  rmsprop_cases(rng);
  optimizer_errors();
  return test::finish("test_cuda_elementwise");
}
