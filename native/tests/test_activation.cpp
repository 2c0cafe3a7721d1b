// Activations and softmax against double-precision loops, with special values (NaN, +-inf,
// huge logits), lengths that exercise every vector tail, every ISA forced, 1 and 2 threads.
#include <cfloat>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "convkit/activation.h"
#include "convkit/threads.h"
#include "test_util.h"

namespace {

using Vec = std::vector<float>;

bool same_nan(float a, float b) { return std::isnan(a) && std::isnan(b); }

// |got - want| <= atol + rtol*|want|, NaN must match NaN, infinities must match exactly.
int count_bad(const Vec& got, const std::vector<double>& want, double atol, double rtol) {
  int bad = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    double g = got[i], w = want[i];
    if (std::isnan(w) || std::isnan(g)) {
      bad += !(std::isnan(w) && std::isnan(g));
    } else if (std::isinf(w) || std::isinf(g)) {
      bad += g != w;
    } else {
      bad += !(std::fabs(g - w) <= atol + rtol * std::fabs(w));
    }
  }
  return bad;
}

Vec inputs(size_t n, std::mt19937& rng, float scale) {
  Vec x = test::random_vector(n, rng, -scale, scale);
  const float special[] = {NAN, INFINITY, -INFINITY, 0.f, -0.f, 88.f, -88.f, 89.f, -104.f, 1e-8f, -1e-8f, 0.62f, -0.63f, 20.f};
  for (size_t i = 0; i < n && i < sizeof special / sizeof *special; ++i) x[(i * 7) % n] = special[i];
  return x;
}

void elementwise() {
  std::mt19937 rng(5);
  for (size_t n : {size_t(0), size_t(1), size_t(7), size_t(15), size_t(17), size_t(100), size_t(1000), size_t(70001)}) {
    for (float scale : {3.f, 30.f, 100.f}) {
      Vec x = inputs(std::max<size_t>(n, 1), rng, scale);
      x.resize(n);
      Vec dy = test::random_vector(n, rng);
      Vec ysig(n), ytanh(n);
      std::vector<double> r_relu(n), r_drelu(n), r_leaky(n), r_dleaky(n), r_sig(n), r_dsig(n), r_tanh(n), r_dtanh(n);
      const float slope = 0.1f;
      for (size_t i = 0; i < n; ++i) {
        double v = x[i];
        r_relu[i] = std::isnan(v) ? v : (v > 0 ? v : 0.0);
        r_drelu[i] = v <= 0 ? 0.0 : dy[i];  // PyTorch: NaN passes dy
        r_leaky[i] = v > 0 ? v : double(slope) * v;
        r_dleaky[i] = v > 0 ? double(dy[i]) : double(slope) * dy[i];
        r_sig[i] = 1.0 / (1.0 + std::exp(-v));
        r_tanh[i] = std::tanh(v);
      }
      test::for_each_isa([&](convkit::Isa isa) {
        for (int threads : {1, 2}) {
          convkit::set_num_threads(threads);
          Vec y(n, 7.f), d(n, 7.f);
          const char* nm = convkit::isa_name(isa);
          convkit::relu_forward(x.data(), y.data(), int64_t(n));
          CHECK(count_bad(y, r_relu, 0, 0) == 0, "relu n=%zu [%s %d]", n, nm, threads);
          convkit::relu_backward(x.data(), dy.data(), d.data(), int64_t(n));
          CHECK(count_bad(d, r_drelu, 0, 0) == 0, "relu bwd n=%zu [%s %d]", n, nm, threads);
          convkit::leaky_relu_forward(x.data(), y.data(), int64_t(n), slope);
          CHECK(count_bad(y, r_leaky, 1e-30, 1e-6) == 0, "leaky n=%zu [%s %d]", n, nm, threads);
          convkit::leaky_relu_backward(x.data(), dy.data(), d.data(), int64_t(n), slope);
          CHECK(count_bad(d, r_dleaky, 1e-30, 1e-6) == 0, "leaky bwd n=%zu [%s %d]", n, nm, threads);
          convkit::sigmoid_forward(x.data(), ysig.data(), int64_t(n));
          CHECK(count_bad(ysig, r_sig, 1e-37, 2e-6) == 0, "sigmoid n=%zu scale %g [%s %d]: %d bad", n, scale, nm,
                threads, count_bad(ysig, r_sig, 1e-37, 2e-6));
          convkit::tanh_forward(x.data(), ytanh.data(), int64_t(n));
          CHECK(count_bad(ytanh, r_tanh, 1e-37, 2e-6) == 0, "tanh n=%zu scale %g [%s %d]: %d bad", n, scale, nm,
                threads, count_bad(ytanh, r_tanh, 1e-37, 2e-6));
          for (size_t i = 0; i < n; ++i) {
            r_dsig[i] = double(dy[i]) * ysig[i] * (1.0 - ysig[i]);
            r_dtanh[i] = double(dy[i]) * (1.0 - double(ytanh[i]) * ytanh[i]);
          }
          convkit::sigmoid_backward(ysig.data(), dy.data(), d.data(), int64_t(n));
          CHECK(count_bad(d, r_dsig, 1e-7, 1e-5) == 0, "sigmoid bwd n=%zu [%s %d]", n, nm, threads);
          convkit::tanh_backward(ytanh.data(), dy.data(), d.data(), int64_t(n));
          CHECK(count_bad(d, r_dtanh, 1e-7, 1e-5) == 0, "tanh bwd n=%zu [%s %d]", n, nm, threads);
        }
      });
    }
  }
  // exp accuracy through sigmoid over a dense sweep (relative error of 1/(1+e^-x) tracks e^-x).
  Vec x(200001);
  for (size_t i = 0; i < x.size(); ++i) x[i] = -100.f + 200.f * float(i) / float(x.size() - 1);
  std::vector<double> ref(x.size());
  for (size_t i = 0; i < x.size(); ++i) ref[i] = 1.0 / (1.0 + std::exp(-double(x[i])));
  test::for_each_isa([&](convkit::Isa isa) {
    Vec y(x.size());
    convkit::sigmoid_forward(x.data(), y.data(), int64_t(x.size()));
    // atol FLT_MIN: parallel regions flush subnormal results to zero (convkit/denormals.h).
    CHECK(count_bad(y, ref, FLT_MIN, 1e-6) == 0, "sigmoid sweep [%s]: %d bad", convkit::isa_name(isa),
          count_bad(y, ref, FLT_MIN, 1e-6));
  });
}

