// The CUDA strided copy and argmax against the CPU core (convkit/layout.h, itself checked
// against naive loops by native/tests/test_layout.cpp): random permutations of rank 1 to 6
// with negative strides and strided destinations, the tiled transpose with ragged tiles and
// more planes than a grid's z dimension holds (channel shuffle, NCHW <-> NHWC); argmax over
// rows and columns with ties, NaN and infinities.
#include <cmath>
#include <cstdio>
#include <cstring>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "convkit/layout.h"
#include "convkit_cuda/layout.h"
#include "cuda_test_util.h"

using test::DeviceVector;

namespace {

using Dims = std::vector<int64_t>;
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

void check_copy(const std::string& what, const convkit::StridedCopyShape& s, int64_t src_length, int64_t dst_length,
                std::mt19937& rng) {
  std::vector<float> src = test::random_vector(size_t(src_length), rng);
  if (src_length > 2) src[1] = NAN;
  std::vector<float> want(size_t(dst_length), kGuard);
  convkit::strided_copy(s, src.data(), src_length, want.data(), dst_length);
  DeviceVector<float> dsrc(src), ddst(std::vector<float>(size_t(dst_length), kGuard));
  convkit::cuda::strided_copy(s, dsrc.get(), src_length, ddst.get(), dst_length);
  const std::vector<float> got = ddst.to_host();
  CHECK(std::memcmp(got.data(), want.data(), got.size() * sizeof(float)) == 0, "%s: device copy differs from the CPU core",
        what.c_str());
}

void copy_cases(std::mt19937& rng) {
  for (int trial = 0; trial < 200; ++trial) {
    const int rank = 1 + int(rng() % 6);
    Dims shape(static_cast<size_t>(rank));
    for (auto& d : shape) d = 1 + int64_t(rng() % 9);
    std::vector<int> perm(static_cast<size_t>(rank));
    std::iota(perm.begin(), perm.end(), 0);
    std::shuffle(perm.begin(), perm.end(), rng);
    convkit::StridedCopyShape s = permutation(shape, perm);
    const size_t flip = size_t(rng() % size_t(rank));
    if (trial % 3 == 0) {
      s.src_offset += (s.shape[flip] - 1) * s.src_strides[flip];
      s.src_strides[flip] = -s.src_strides[flip];
    }
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
  for (int64_t rows : {1, 31, 32, 33, 100})
    for (int64_t cols : {1, 5, 32, 65})
      check_copy("transpose " + std::to_string(rows) + "x" + std::to_string(cols), permutation({3, cols, rows}, {0, 2, 1}),
                 3 * rows * cols, 3 * rows * cols, rng);
  check_copy("channel shuffle", permutation({8, 4, 29, 17, 19}, {0, 2, 1, 3, 4}), 8 * 4 * 29 * 17 * 19, 8 * 4 * 29 * 17 * 19, rng);
  check_copy("NCHW to NHWC", permutation({16, 37, 23, 29}, {0, 2, 3, 1}), 16 * 37 * 23 * 29, 16 * 37 * 23 * 29, rng);
  check_copy("NHWC to NCHW", permutation({16, 23, 29, 37}, {0, 3, 1, 2}), 16 * 37 * 23 * 29, 16 * 37 * 23 * 29, rng);
  check_copy("many planes (grid z loops)", permutation({70000, 3, 2}, {0, 2, 1}), 70000 * 6, 70000 * 6, rng);
  check_copy("plain copy", {{(1 << 20) + 3}, {1}, {1}, 0, 0}, (1 << 20) + 3, (1 << 20) + 3, rng);
  check_copy("strided line backwards", {{250000}, {-2}, {1}, 499999, 0}, 500000, 250000, rng);
}

void argmax_cases(std::mt19937& rng) {
  for (int64_t dim : {1, 2, 31, 32, 33, 1000}) {
    for (int64_t inner : {1, 3, 64, 300}) {
      for (int kind = 0; kind < 4; ++kind) {
        const int64_t outer = 1 + int64_t(rng() % 40);
        std::vector<float> x(size_t(outer * dim * inner));
        for (auto& v : x) v = float(int(rng() % 5)) - 2.f;
        if (kind == 1) for (auto& v : x) if (rng() % 9 == 0) v = INFINITY;
        if (kind == 2) for (auto& v : x) if (rng() % 13 == 0) v = NAN;
        if (kind == 3) for (auto& v : x) v = -INFINITY;
        std::vector<int32_t> want(size_t(outer * inner));
        convkit::argmax(x.data(), outer, dim, inner, want.data());
        DeviceVector<float> dx(x);
        DeviceVector<int32_t> dout(size_t(outer * inner));
        convkit::cuda::argmax(dx.get(), outer, dim, inner, dout.get());
        CHECK(dout.to_host() == want, "argmax [%lld, %lld, %lld] kind %d differs from the CPU core", (long long)outer,
              (long long)dim, (long long)inner, kind);
      }
    }
  }
}

}  // namespace

int main() {
  if (!test::cuda_usable("test_cuda_layout")) return test::kSkipped;
  std::mt19937 rng(9);
  copy_cases(rng);
  argmax_cases(rng);
  return test::finish("test_cuda_layout");
}
