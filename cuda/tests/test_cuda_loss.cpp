// CUDA losses against the CPU core: cross-entropy (labels and soft targets), NLL, MSE and
// BCE-with-logits forward (total = sum * scale for 'sum' and 'mean', per-item losses, no
// total) and backward (dy of length 1 and per item), on n = 1 up to 10000 rows, c = 1 up to
// 1500 classes (warp and block rows), logits up to +-80, pos_weight of length 1 and c. Also:
// a label out of range gives NaN for its row only, totals repeat bit for bit, and an empty
// batch writes total = 0 * scale.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "convkit/activation.h"
#include "convkit/loss.h"
#include "convkit_cuda/kernels.h"
#include "cuda_test_util.h"

using Vec = std::vector<float>;
using Labels = std::vector<int32_t>;

namespace {

float total_of(const test::DeviceVector<float>& t) { return t.to_host()[0]; }

// For formulas that round the same way on both sides.
void expect_equal(const std::string& what, const Vec& got, const Vec& want) {
  CHECK(got == want, "%s: values differ", what.c_str());
}

void expect_total(const std::string& what, float got, double want) {
  test::expect_close(what.c_str(), Vec{got}, Vec{float(want)}, 1e-5, 1e-5);
}

struct Case {
  int64_t n, c;
  float mag;  // logits in [-mag, mag]
  std::string name() const {
    return "n" + std::to_string(n) + " c" + std::to_string(c) + " mag" + std::to_string(int(mag));
  }
};

Labels random_labels(int64_t n, int64_t c, std::mt19937& rng) {
  Labels l(size_t(n), 0);
  for (auto& v : l) v = int32_t(rng() % uint32_t(c));
  return l;
}

// The upstream gradient: one value or one per item.
Vec upstream(int64_t items, bool per_item, std::mt19937& rng) {
  return per_item ? test::random_vector(size_t(items), rng, -2.f, 2.f) : Vec{0.7f};
}

void cross_entropy(const Case& k, std::mt19937& rng) {
  const int64_t n = k.n, c = k.c;
  const size_t nc = size_t(n * c);
  Vec x = test::random_vector(nc, rng, -k.mag, k.mag), probs(nc), d(nc);
  Labels labels = random_labels(n, c, rng);
  const float mean = convkit::cross_entropy_forward(x.data(), labels.data(), n, c, probs.data());

  test::DeviceVector<float> xd(x), pd(Vec(nc, NAN)), total(Vec{NAN}), dd(Vec(nc, NAN)), dy(Vec{0.7f});
  test::DeviceVector<int32_t> ld(labels);
  for (float scale : {1.f, 1.f / float(n)}) {
    convkit::cuda::cross_entropy_forward(xd.get(), ld.get(), n, c, pd.get(), total.get(), scale);
    const std::string what = "cross_entropy " + k.name() + " scale " + std::to_string(scale);
    expect_total(what + " total", total_of(total), double(mean) * double(n) * double(scale));
    test::expect_close((what + " probs").c_str(), pd.to_host(), probs, 1e-6, 2e-5);
    convkit::cuda::cross_entropy_backward(pd.get(), ld.get(), n, c, dy.get(), scale, dd.get());
    convkit::cross_entropy_backward(probs.data(), labels.data(), n, c, 0.7f * scale, d.data());
    test::expect_close((what + " dlogits").c_str(), dd.to_host(), d, 1e-6, 2e-5);
  }
  // Deterministic: the same total bit for bit; without a total the probabilities still come.
  convkit::cuda::cross_entropy_forward(xd.get(), ld.get(), n, c, pd.get(), total.get(), 1.f);
  const float first = total_of(total);
  convkit::cuda::cross_entropy_forward(xd.get(), ld.get(), n, c, pd.get(), total.get(), 1.f);
  CHECK(total_of(total) == first, "cross_entropy %s: totals differ between runs", k.name().c_str());
  test::DeviceVector<float> pd2(Vec(nc, NAN));
  convkit::cuda::cross_entropy_forward(xd.get(), ld.get(), n, c, pd2.get(), nullptr, 1.f);
  test::expect_close(("cross_entropy probs without total " + k.name()).c_str(), pd2.to_host(), probs, 1e-6, 2e-5);
}

void cross_entropy_soft(const Case& k, std::mt19937& rng) {
  const int64_t n = k.n, c = k.c;
  const size_t nc = size_t(n * c);
  Vec x = test::random_vector(nc, rng, -k.mag, k.mag), t = test::random_vector(nc, rng, 0.f, 1.f);
  Vec probs(nc), losses(static_cast<size_t>(n));
  const double sum = convkit::cross_entropy_soft_forward(x.data(), t.data(), n, c, probs.data(), losses.data());

  test::DeviceVector<float> xd(x), td(t), pd(Vec(nc, NAN)), ld(Vec(size_t(n), NAN)), total(Vec{NAN});
  for (float scale : {1.f, 1.f / float(n)}) {
    const std::string what = "cross_entropy_soft " + k.name() + " scale " + std::to_string(scale);
    convkit::cuda::cross_entropy_soft_forward(xd.get(), td.get(), n, c, pd.get(), ld.get(), total.get(), scale);
    expect_total(what + " total", total_of(total), sum * double(scale));
    test::expect_close((what + " losses").c_str(), ld.to_host(), losses, 1e-5, 1e-5);
    test::expect_close((what + " probs").c_str(), pd.to_host(), probs, 1e-6, 2e-5);
  }
  test::DeviceVector<float> pd2(Vec(nc, NAN)), total2(Vec{NAN});
  convkit::cuda::cross_entropy_soft_forward(xd.get(), td.get(), n, c, pd2.get(), nullptr, total2.get(), 1.f);
  expect_total("cross_entropy_soft without losses " + k.name(), total_of(total2), sum);

  for (bool per_item : {false, true}) {
    Vec dy = upstream(n, per_item, rng), d(nc);
    const float scale = 0.25f;
    convkit::cross_entropy_soft_backward(probs.data(), t.data(), n, c, dy.data(), int64_t(dy.size()), scale,
                                         d.data());
    test::DeviceVector<float> dyd(dy), cpu_pd(probs), dd(Vec(nc, NAN));
    convkit::cuda::cross_entropy_soft_backward(cpu_pd.get(), td.get(), n, c, dyd.get(), int64_t(dy.size()), scale,
                                               dd.get());
    const std::string what = "cross_entropy_soft_backward " + k.name() + (per_item ? " per item" : "");
    test::expect_close(what.c_str(), dd.to_host(), d, 1e-6, 2e-5);
    // dlogits may alias probs
    convkit::cuda::cross_entropy_soft_backward(cpu_pd.get(), td.get(), n, c, dyd.get(), int64_t(dy.size()), scale,
                                               cpu_pd.get());
    test::expect_close((what + " in place").c_str(), cpu_pd.to_host(), d, 1e-6, 2e-5);
  }
}

void nll(const Case& k, std::mt19937& rng) {
  const int64_t n = k.n, c = k.c;
  const size_t nc = size_t(n * c);
  Vec lp = test::random_vector(nc, rng, -k.mag, 0.f), losses(static_cast<size_t>(n));
  Labels labels = random_labels(n, c, rng);
  const double sum = convkit::nll_loss_forward(lp.data(), labels.data(), n, c, losses.data());

  test::DeviceVector<float> lpd(lp), ld(Vec(size_t(n), NAN)), total(Vec{NAN});
  test::DeviceVector<int32_t> labd(labels);
  for (float scale : {1.f, 1.f / float(n)}) {
    const std::string what = "nll_loss " + k.name() + " scale " + std::to_string(scale);
    convkit::cuda::nll_loss_forward(lpd.get(), labd.get(), n, c, ld.get(), total.get(), scale);
    expect_total(what + " total", total_of(total), sum * double(scale));
    expect_equal(what + " losses", ld.to_host(), losses);
  }
  convkit::cuda::nll_loss_forward(lpd.get(), labd.get(), n, c, nullptr, total.get(), 1.f);
  expect_total("nll_loss without losses " + k.name(), total_of(total), sum);

  for (bool per_item : {false, true}) {
    Vec dy = upstream(n, per_item, rng), d(nc);
    convkit::nll_loss_backward(labels.data(), n, c, dy.data(), int64_t(dy.size()), 0.5f, d.data());
    test::DeviceVector<float> dyd(dy), dd(Vec(nc, NAN));
    convkit::cuda::nll_loss_backward(labd.get(), n, c, dyd.get(), int64_t(dy.size()), 0.5f, dd.get());
    expect_equal("nll_loss_backward " + k.name() + (per_item ? " per item" : ""), dd.to_host(), d);
  }
}

void mse(const Case& k, std::mt19937& rng) {
  const int64_t count = k.n * k.c;
  Vec in = test::random_vector(size_t(count), rng, -k.mag, k.mag), t = test::random_vector(size_t(count), rng);
  Vec losses(static_cast<size_t>(count));
  const double sum = convkit::mse_loss_forward(in.data(), t.data(), count, losses.data());

  test::DeviceVector<float> ind(in), td(t), ld(Vec(size_t(count), NAN)), total(Vec{NAN});
  for (float scale : {1.f, 1.f / float(count)}) {
    const std::string what = "mse_loss " + k.name() + " scale " + std::to_string(scale);
    convkit::cuda::mse_loss_forward(ind.get(), td.get(), count, ld.get(), total.get(), scale);
    expect_total(what + " total", total_of(total), sum * double(scale));
    expect_equal(what + " losses", ld.to_host(), losses);
  }

  for (bool per_item : {false, true}) {
    Vec dy = upstream(count, per_item, rng), di(static_cast<size_t>(count)), dt(static_cast<size_t>(count));
    convkit::mse_loss_backward(in.data(), t.data(), count, dy.data(), int64_t(dy.size()), 0.5f, di.data(), dt.data());
    test::DeviceVector<float> dyd(dy), did(Vec(size_t(count), NAN)), dtd(Vec(size_t(count), NAN));
    convkit::cuda::mse_loss_backward(ind.get(), td.get(), count, dyd.get(), int64_t(dy.size()), 0.5f, did.get(),
                                     dtd.get());
    const std::string what = "mse_loss_backward " + k.name() + (per_item ? " per item" : "");
    expect_equal(what + " dinput", did.to_host(), di);
    expect_equal(what + " dtarget", dtd.to_host(), dt);
    test::DeviceVector<float> only(Vec(size_t(count), NAN));
    convkit::cuda::mse_loss_backward(ind.get(), td.get(), count, dyd.get(), int64_t(dy.size()), 0.5f, nullptr,
                                     only.get());
    expect_equal(what + " dtarget alone", only.to_host(), dt);
  }
}

void bce(const Case& k, std::mt19937& rng) {
  const int64_t count = k.n * k.c;
  Vec x = test::random_vector(size_t(count), rng, -k.mag, k.mag), t = test::random_vector(size_t(count), rng, 0, 1);
  test::DeviceVector<float> xd(x), td(t);
  for (int64_t pw_len : {int64_t(0), int64_t(1), k.c}) {
    Vec pw = pw_len ? test::random_vector(size_t(pw_len), rng, 0.5f, 3.f) : Vec{};
    const float* pwp = pw_len ? pw.data() : nullptr;
    test::DeviceVector<float> pwd(pw);
    const float* pwdp = pw_len ? pwd.get() : nullptr;
    const std::string what = "bce_with_logits " + k.name() + " pos_weight " + std::to_string(pw_len);

    Vec losses(static_cast<size_t>(count));
    const double sum = convkit::bce_with_logits_forward(x.data(), t.data(), count, pwp, pw_len, losses.data());
    test::DeviceVector<float> ld(Vec(size_t(count), NAN)), total(Vec{NAN});
    for (float scale : {1.f, 1.f / float(count)}) {
      convkit::cuda::bce_with_logits_forward(xd.get(), td.get(), count, pwdp, pw_len, ld.get(), total.get(), scale);
      expect_total(what + " total scale " + std::to_string(scale), total_of(total), sum * double(scale));
      test::expect_close((what + " losses").c_str(), ld.to_host(), losses, 1e-6, 1e-6);
    }

    for (bool per_item : {false, true}) {
      Vec dy = upstream(count, per_item, rng), dx(static_cast<size_t>(count)), dt(static_cast<size_t>(count));
      const int64_t dy_len = int64_t(dy.size());
      convkit::bce_with_logits_backward(x.data(), t.data(), count, pwp, pw_len, dy.data(), dy_len, 0.5f, dx.data(),
                                        dt.data());
      test::DeviceVector<float> dyd(dy), dxd(Vec(size_t(count), NAN)), dtd(Vec(size_t(count), NAN));
      convkit::cuda::bce_with_logits_backward(xd.get(), td.get(), count, pwdp, pw_len, dyd.get(), dy_len, 0.5f,
                                              dxd.get(), dtd.get());
      const std::string w = what + (per_item ? " per item" : "");
      test::expect_close((w + " dlogits").c_str(), dxd.to_host(), dx, 1e-6, 1e-6);
      test::expect_close((w + " dtarget").c_str(), dtd.to_host(), dt, 1e-6, 1e-6);
    }
  }
}

// A label outside [0, c) makes its row's loss and gradient NaN and leaves the other rows alone.
void bad_labels() {
  const int64_t n = 3, c = 4;
  Vec x = {0.1f, 0.2f, 0.3f, 0.4f, 1.f, 2.f, 3.f, 4.f, -1.f, 0.f, 1.f, 0.f};
  Labels labels = {1, 4, 2}, good = {1, 0, 2};
  Vec probs(12), lp(12), nll_losses(3);
  convkit::cross_entropy_forward(x.data(), good.data(), n, c, probs.data());
  convkit::log_softmax_forward(x.data(), lp.data(), n, c, 1);
  test::DeviceVector<float> xd(x), pd(size_t(12)), total(Vec{0.f}), dy(Vec{1.f}), dd(size_t(12)), ld(size_t(3));
  test::DeviceVector<int32_t> labd(labels);
  convkit::cuda::cross_entropy_forward(xd.get(), labd.get(), n, c, pd.get(), total.get(), 1.f);
  CHECK(std::isnan(total_of(total)), "cross_entropy with label 4 of 4: total %g", total_of(total));
  test::expect_close("cross_entropy probs with a bad label", pd.to_host(), probs, 1e-6, 2e-5);
  convkit::cuda::cross_entropy_backward(pd.get(), labd.get(), n, c, dy.get(), 1.f, dd.get());
  Vec d = dd.to_host();
  CHECK(std::isnan(d[4]) && std::isnan(d[7]) && !std::isnan(d[0]) && !std::isnan(d[11]),
        "cross_entropy_backward: only row 1 is NaN");

  test::DeviceVector<float> lpd(lp);
  labels = {-1, 0, 3};
  test::DeviceVector<int32_t> labd2(labels);
  convkit::cuda::nll_loss_forward(lpd.get(), labd2.get(), n, c, ld.get(), total.get(), 1.f);
  Vec l = ld.to_host();
  CHECK(std::isnan(l[0]) && l[1] == -lp[4] && l[2] == -lp[11] && std::isnan(total_of(total)),
        "nll_loss with label -1: losses %g %g %g", l[0], l[1], l[2]);
  convkit::cuda::nll_loss_backward(labd2.get(), n, c, dy.get(), 1, 1.f, dd.get());
  d = dd.to_host();
  CHECK(std::isnan(d[0]) && std::isnan(d[3]) && d[4] == -1.f && d[5] == 0.f && d[11] == -1.f,
        "nll_loss_backward: only row 0 is NaN");
}

// Zero items: total = 0 * scale (0 for 'sum', NaN for a mean over nothing), nothing else.
void empty() {
  test::DeviceVector<float> total(Vec{NAN}), buf(size_t(4));
  test::DeviceVector<int32_t> labels(size_t(4));
  convkit::cuda::cross_entropy_forward(buf.get(), labels.get(), 0, 3, buf.get(), total.get(), 1.f);
  CHECK(total_of(total) == 0.f, "cross_entropy n=0: total %g", total_of(total));
  convkit::cuda::mse_loss_forward(buf.get(), buf.get(), 0, nullptr, total.get(), INFINITY);
  CHECK(std::isnan(total_of(total)), "mse_loss mean over 0 items: total %g", total_of(total));
}

}  // namespace

int main() {
  if (!test::cuda_usable("test_cuda_loss")) return test::kSkipped;
  std::mt19937 rng(11);
  const Case cases[] = {{1, 1, 1.f},    {1, 5, 1.f},   {7, 3, 4.f},     {64, 10, 4.f},     {5, 1000, 4.f},
                        {3, 1500, 4.f}, {7, 3, 80.f},  {64, 10, 80.f},  {5, 1000, 80.f},   {10000, 5, 4.f},
                        {2, 1025, 80.f}};
  for (const Case& k : cases) {
    cross_entropy(k, rng);
    cross_entropy_soft(k, rng);
    nll(k, rng);
    mse(k, rng);
    bce(k, rng);
  }
  bad_labels();
  empty();
  return test::finish("test_cuda_loss");
}