template <bool kLog>
void softmax_case(int64_t outer, int64_t dim, int64_t inner, float scale, std::mt19937& rng) {
  const size_t n = size_t(outer * dim * inner);
  Vec x = test::random_vector(n, rng, -scale, scale), dy = test::random_vector(n, rng);
  std::vector<double> ry(n), rdx(n);
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) {
      auto at = [&](int64_t d) { return size_t((o * dim + d) * inner + i); };
      double m = -INFINITY;
      for (int64_t d = 0; d < dim; ++d) m = std::max(m, double(x[at(d)]));
      double s = 0;
      for (int64_t d = 0; d < dim; ++d) s += std::exp(x[at(d)] - m);
      for (int64_t d = 0; d < dim; ++d)
        ry[at(d)] = kLog ? x[at(d)] - m - std::log(s) : std::exp(x[at(d)] - m) / s;
    }
  test::for_each_isa([&](convkit::Isa isa) {
    for (int threads : {1, 2}) {
      convkit::set_num_threads(threads);
      Vec y(n, NAN), dx(n, NAN);
      if (kLog) convkit::log_softmax_forward(x.data(), y.data(), outer, dim, inner);
      else convkit::softmax_forward(x.data(), y.data(), outer, dim, inner);
      const double atol = kLog ? 1e-5 * (1 + scale * 1e-3) : 1e-7;
      CHECK(count_bad(y, ry, atol, kLog ? 1e-5 : 2e-5) == 0, "%s fwd [%lld,%lld,%lld] scale %g [%s %d]: %d bad",
            kLog ? "log_softmax" : "softmax", (long long)outer, (long long)dim, (long long)inner, scale,
            convkit::isa_name(isa), threads, count_bad(y, ry, atol, kLog ? 1e-5 : 2e-5));
      // backward from this implementation's own y
      for (int64_t o = 0; o < outer; ++o)
        for (int64_t i = 0; i < inner; ++i) {
          auto at = [&](int64_t d) { return size_t((o * dim + d) * inner + i); };
          double s = 0;
          for (int64_t d = 0; d < dim; ++d) s += kLog ? double(dy[at(d)]) : double(dy[at(d)]) * y[at(d)];
          for (int64_t d = 0; d < dim; ++d)
            rdx[at(d)] = kLog ? dy[at(d)] - std::exp(double(y[at(d)])) * s : y[at(d)] * (dy[at(d)] - s);
        }
      if (kLog) convkit::log_softmax_backward(y.data(), dy.data(), dx.data(), outer, dim, inner);
      else convkit::softmax_backward(y.data(), dy.data(), dx.data(), outer, dim, inner);
      CHECK(count_bad(dx, rdx, 1e-5, 1e-4) == 0, "%s bwd [%lld,%lld,%lld] [%s %d]", kLog ? "log_softmax" : "softmax",
            (long long)outer, (long long)dim, (long long)inner, convkit::isa_name(isa), threads);
    }
  });
}

