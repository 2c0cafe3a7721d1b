// The CPU optimizer updates (SGD, Adam/AdamW/AMSGrad, RMSprop) on every ISA and with 1 and 2
// threads, against the double references of optim_ref.h over several steps in a row: odd
// sizes (vector tails), a size split over threads, a misaligned start, NaN gradients, and
// the argument errors.
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "convkit/error.h"
#include "convkit/optim.h"
#include "convkit/threads.h"
#include "optim_ref.h"
#include "test_util.h"

namespace {

using Vec = std::vector<float>;

// 100003 is split over two threads (the grain is 32768 elements).
const int64_t kSizes[] = {1, 3, 17, 1023, 100003};

// The case's gradient: random, with NaN at a few positions when asked.
Vec gradient(size_t n, std::mt19937& rng, bool with_nan) {
  Vec g = test::random_vector(n, rng);
  if (with_nan) for (size_t i = 0; i < n; i += 13) g[i] = NAN;
  return g;
}

// A copy placed one float past a 64-byte boundary, so no vector load is aligned.
struct Misaligned {
  Vec storage;
  float* data;
  Misaligned(const Vec& v, bool shift) : storage(v.size() + 16) {
    data = storage.data() + (shift ? 1 : 0);
    std::copy(v.begin(), v.end(), data);
  }
  Vec get(size_t n) const { return Vec(data, data + n); }
};

std::string label(const char* op, const char* cfg, int64_t n, int step, bool nan, bool shift) {
  return std::string(op) + " " + cfg + " n=" + std::to_string(n) + " step " + std::to_string(step) +
         (nan ? " with NaN" : "") + (shift ? " misaligned" : "") + " [" + convkit::isa_name(convkit::active_isa()) +
         ", " + std::to_string(convkit::num_threads()) + " threads]";
}

void sgd_cases(std::mt19937& rng, bool nan, bool shift) {
  for (const auto& cfg : test::kSgdConfigs) {
    for (int64_t n : kSizes) {
      const size_t un = size_t(n);
      Vec p = test::random_vector(un, rng), buf(un, 0.f);
      Misaligned cp(p, shift), cbuf(buf, shift);
      for (int step = 1; step <= test::kOptimSteps; ++step) {
        convkit::SgdStep o{0.05f, cfg.momentum, cfg.dampening, cfg.weight_decay, cfg.nesterov, step == 1};
        const Vec grad = gradient(un, rng, nan);
        test::sgd_ref(o, p, grad, buf);
        convkit::sgd_step(o, cp.data, grad.data(), cfg.momentum != 0 ? cbuf.data : nullptr, n);
        const std::string what = label("sgd", cfg.name, n, step, nan, shift);
        test::expect_same(what + " param", cp.get(un), p, 1e-6, 1e-5);
        if (cfg.momentum != 0) test::expect_same(what + " buffer", cbuf.get(un), buf, 1e-6, 1e-5);
      }
    }
  }
}

void adam_cases(std::mt19937& rng, bool nan, bool shift) {
  for (const auto& cfg : test::kAdamConfigs) {
    for (int64_t n : kSizes) {
      const size_t un = size_t(n);
      Vec p = test::random_vector(un, rng), m(un, 0.f), v(un, 0.f), vmax(un, 0.f);
      Misaligned cp(p, shift), cm(m, shift), cv(v, shift), cvmax(vmax, shift);
      for (int step = 1; step <= test::kOptimSteps; ++step) {
        convkit::AdamStep o{1e-2f, 0.9f, 0.999f, 1e-8f, cfg.weight_decay, cfg.decoupled, step};
        const Vec grad = gradient(un, rng, nan);
        test::adam_ref(o, p, grad, m, v, cfg.amsgrad ? &vmax : nullptr);
        convkit::adam_step(o, cp.data, grad.data(), cm.data, cv.data, cfg.amsgrad ? cvmax.data : nullptr, n);
        const std::string what = label("adam", cfg.name, n, step, nan, shift);
        test::expect_same(what + " param", cp.get(un), p, 1e-6, 1e-5);
        test::expect_same(what + " exp_avg", cm.get(un), m, 1e-7, 1e-5);
        test::expect_same(what + " exp_avg_sq", cv.get(un), v, 1e-9, 1e-5);
        if (cfg.amsgrad) test::expect_same(what + " max_exp_avg_sq", cvmax.get(un), vmax, 1e-9, 1e-5);
      }
    }
  }
}

void rmsprop_cases(std::mt19937& rng, bool nan, bool shift) {
  for (const auto& cfg : test::kRmspropConfigs) {
    for (int64_t n : kSizes) {
      const size_t un = size_t(n);
      Vec p = test::random_vector(un, rng), sq(un, 0.f), buf(un, 0.f), avg(un, 0.f);
      Misaligned cp(p, shift), csq(sq, shift), cbuf(buf, shift), cavg(avg, shift);
      for (int step = 1; step <= test::kOptimSteps; ++step) {
        convkit::RmspropStep o{1e-2f, 0.99f, 1e-8f, cfg.weight_decay, cfg.momentum};
        const Vec grad = gradient(un, rng, nan);
        test::rmsprop_ref(o, p, grad, sq, buf, cfg.centered ? &avg : nullptr);
        convkit::rmsprop_step(o, cp.data, grad.data(), csq.data, cfg.momentum > 0 ? cbuf.data : nullptr,
                              cfg.centered ? cavg.data : nullptr, n);
        const std::string what = label("rmsprop", cfg.name, n, step, nan, shift);
        test::expect_same(what + " param", cp.get(un), p, 1e-5, 1e-5);
        test::expect_same(what + " square_avg", csq.get(un), sq, 1e-9, 1e-5);
        if (cfg.momentum > 0) test::expect_same(what + " momentum_buf", cbuf.get(un), buf, 1e-4, 1e-4);
        if (cfg.centered) test::expect_same(what + " grad_avg", cavg.get(un), avg, 1e-7, 1e-5);
      }
    }
  }
}

template <class F>
void expect_error(const char* what, convkit::ErrorKind kind, F&& fn) {
  try {
    fn();
    CHECK(false, "%s: no error", what);
  } catch (const convkit::Error& e) {
    CHECK(e.kind == kind, "%s: wrong error kind (%s)", what, e.what());
  }
}

void errors() {
  float x = 0;
  expect_error("adam step 0", convkit::ErrorKind::range, [&] {
    convkit::adam_step(convkit::AdamStep{1e-3f, 0.9f, 0.999f, 1e-8f, 0, false, 0}, &x, &x, &x, &x, nullptr, 1);
  });
  expect_error("sgd momentum without a buffer", convkit::ErrorKind::type, [&] {
    convkit::sgd_step(convkit::SgdStep{0.1f, 0.9f, 0, 0, false, true}, &x, &x, nullptr, 1);
  });
  expect_error("rmsprop momentum without a buffer", convkit::ErrorKind::type, [&] {
    convkit::rmsprop_step(convkit::RmspropStep{0.1f, 0.99f, 1e-8f, 0, 0.9f}, &x, &x, &x, nullptr, nullptr, 1);
  });
  expect_error("adam null exp_avg", convkit::ErrorKind::type, [&] {
    convkit::adam_step(convkit::AdamStep{1e-3f, 0.9f, 0.999f, 1e-8f, 0, false, 1}, &x, &x, nullptr, &x, nullptr, 1);
  });
  expect_error("sgd null grad", convkit::ErrorKind::type, [&] {
    convkit::sgd_step(convkit::SgdStep{0.1f, 0, 0, 0, false, true}, &x, nullptr, nullptr, 1);
  });
  expect_error("sgd negative n", convkit::ErrorKind::range, [&] {
    convkit::sgd_step(convkit::SgdStep{0.1f, 0, 0, 0, false, true}, &x, &x, nullptr, -1);
  });
  // Empty parameters do nothing, whatever the pointers.
  convkit::sgd_step(convkit::SgdStep{0.1f, 0.9f, 0, 0, false, true}, nullptr, nullptr, nullptr, 0);
  convkit::rmsprop_step(convkit::RmspropStep{0.1f, 0.99f, 1e-8f, 0, 0.9f}, nullptr, nullptr, nullptr, nullptr,
                        nullptr, 0);
  // With momentum 0 an SGD buffer is ignored, as on the other backends.
  float p = 1, g = 2, buf = 7;
  convkit::sgd_step(convkit::SgdStep{0.5f, 0, 0, 0, false, false}, &p, &g, &buf, 1);
  CHECK(p == 0.f && buf == 7.f, "sgd without momentum: p %g (want 0), buf %g (want 7, untouched)", p, buf);
}

}  // namespace

int main() {
  std::mt19937 rng(4242);
  const int threads = convkit::num_threads();
  test::for_each_isa([&](convkit::Isa) {
    for (int t : {1, 2}) {
      convkit::set_num_threads(t);
      for (bool nan : {false, true}) {
        for (bool shift : {false, true}) {
          sgd_cases(rng, nan, shift);
          adam_cases(rng, nan, shift);
          rmsprop_cases(rng, nan, shift);
        }
      }
    }
  });
  convkit::set_num_threads(threads);
  errors();
  return test::finish("test_optim");
}
