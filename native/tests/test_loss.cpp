// Cross-entropy forward/backward against double loops: huge logits, label checks, every ISA
// forced, 1 and 2 threads.
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "convkit/error.h"
#include "convkit/loss.h"
#include "convkit/threads.h"
#include "test_util.h"

namespace {

void check_case(int64_t n, int64_t c, float scale, std::mt19937& rng) {
  auto x = test::random_vector(size_t(n * c), rng, -scale, scale);
  std::vector<int32_t> labels(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) labels[size_t(i)] = int32_t(rng() % uint32_t(c));
  std::vector<float> pr(size_t(n * c)), dr(size_t(n * c));
  double loss = 0;
  const float scale_g = 0.5f / float(n);
  for (int64_t i = 0; i < n; ++i) {
    double m = -INFINITY, s = 0;
    for (int64_t j = 0; j < c; ++j) m = std::max(m, double(x[size_t(i * c + j)]));
    for (int64_t j = 0; j < c; ++j) s += std::exp(x[size_t(i * c + j)] - m);
    loss += std::log(s) - (x[size_t(i * c + labels[size_t(i)])] - m);
    for (int64_t j = 0; j < c; ++j) {
      double p = std::exp(x[size_t(i * c + j)] - m) / s;
      pr[size_t(i * c + j)] = float(p);
      dr[size_t(i * c + j)] = float((p - (j == labels[size_t(i)] ? 1.0 : 0.0)) * scale_g);
    }
  }
  loss /= double(n);
  test::for_each_isa([&](convkit::Isa isa) {
    for (int threads : {1, 2}) {
      convkit::set_num_threads(threads);
      std::vector<float> p(size_t(n * c), NAN), d(size_t(n * c), NAN);
      float l = convkit::cross_entropy_forward(x.data(), labels.data(), n, c, p.data());
      CHECK(std::fabs(l - loss) <= 1e-5 * (1 + std::fabs(loss)), "loss n%lld c%lld scale %g [%s %d]: %g vs %g",
            (long long)n, (long long)c, scale, convkit::isa_name(isa), threads, l, loss);
      CHECK(test::all_close(p, pr, 1e-7, 2e-5), "probs n%lld c%lld [%s %d]", (long long)n, (long long)c,
            convkit::isa_name(isa), threads);
      convkit::cross_entropy_backward(p.data(), labels.data(), n, c, scale_g, d.data());
      CHECK(test::all_close(d, dr, 1e-7, 1e-4), "dlogits n%lld c%lld [%s %d]", (long long)n, (long long)c,
            convkit::isa_name(isa), threads);
      // in place: dlogits may alias probs
      convkit::cross_entropy_backward(p.data(), labels.data(), n, c, scale_g, p.data());
      CHECK(test::all_close(p, dr, 1e-7, 1e-4), "dlogits in place n%lld c%lld", (long long)n, (long long)c);
    }
  });
}

void labels_checked() {
  std::vector<float> x(6, 0.f), p(6);
  std::vector<int32_t> bad = {1, 3};
  try {
    convkit::cross_entropy_forward(x.data(), bad.data(), 2, 3, p.data());
    CHECK(false, "label 3 with 3 classes accepted");
  } catch (const convkit::Error& e) {
    CHECK(e.kind == convkit::ErrorKind::range, "kind");
    CHECK(std::string(e.what()).find("labels[1] = 3") != std::string::npos, "message: %s", e.what());
  }
  bad = {-1, 0};
  try {
    convkit::cross_entropy_backward(p.data(), bad.data(), 2, 3, 1.f, x.data());
    CHECK(false, "label -1 accepted");
  } catch (const convkit::Error& e) {
    CHECK(std::string(e.what()).find("labels[0] = -1") != std::string::npos, "message: %s", e.what());
  }
  // Huge logits: finite loss, exact probabilities.
  std::vector<float> big = {1e4f, -1e4f, 0.f, -3e4f, 3e4f, 0.f};
  std::vector<int32_t> lab = {1, 0};
  float l = convkit::cross_entropy_forward(big.data(), lab.data(), 2, 3, p.data());
  CHECK(std::isfinite(l) && std::fabs(l - 4e4f) < 1.f, "huge logits loss %g", l);
  CHECK(p[0] == 1.f && p[1] == 0.f && p[4] == 1.f, "huge logits probs %g %g %g", p[0], p[1], p[4]);
}

// ---- soft-target cross-entropy, NLL, MSE, BCE-with-logits against double loops ----------------

// Upstream gradient: one value, or one per item.
std::vector<float> upstream(int64_t items, bool per_item, std::mt19937& rng) {
  return per_item ? test::random_vector(size_t(items), rng) : std::vector<float>{0.75f};
}

void check_soft_ce(int64_t n, int64_t c, float xscale, bool per_item, std::mt19937& rng) {
  auto x = test::random_vector(size_t(n * c), rng, -xscale, xscale);
  auto t = test::random_vector(size_t(n * c), rng, 0.f, 1.f);  // rows need not sum to 1
  auto dy = upstream(n, per_item, rng);
  const float scale = per_item ? 1.f : 1.f / float(n);
  std::vector<float> lr(static_cast<size_t>(n)), dr(static_cast<size_t>(n * c));
  double sum = 0;
  for (int64_t i = 0; i < n; ++i) {
    double m = -INFINITY, s = 0, ts = 0, row = 0;
    for (int64_t j = 0; j < c; ++j) m = std::max(m, double(x[size_t(i * c + j)]));
    for (int64_t j = 0; j < c; ++j) s += std::exp(double(x[size_t(i * c + j)]) - m);
    for (int64_t j = 0; j < c; ++j) ts += t[size_t(i * c + j)];
    for (int64_t j = 0; j < c; ++j) row -= t[size_t(i * c + j)] * (double(x[size_t(i * c + j)]) - m - std::log(s));
    lr[size_t(i)] = float(row);
    sum += row;
    double g = double(dy[per_item ? size_t(i) : 0]) * scale;
    for (int64_t j = 0; j < c; ++j) {
      double p = std::exp(double(x[size_t(i * c + j)]) - m) / s;
      dr[size_t(i * c + j)] = float((p * ts - t[size_t(i * c + j)]) * g);
    }
  }
  test::for_each_isa([&](convkit::Isa isa) {
    for (int threads : {1, 2, 4}) {
      convkit::set_num_threads(threads);
      std::vector<float> p(size_t(n * c), NAN), l(size_t(n), NAN), d(size_t(n * c), NAN);
      double got = convkit::cross_entropy_soft_forward(x.data(), t.data(), n, c, p.data(), l.data());
      CHECK(std::fabs(got - sum) <= 1e-5 * (1 + std::fabs(sum)), "soft ce sum n%lld c%lld [%s %d]: %g vs %g",
            (long long)n, (long long)c, convkit::isa_name(isa), threads, got, sum);
      CHECK(test::all_close(l, lr, 1e-5, 1e-5), "soft ce losses n%lld c%lld [%s %d]", (long long)n, (long long)c,
            convkit::isa_name(isa), threads);
      double again = convkit::cross_entropy_soft_forward(x.data(), t.data(), n, c, p.data(), nullptr);
      CHECK(again == got, "soft ce without losses differs: %g vs %g", again, got);
      convkit::cross_entropy_soft_backward(p.data(), t.data(), n, c, dy.data(), int64_t(dy.size()), scale, d.data());
      CHECK(test::all_close(d, dr, 1e-6, 1e-4), "soft ce dlogits n%lld c%lld [%s %d]", (long long)n, (long long)c,
            convkit::isa_name(isa), threads);
    }
  });
}

void check_nll(int64_t n, int64_t c, bool per_item, std::mt19937& rng) {
  auto x = test::random_vector(size_t(n * c), rng, -5.f, 0.f);
  std::vector<int32_t> labels(static_cast<size_t>(n));
  for (auto& v : labels) v = int32_t(rng() % uint32_t(c));
  auto dy = upstream(n, per_item, rng);
  const float scale = per_item ? 1.f : 1.f / float(n);
  std::vector<float> lr(static_cast<size_t>(n)), dr(static_cast<size_t>(n * c), 0.f);
  double sum = 0;
  for (int64_t i = 0; i < n; ++i) {
    lr[size_t(i)] = -x[size_t(i * c + labels[size_t(i)])];
    sum += lr[size_t(i)];
    dr[size_t(i * c + labels[size_t(i)])] = -(dy[per_item ? size_t(i) : 0] * scale);
  }
  for (int threads : {1, 2, 4}) {
    convkit::set_num_threads(threads);
    std::vector<float> l(size_t(n), NAN), d(size_t(n * c), NAN);
    double got = convkit::nll_loss_forward(x.data(), labels.data(), n, c, l.data());
    CHECK(std::fabs(got - sum) <= 1e-6 * (1 + std::fabs(sum)), "nll sum n%lld c%lld: %g vs %g", (long long)n,
          (long long)c, got, sum);
    CHECK(l == lr, "nll losses n%lld c%lld", (long long)n, (long long)c);
    convkit::nll_loss_backward(labels.data(), n, c, dy.data(), int64_t(dy.size()), scale, d.data());
    CHECK(d == dr, "nll dlogprobs n%lld c%lld [%d]", (long long)n, (long long)c, threads);
  }
}

void check_mse(int64_t count, bool per_item, std::mt19937& rng) {
  auto x = test::random_vector(size_t(count), rng, -3.f, 3.f);
  auto t = test::random_vector(size_t(count), rng, -3.f, 3.f);
  auto dy = upstream(count, per_item, rng);
  const float scale = per_item ? 1.f : 1.f / float(count);
  std::vector<float> lr(static_cast<size_t>(count)), dr(static_cast<size_t>(count)), tr(static_cast<size_t>(count));
  double sum = 0;
  for (int64_t i = 0; i < count; ++i) {
    double d = double(x[size_t(i)]) - double(t[size_t(i)]);
    lr[size_t(i)] = float(d * d);
    sum += d * d;
    double g = 2 * d * double(dy[per_item ? size_t(i) : 0]) * scale;
    dr[size_t(i)] = float(g);
    tr[size_t(i)] = float(-g);
  }
  for (int threads : {1, 2, 4}) {
    convkit::set_num_threads(threads);
    std::vector<float> l(size_t(count), NAN), dx(size_t(count), NAN), dt(size_t(count), NAN);
    double got = convkit::mse_loss_forward(x.data(), t.data(), count, l.data());
    CHECK(std::fabs(got - sum) <= 1e-9 * (1 + std::fabs(sum)), "mse sum %lld: %g vs %g", (long long)count, got, sum);
    CHECK(test::all_close(l, lr, 0, 1e-7), "mse losses %lld", (long long)count);
    convkit::mse_loss_backward(x.data(), t.data(), count, dy.data(), int64_t(dy.size()), scale, dx.data(), dt.data());
    CHECK(test::all_close(dx, dr, 1e-9, 1e-6) && test::all_close(dt, tr, 1e-9, 1e-6), "mse grads %lld [%d]",
          (long long)count, threads);
    std::vector<float> only(size_t(count), NAN);
    convkit::mse_loss_backward(x.data(), t.data(), count, dy.data(), int64_t(dy.size()), scale, nullptr, only.data());
    CHECK(only == dt, "mse dtarget alone %lld", (long long)count);
  }
}

void check_bce(int64_t rows, int64_t c, float xscale, bool with_pw, bool per_item, std::mt19937& rng) {
  int64_t count = rows * c;
  auto x = test::random_vector(size_t(count), rng, -xscale, xscale);
  auto t = test::random_vector(size_t(count), rng, 0.f, 1.f);
  auto pw = test::random_vector(size_t(c), rng, 0.2f, 3.f);
  auto dy = upstream(count, per_item, rng);
  const float scale = per_item ? 1.f : 1.f / float(count);
  std::vector<float> lr(static_cast<size_t>(count)), dr(static_cast<size_t>(count)), tr(static_cast<size_t>(count));
  double sum = 0;
  for (int64_t i = 0; i < count; ++i) {
    double xi = x[size_t(i)], ti = t[size_t(i)], p = with_pw ? pw[size_t(i % c)] : 1.0;
    // the textbook form, written differently from the kernel: -w_pos t log s(x) - (1-t) log(1-s(x))
    // with log s(x) = -softplus(-x), log(1 - s(x)) = -softplus(x).
    auto softplus = [](double z) { return z > 0 ? z + std::log1p(std::exp(-z)) : std::log1p(std::exp(z)); };
    double l = p * ti * softplus(-xi) + (1 - ti) * softplus(xi);
    lr[size_t(i)] = float(l);
    sum += l;
    double s = 1 / (1 + std::exp(-xi));
    double g = double(dy[per_item ? size_t(i) : 0]) * scale;
    dr[size_t(i)] = float((-p * ti * (1 - s) + (1 - ti) * s) * g);
    tr[size_t(i)] = float((p * softplus(-xi) - softplus(xi)) * g);
  }
  for (int threads : {1, 2, 4}) {
    convkit::set_num_threads(threads);
    std::vector<float> l(size_t(count), NAN), dx(size_t(count), NAN), dt(size_t(count), NAN);
    const float* w = with_pw ? pw.data() : nullptr;
    double got = convkit::bce_with_logits_forward(x.data(), t.data(), count, w, c, l.data());
    CHECK(std::fabs(got - sum) <= 1e-6 * (1 + std::fabs(sum)), "bce sum %lld x%g pw%d: %g vs %g", (long long)count,
          xscale, int(with_pw), got, sum);
    CHECK(test::all_close(l, lr, 1e-6, 1e-5), "bce losses %lld x%g pw%d", (long long)count, xscale, int(with_pw));
    convkit::bce_with_logits_backward(x.data(), t.data(), count, w, c, dy.data(), int64_t(dy.size()), scale, dx.data(),
                                      dt.data());
    CHECK(test::all_close(dx, dr, 1e-7, 1e-4), "bce dlogits %lld x%g pw%d [%d]", (long long)count, xscale,
          int(with_pw), threads);
    CHECK(test::all_close(dt, tr, 1e-6, 1e-4), "bce dtarget %lld x%g pw%d [%d]", (long long)count, xscale,
          int(with_pw), threads);
  }
}

void new_losses_edge_cases() {
  // Labels checked in nll, both directions.
  std::vector<float> x(6, -1.f), d(6), dy = {1.f};
  std::vector<int32_t> bad = {0, 3};
  try {
    convkit::nll_loss_forward(x.data(), bad.data(), 2, 3, nullptr);
    CHECK(false, "nll: label 3 with 3 classes accepted");
  } catch (const convkit::Error& e) {
    CHECK(e.kind == convkit::ErrorKind::range, "kind");
    CHECK(std::string(e.what()).find("labels[1] = 3") != std::string::npos, "message: %s", e.what());
  }
  bad = {-2, 0};
  try {
    convkit::nll_loss_backward(bad.data(), 2, 3, dy.data(), 1, 1.f, d.data());
    CHECK(false, "nll backward: label -2 accepted");
  } catch (const convkit::Error& e) {
    CHECK(std::string(e.what()).find("labels[0] = -2") != std::string::npos, "message: %s", e.what());
  }
  // dy of the wrong length, pos_weight that does not divide the count.
  try {
    convkit::mse_loss_backward(x.data(), x.data(), 6, dy.data(), 2, 1.f, d.data(), nullptr);
    CHECK(false, "mse: dy of 2 for 6 items accepted");
  } catch (const convkit::Error& e) {
    CHECK(std::string(e.what()).find("dy has 2") != std::string::npos, "message: %s", e.what());
  }
  try {
    convkit::bce_with_logits_forward(x.data(), x.data(), 6, dy.data(), 4, nullptr);
    CHECK(false, "bce: pos_weight of 4 for 6 items accepted");
  } catch (const convkit::Error& e) {
    CHECK(std::string(e.what()).find("pos_weight has 4") != std::string::npos, "message: %s", e.what());
  }
  // Huge logits: finite and exact soft cross-entropy and BCE.
  std::vector<float> big = {1e4f, -1e4f, 0.f, -3e4f, 3e4f, 0.f}, tgt = {0.f, 1.f, 0.f, 0.5f, 0.5f, 0.f}, p(6), l(2);
  double s = convkit::cross_entropy_soft_forward(big.data(), tgt.data(), 2, 3, p.data(), l.data());
  CHECK(l[0] == 2e4f && l[1] == 3e4f && s == 5e4, "soft ce huge logits: %g %g %g", l[0], l[1], s);
  std::vector<float> bx = {1e4f, -1e4f, 1e4f, -1e4f}, bt = {1.f, 0.f, 0.f, 1.f}, bl(4), bd(4);
  convkit::bce_with_logits_forward(bx.data(), bt.data(), 4, nullptr, 0, bl.data());
  CHECK(bl[0] == 0.f && bl[1] == 0.f && bl[2] == 1e4f && bl[3] == 1e4f, "bce huge: %g %g %g %g", bl[0], bl[1], bl[2],
        bl[3]);
  convkit::bce_with_logits_backward(bx.data(), bt.data(), 4, nullptr, 0, dy.data(), 1, 1.f, bd.data(), nullptr);
  CHECK(bd[0] == 0.f && bd[1] == 0.f && bd[2] == 1.f && bd[3] == -1.f, "bce huge grads: %g %g %g %g", bd[0], bd[1],
        bd[2], bd[3]);
  // NaN propagates.
  std::vector<float> nx = {NAN, 0.f}, nt = {0.f, 1.f}, nl(2);
  CHECK(std::isnan(convkit::mse_loss_forward(nx.data(), nt.data(), 2, nl.data())) && std::isnan(nl[0]), "mse NaN");
  CHECK(std::isnan(convkit::bce_with_logits_forward(nx.data(), nt.data(), 2, nullptr, 0, nl.data())) &&
            std::isnan(nl[0]) && !std::isnan(nl[1]),
        "bce NaN");
  // Empty: a sum of nothing.
  CHECK(convkit::mse_loss_forward(nullptr, nullptr, 0, nullptr) == 0.0, "mse empty");
  CHECK(convkit::nll_loss_forward(nullptr, nullptr, 0, 3, nullptr) == 0.0, "nll empty");
}

}  // namespace

int main() {
  std::mt19937 rng(17);
  for (auto nc : {std::pair<int64_t, int64_t>{1, 1}, {1, 2}, {4, 10}, {64, 10}, {7, 33}, {300, 17}, {3, 1000}, {2048, 10}})
    for (float scale : {1.f, 30.f, 1e4f}) check_case(nc.first, nc.second, scale, rng);
  labels_checked();
  for (auto nc : {std::pair<int64_t, int64_t>{1, 1}, {1, 5}, {4, 10}, {7, 33}, {300, 17}, {3, 1000}, {5000, 10}})
    for (float xs : {1.f, 30.f})
      for (bool per_item : {false, true}) {
        check_soft_ce(nc.first, nc.second, xs, per_item, rng);
        check_nll(nc.first, nc.second, per_item, rng);
        check_bce(nc.first, nc.second, xs, nc.first % 2 == 1, per_item, rng);
      }
  for (int64_t count : {int64_t(0), int64_t(1), int64_t(7), int64_t(1000), int64_t(100003)})
    for (bool per_item : {false, true}) check_mse(count, per_item, rng);
  new_losses_edge_cases();
  convkit::set_num_threads(convkit::hardware_threads());
  return test::finish("test_loss");
}
