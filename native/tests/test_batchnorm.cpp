// Batch normalisation (stats, forward, backward in training and eval) and dropout against
// naive double loops: odd shapes, a large mean (cancellation), NaN, 1 and 2 threads.
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "convkit/batchnorm.h"
#include "convkit/dropout.h"
#include "convkit/error.h"
#include "convkit/threads.h"
#include "test_util.h"

using convkit::BatchNormShape;

namespace {

struct Reference {
  std::vector<float> mean, var, inv_std, y, dx_train, dx_eval, dweight, dbias;
};

size_t at(const BatchNormShape& s, int64_t i, int64_t ch, int64_t j) { return size_t((i * s.c + ch) * s.hw + j); }

Reference reference(const BatchNormShape& s, const std::vector<float>& x, const std::vector<float>& dy,
                    const std::vector<float>& w, const std::vector<float>& b) {
  Reference r;
  const double count = double(s.n * s.hw);
  size_t total = size_t(s.n * s.c * s.hw), c = size_t(s.c);
  r.mean.resize(c); r.var.resize(c); r.inv_std.resize(c); r.dweight.resize(c); r.dbias.resize(c);
  r.y.resize(total); r.dx_train.resize(total); r.dx_eval.resize(total);
  for (int64_t ch = 0; ch < s.c; ++ch) {
    double m = 0, v = 0;
    for (int64_t i = 0; i < s.n; ++i)
      for (int64_t j = 0; j < s.hw; ++j) m += x[at(s, i, ch, j)];
    m /= count;
    for (int64_t i = 0; i < s.n; ++i)
      for (int64_t j = 0; j < s.hw; ++j) v += (x[at(s, i, ch, j)] - m) * (x[at(s, i, ch, j)] - m);
    v /= count;
    // The kernels below receive float statistics; the reference uses the same rounded values.
    const double is = double(float(1.0 / std::sqrt(v + 1e-5)));
    const double mf = double(float(m));
    double sdy = 0, sdyx = 0;
    for (int64_t i = 0; i < s.n; ++i)
      for (int64_t j = 0; j < s.hw; ++j) {
        double xhat = (x[at(s, i, ch, j)] - mf) * is;
        r.y[at(s, i, ch, j)] = float(xhat * w[size_t(ch)] + b[size_t(ch)]);
        sdy += dy[at(s, i, ch, j)];
        sdyx += dy[at(s, i, ch, j)] * xhat;
      }
    for (int64_t i = 0; i < s.n; ++i)
      for (int64_t j = 0; j < s.hw; ++j) {
        double xhat = (x[at(s, i, ch, j)] - mf) * is, g = dy[at(s, i, ch, j)];
        r.dx_train[at(s, i, ch, j)] = float(w[size_t(ch)] * is * (g - sdy / count - xhat * sdyx / count));
        r.dx_eval[at(s, i, ch, j)] = float(w[size_t(ch)] * is * g);
      }
    r.mean[size_t(ch)] = float(m); r.var[size_t(ch)] = float(v); r.inv_std[size_t(ch)] = float(is);
    r.dweight[size_t(ch)] = float(sdyx); r.dbias[size_t(ch)] = float(sdy);
  }
  return r;
}

void check_case(BatchNormShape s, float offset, std::mt19937& rng) {
  size_t total = size_t(s.n * s.c * s.hw), c = size_t(s.c);
  auto x = test::random_vector(total, rng, offset - 2.f, offset + 2.f);
  auto dy = test::random_vector(total, rng);
  auto w = test::random_vector(c, rng, 0.5f, 2.f), b = test::random_vector(c, rng);
  Reference r = reference(s, x, dy, w, b);
  char label[128];
  std::snprintf(label, sizeof label, "n%lld c%lld hw%lld offset %g", (long long)s.n, (long long)s.c, (long long)s.hw, offset);
  for (int threads : {1, 2}) {
    convkit::set_num_threads(threads);
    std::vector<float> mean(c, NAN), var(c, NAN), y(total, NAN), dx(total, NAN), dw(c, NAN), db(c, NAN);
    convkit::batch_norm_stats(s, x.data(), mean.data(), var.data());
    CHECK(test::all_close(mean, r.mean, 1e-6, 1e-6), "mean %s [%d threads]", label, threads);
    CHECK(test::all_close(var, r.var, 1e-6, 1e-5), "variance %s [%d threads]", label, threads);
    // The kernels below take the reference statistics, so they are checked alone.
    convkit::batch_norm_forward(s, x.data(), r.mean.data(), r.inv_std.data(), w.data(), b.data(), y.data());
    CHECK(test::all_close(y, r.y, 1e-4, 1e-4), "forward %s [%d threads]", label, threads);
    convkit::batch_norm_backward(s, x.data(), dy.data(), r.mean.data(), r.inv_std.data(), w.data(), true, dx.data(),
                                 dw.data(), db.data());
    CHECK(test::all_close(dx, r.dx_train, 1e-4, 1e-3), "dx training %s [%d threads]", label, threads);
    CHECK(test::all_close(dw, r.dweight, 1e-3, 1e-4), "dweight %s [%d threads]", label, threads);
    CHECK(test::all_close(db, r.dbias, 1e-3, 1e-4), "dbias %s [%d threads]", label, threads);
    convkit::batch_norm_backward(s, x.data(), dy.data(), r.mean.data(), r.inv_std.data(), w.data(), false, dx.data(),
                                 nullptr, nullptr);
    CHECK(test::all_close(dx, r.dx_eval, 1e-5, 1e-5), "dx eval %s [%d threads]", label, threads);
  }
}

void no_affine_and_nan() {
  BatchNormShape s{2, 2, 3};
  std::vector<float> x = {1, 2, 3, 10, 10, 10, 4, 5, 6, 10, 10, 10}, mean(2), var(2), y(12);
  convkit::batch_norm_stats(s, x.data(), mean.data(), var.data());
  CHECK(mean[0] == 3.5f && std::fabs(var[0] - 35.f / 12.f) < 1e-6f, "stats %g %g", mean[0], var[0]);
  CHECK(mean[1] == 10.f && var[1] == 0.f, "constant channel %g %g", mean[1], var[1]);
  std::vector<float> inv = {1.f, 2.f};
  convkit::batch_norm_forward(s, x.data(), mean.data(), inv.data(), nullptr, nullptr, y.data());
  CHECK(y[0] == -2.5f && y[3] == 0.f, "no affine %g %g", y[0], y[3]);
  x[4] = NAN;  // channel 1 of image 0: its statistics and every output of that channel turn NaN
  convkit::batch_norm_stats(s, x.data(), mean.data(), var.data());
  CHECK(std::isnan(mean[1]) && std::isnan(var[1]) && !std::isnan(mean[0]), "NaN stats %g %g", mean[1], mean[0]);
  try {
    convkit::batch_norm_forward(BatchNormShape{-1, 2, 3}, x.data(), mean.data(), inv.data(), nullptr, nullptr, y.data());
    CHECK(false, "negative n accepted");
  } catch (const convkit::Error& e) {
    CHECK(e.kind == convkit::ErrorKind::range, "kind");
  }
}

void dropout_cases(std::mt19937& rng) {
  for (int64_t n : {0, 1, 7, 100003}) {
    auto x = test::random_vector(size_t(n), rng);
    std::vector<uint8_t> mask(static_cast<size_t>(n));
    for (auto& m : mask) m = uint8_t(rng() & 1);
    if (n > 0) x[0] = NAN;
    for (int threads : {1, 2}) {
      convkit::set_num_threads(threads);
      std::vector<float> y(size_t(n), 7.f);
      convkit::dropout_apply(x.data(), mask.data(), 2.5f, y.data(), n);
      bool ok = true;
      for (size_t i = 0; i < size_t(n); ++i) {
        float want = x[i] * (mask[i] ? 2.5f : 0.f);
        ok = ok && (std::isnan(want) ? std::isnan(y[i]) : y[i] == want);
      }
      CHECK(ok, "dropout n%lld [%d threads]", (long long)n, threads);
    }
  }
}

}  // namespace

int main() {
  std::mt19937 rng(23);
  for (BatchNormShape s : {BatchNormShape{1, 1, 2}, {2, 3, 1}, {4, 3, 25}, {3, 17, 49}, {8, 64, 196}, {2, 2, 70000}})
    for (float offset : {0.f, 1000.f}) check_case(s, offset, rng);
  no_affine_and_nan();
  dropout_cases(rng);
  convkit::set_num_threads(convkit::hardware_threads());
  return test::finish("test_batchnorm");
}
