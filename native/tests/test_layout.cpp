// strided_copy and argmax against naive loops (the meaning of lib/backend/js/layout.ts): every
// ISA forced, 1 and 2 threads, random plans of rank 1 to 6 (permutations, negative strides,
// strided destinations), each fast path (contiguous runs, 2-D transposes with edges around
// the 8x8 blocks and 32x32 tiles, a channel shuffle, NCHW <-> NHWC) at sizes that take the
// threaded split, guards around every output, argmax with ties, NaN and infinities, and the
// argument errors. CONVKIT_BENCH=1 also times the fast paths beside a plain memcpy of the
// same bytes (the bound for a copy) and the naive loop.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "convkit/error.h"
#include "convkit/layout.h"
#include "convkit/threads.h"
#include "test_util.h"

namespace {

using Vec = std::vector<float>;
using Dims = std::vector<int64_t>;
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr float kGuard = 12345.f;

Dims contiguous(const Dims& shape) {
  Dims s(shape.size());
  int64_t v = 1;
  for (size_t k = shape.size(); k-- > 0;) {
    s[k] = v;
    v *= shape[k];
  }
  return s;
}

int64_t numel(const Dims& shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

// The naive copy: an odometer over every index.
void reference_copy(const convkit::StridedCopyShape& s, const Vec& src, Vec& dst) {
  if (numel(s.shape) == 0) return;
  Dims idx(s.shape.size(), 0);
  for (;;) {
    int64_t a = s.src_offset, b = s.dst_offset;
    for (size_t k = 0; k < idx.size(); ++k) {
      a += idx[k] * s.src_strides[k];
      b += idx[k] * s.dst_strides[k];
    }
    dst[size_t(b)] = src[size_t(a)];
    size_t k = idx.size();
    while (k-- > 0) {
      if (++idx[k] < s.shape[k]) break;
      idx[k] = 0;
    }
    if (k == size_t(-1)) return;
  }
}

// Copies with the kernel into a guarded destination of dst_length and compares bit for bit.
void check_copy(const std::string& what, const convkit::StridedCopyShape& s, int64_t src_length, int64_t dst_length,
                std::mt19937& rng) {
  Vec src = test::random_vector(size_t(src_length), rng);
  if (src_length > 2) src[1] = kNaN;
  Vec want(size_t(dst_length) + 7, kGuard);
  Vec got = want;
  reference_copy(s, src, want);
  convkit::strided_copy(s, src.data(), src_length, got.data(), dst_length);
  bool same = std::memcmp(got.data(), want.data(), got.size() * sizeof(float)) == 0;
  CHECK(same, "%s: rank %zu, %lld elements: copy differs from the naive loop", what.c_str(), s.shape.size(),
        (long long)numel(s.shape));
}

// x of shape permuted by perm into a contiguous output.
convkit::StridedCopyShape permutation(const Dims& shape, const std::vector<int>& perm) {
  const Dims xs = contiguous(shape);
  convkit::StridedCopyShape s;
  for (int p : perm) {
    s.shape.push_back(shape[size_t(p)]);
    s.src_strides.push_back(xs[size_t(p)]);
  }
  s.dst_strides = contiguous(s.shape);
  return s;
}

void test_random_plans(std::mt19937& rng) {
  for (int trial = 0; trial < 300; ++trial) {
    const int rank = 1 + int(rng() % 6);
    Dims shape(static_cast<size_t>(rank));
    for (auto& d : shape) d = 1 + int64_t(rng() % 7);
    std::vector<int> perm(static_cast<size_t>(rank));
    std::iota(perm.begin(), perm.end(), 0);
    std::shuffle(perm.begin(), perm.end(), rng);
    convkit::StridedCopyShape s = permutation(shape, perm);
    // A negative step on one dim, as a reversed slice: start at its last element.
    const size_t flip = size_t(rng() % size_t(rank));
    if (trial % 3 == 0) {
      s.src_offset += (s.shape[flip] - 1) * s.src_strides[flip];
      s.src_strides[flip] = -s.src_strides[flip];
    }
    // Half the time, write into a region of a larger destination (a concat's piece, a slice's
    // backward): every dst stride scaled, an offset.
    int64_t dst_length = numel(s.shape);
    if (trial % 2 == 1) {
      Dims big = s.shape;
      big[flip] += 3;
      s.dst_strides = contiguous(big);
      s.dst_offset = 2 * s.dst_strides[flip];
      dst_length = numel(big) + 2 * s.dst_strides[flip];
    }
    check_copy("random plan " + std::to_string(trial), s, numel(shape), dst_length, rng);
  }
}

void test_fast_paths(std::mt19937& rng) {
  // Contiguous runs: a plain copy past the threaded grain, and rows of a concat.
  {
    convkit::StridedCopyShape s{{(1 << 20) + 3}, {1}, {1}, 0, 0};
    check_copy("plain copy", s, (1 << 20) + 3, (1 << 20) + 3, rng);
    convkit::StridedCopyShape rows{{300, 129}, {129, 1}, {200, 1}, 0, 71};
    check_copy("rows into a wider buffer", rows, 300 * 129, 300 * 200 + 71, rng);
  }
  // 2-D transposes around the 8x8 blocks and 32x32 tiles, one or many planes.
  for (int64_t rows : {1, 7, 8, 9, 31, 32, 33, 70}) {
    for (int64_t cols : {1, 3, 8, 17, 64, 65}) {
      check_copy("transpose " + std::to_string(rows) + "x" + std::to_string(cols), permutation({cols, rows}, {1, 0}),
                 rows * cols, rows * cols, rng);
      check_copy("batched transpose", permutation({3, cols, rows}, {0, 2, 1}), 3 * rows * cols, 3 * rows * cols, rng);
    }
  }
  // The channel shuffle [N, g, C/g, H, W] -> [N, C/g, g, H, W], NCHW -> NHWC and back, large.
  check_copy("channel shuffle", permutation({8, 4, 29, 17, 19}, {0, 2, 1, 3, 4}), 8 * 4 * 29 * 17 * 19,
             8 * 4 * 29 * 17 * 19, rng);
  check_copy("NCHW to NHWC", permutation({16, 37, 23, 29}, {0, 2, 3, 1}), 16 * 37 * 23 * 29, 16 * 37 * 23 * 29, rng);
  check_copy("NHWC to NCHW", permutation({16, 23, 29, 37}, {0, 3, 1, 2}), 16 * 37 * 23 * 29, 16 * 37 * 23 * 29, rng);
  check_copy("one large plane", permutation({1000, 517}, {1, 0}), 1000 * 517, 1000 * 517, rng);
  // A long strided line: every other element, backwards.
  convkit::StridedCopyShape line{{250000}, {-2}, {1}, 499999, 0};
  check_copy("strided line", line, 500000, 250000, rng);
}

void test_copy_errors() {
  float a[8] = {}, b[8] = {};
  auto rejects = [&](const char* what, const convkit::StridedCopyShape& s, const float* src, float* dst) {
    bool threw = false;
    try {
      convkit::strided_copy(s, src, 8, dst, 8);
    } catch (const convkit::Error& e) {
      threw = e.kind == convkit::ErrorKind::range;
    }
    CHECK(threw, "%s: expected a range error", what);
  };
  rejects("reads past the end", {{3}, {4}, {1}, 0, 0}, a, b);
  rejects("reads before the start", {{2}, {-1}, {1}, 0, 0}, a, b);
  rejects("writes past the end", {{4}, {1}, {3}, 0, 0}, a, b);
  rejects("negative size", {{-1}, {1}, {1}, 0, 0}, a, b);
  rejects("strides of another rank", {{2, 2}, {1}, {1, 2}, 0, 0}, a, b);
  rejects("overlapping arrays", {{4}, {1}, {1}, 0, 0}, a, a + 2);
  rejects("overflowing strides", {{1 << 20, 1 << 20}, {int64_t(1) << 40, int64_t(1) << 40}, {1, 1}, 0, 0}, a, b);
  convkit::strided_copy({{0, 5}, {1, 1000}, {1, 1000}, 99, 99}, a, 8, b, 8);  // empty: touches nothing
}

// The naive argmax (lib/backend/js/layout.ts).
std::vector<int32_t> reference_argmax(const Vec& x, int64_t outer, int64_t dim, int64_t inner) {
  std::vector<int32_t> out(size_t(outer * inner));
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) {
      const float* p = x.data() + o * dim * inner + i;
      float best = p[0];
      int32_t at = 0;
      for (int64_t d = 1; d < dim && !std::isnan(best); ++d)
        if (p[d * inner] > best || std::isnan(p[d * inner])) {
          best = p[d * inner];
          at = int32_t(d);
        }
      out[size_t(o * inner + i)] = at;
    }
  return out;
}

void check_argmax(const std::string& what, const Vec& x, int64_t outer, int64_t dim, int64_t inner) {
  std::vector<int32_t> got(size_t(outer * inner) + 5, -7);
  convkit::argmax(x.data(), outer, dim, inner, got.data());
  const std::vector<int32_t> want = reference_argmax(x, outer, dim, inner);
  for (size_t k = 0; k < want.size(); ++k)
    if (got[k] != want[k]) {
      CHECK(false, "%s [%lld, %lld, %lld]: index %zu is %d, want %d", what.c_str(), (long long)outer, (long long)dim,
            (long long)inner, k, got[k], want[k]);
      return;
    }
  for (size_t k = want.size(); k < got.size(); ++k) CHECK(got[k] == -7, "%s: wrote past the output", what.c_str());
}

// Values drawn from a few levels (many ties), with NaN and infinities in some cases.
Vec argmax_values(int64_t n, std::mt19937& rng, int kind) {
  Vec x(static_cast<size_t>(n));
  for (auto& v : x) v = float(int(rng() % 5)) - 2.f;
  if (kind == 1) for (auto& v : x) if (rng() % 9 == 0) v = kInf;
  if (kind == 2) for (auto& v : x) if (rng() % 13 == 0) v = kNaN;
  if (kind == 3) for (auto& v : x) v = -kInf;
  if (kind == 4) for (auto& v : x) v = test::random_vector(1, rng)[0];
  return x;
}

void test_argmax(std::mt19937& rng) {
  for (int64_t dim : {1, 2, 7, 8, 15, 16, 17, 31, 32, 33, 100, 1000}) {
    for (int64_t inner : {1, 3, 8, 16, 17, 63, 64, 65, 300}) {
      for (int kind = 0; kind < 5; ++kind) {
        const int64_t outer = 1 + int64_t(rng() % 3);
        check_argmax("argmax kind " + std::to_string(kind), argmax_values(outer * dim * inner, rng, kind), outer, dim, inner);
      }
    }
  }
  // A NaN late in a row, after a lane held a larger number; a tie between lanes.
  Vec row(100, 0.f);
  row[70] = 5.f;
  row[37] = 5.f;
  check_argmax("tie across lanes", row, 1, 100, 1);
  row[90] = kNaN;
  row[95] = kNaN;
  check_argmax("late NaN", row, 1, 100, 1);
  // Large enough for the threaded split, both layouts.
  check_argmax("many rows", argmax_values(4096 * 37, rng, 2), 4096, 37, 1);
  check_argmax("many columns", argmax_values(3 * 50 * 3000, rng, 4), 3, 50, 3000);

  bool threw = false;
  try {
    float x = 0;
    int32_t out = 0;
    convkit::argmax(&x, 1, 0, 1, &out);
  } catch (const convkit::Error& e) {
    threw = e.kind == convkit::ErrorKind::range;
  }
  CHECK(threw, "argmax over an empty dim must be a range error");
}

void bench() {
  std::mt19937 rng(1);
  auto time = [](auto&& fn) { return test::best_seconds(fn, 7); };
  const convkit::StridedCopyShape nhwc = permutation({8, 64, 56, 56}, {0, 2, 3, 1});
  const convkit::StridedCopyShape shuffle = permutation({8, 2, 116, 28, 28}, {0, 2, 1, 3, 4});
  const int64_t n = 8 * 64 * 56 * 56, ns = 8 * 2 * 116 * 28 * 28;
  const Vec x = test::random_vector(size_t(std::max(n, ns)), rng);
  Vec y(x.size());
  const Vec logits = test::random_vector(4096 * 1000, rng);
  std::vector<int32_t> idx(size_t(8 * 3136));
  for (convkit::Isa isa : {convkit::Isa::scalar, convkit::best_supported_isa()}) {
    convkit::set_active_isa(isa);
    for (int threads : {1, 2}) {
      convkit::set_num_threads(threads);
      const double t_copy = time([&] { std::memcpy(y.data(), x.data(), size_t(n) * sizeof(float)); });
      const double t_nhwc = time([&] { convkit::strided_copy(nhwc, x.data(), n, y.data(), n); });
      const double t_naive = time([&] { reference_copy(nhwc, x, y); });
      const double t_shuffle = time([&] { convkit::strided_copy(shuffle, x.data(), ns, y.data(), ns); });
      const double t_rows = time([&] { convkit::argmax(logits.data(), 4096, 1000, 1, idx.data()); });
      const double t_cols = time([&] { convkit::argmax(x.data(), 8, 64, 3136, idx.data()); });
      std::printf("[bench] %s %d thr: memcpy 8x64x56x56 %.2f ms | NCHW->NHWC %.2f ms (naive loop %.2f) | channel shuffle "
                  "8x2x116x28x28 %.2f ms | argmax rows 4096x1000 %.2f ms | argmax axis 1 of 8x64x3136 %.2f ms\n",
                  convkit::isa_name(isa), threads, t_copy * 1e3, t_nhwc * 1e3, t_naive * 1e3, t_shuffle * 1e3,
                  t_rows * 1e3, t_cols * 1e3);
    }
  }
}

}  // namespace

int main() {
  test::for_each_isa([](convkit::Isa isa) {
    for (int threads : {1, 2}) {
      convkit::set_num_threads(threads);
      std::mt19937 rng(5);
      std::printf("%s, %d thread(s)\n", convkit::isa_name(isa), threads);
      test_random_plans(rng);
      test_fast_paths(rng);
      test_argmax(rng);
    }
  });
  test_copy_errors();
  if (const char* e = std::getenv("CONVKIT_BENCH"); e && *e == '1') bench();
  return test::finish("test_layout");
}
