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

}  // namespace

int main() {
  std::mt19937 rng(17);
  for (auto nc : {std::pair<int64_t, int64_t>{1, 1}, {1, 2}, {4, 10}, {64, 10}, {7, 33}, {300, 17}, {3, 1000}, {2048, 10}})
    for (float scale : {1.f, 30.f, 1e4f}) check_case(nc.first, nc.second, scale, rng);
  labels_checked();
  convkit::set_num_threads(convkit::hardware_threads());
  return test::finish("test_loss");
}