void softmax() {
  std::mt19937 rng(11);
  const int64_t shapes[][3] = {{1, 1, 1},  {3, 10, 1},  {5, 17, 1},   {2, 1000, 1}, {300, 33, 1},
                               {2, 3, 5},  {4, 7, 19},  {2, 10, 1100}, {1, 2, 3000}, {64, 10, 1}};
  for (auto& s : shapes)
    for (float scale : {1.f, 50.f, 1e4f}) {
      softmax_case<false>(s[0], s[1], s[2], scale, rng);
      softmax_case<true>(s[0], s[1], s[2], scale, rng);
    }
  // Stability: logits of 1e4 and -1e4 must not overflow; a NaN row gives NaN.
  test::for_each_isa([&](convkit::Isa isa) {
    Vec x = {1e4f, -1e4f, 1e4f - 1.f, 0.f}, y(4), ly(4);
    convkit::softmax_forward(x.data(), y.data(), 1, 4, 1);
    convkit::log_softmax_forward(x.data(), ly.data(), 1, 4, 1);
    double e1 = std::exp(-1.0), s = 1 + e1;
    CHECK(std::fabs(y[0] - 1 / s) < 1e-6 && y[1] == 0.f && std::fabs(y[2] - e1 / s) < 1e-6 && y[3] == 0.f,
          "softmax huge logits [%s]: %g %g %g %g", convkit::isa_name(isa), y[0], y[1], y[2], y[3]);
    CHECK(std::fabs(ly[0] + std::log(s)) < 1e-5 && std::fabs(ly[1] - (-2e4 - std::log(s))) < 1e-1 && std::isfinite(ly[1]),
          "log_softmax huge logits [%s]: %g %g", convkit::isa_name(isa), ly[0], ly[1]);
    Vec xn = {1.f, NAN, 2.f}, yn(3);
    convkit::softmax_forward(xn.data(), yn.data(), 1, 3, 1);
    CHECK(std::isnan(yn[0]) && std::isnan(yn[1]) && std::isnan(yn[2]), "softmax NaN row [%s]", convkit::isa_name(isa));
  });
}

void bench() {
  const int64_t n = int64_t(64) * 64 * 56 * 56;
  std::mt19937 rng(1);
  Vec x = test::random_vector(size_t(n), rng, -5, 5), y(static_cast<size_t>(n)), d(static_cast<size_t>(n));
  auto time = [](auto&& fn) { return test::best_seconds(fn, 5); };
  for (int threads : {1, 2}) {
    convkit::set_num_threads(threads);
    double tr = time([&] { convkit::relu_forward(x.data(), y.data(), n); });
    double ts = time([&] { convkit::sigmoid_forward(x.data(), y.data(), n); });
    double tt = time([&] { convkit::tanh_forward(x.data(), y.data(), n); });
    double tsm = time([&] { convkit::softmax_forward(x.data(), y.data(), n / 1000, 1000, 1); });
    std::printf("[bench] %d thr, %lld floats: relu %.2f ms (%.1f GB/s), sigmoid %.2f ms (%.2f Gelem/s), tanh %.2f ms "
                "(%.2f Gelem/s), softmax rows of 1000 %.2f ms (%.2f Gelem/s)\n",
                threads, (long long)n, tr * 1e3, 8.0 * n / tr * 1e-9, ts * 1e3, n / ts * 1e-9, tt * 1e3,
                n / tt * 1e-9, tsm * 1e3, n / tsm * 1e-9);
  }
}

}  // namespace

int main() {
  elementwise();
  softmax();
  if (const char* e = std::getenv("CONVKIT_BENCH"); e && *e == '1') bench();
  convkit::set_num_threads(convkit::hardware_threads());
  return test::finish("test_activation");
}
