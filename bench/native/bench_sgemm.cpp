// convkit::sgemm against OpenBLAS's cblas_sgemm in the same process: square and conv-shaped
// problems on 1 and 2 threads, the two libraries interleaved sample by sample (fair on a
// noisy shared machine), median of several samples after a warm-up. GFLOP/s come from the
// median times; the ratio is the median of the per-sample ratios, so that a burst of load
// from another process, which hits both libraries of one sample alike, cancels out.
//   bench_sgemm [--json] [--isa scalar|avx2|avx512] [--threads N] [--quick]
//   bench_sgemm --serve
// --json prints one JSON object per row (read by the TypeScript bench).
// --serve keeps OpenBLAS in a persistent process for bench/openblas-server.ts, which
// alternates it round by round with convkit's public API in node: each stdin line
// `sgemm M N K THREADS REPS` runs cblas_sgemm REPS times and answers one JSON line with the
// per-call seconds; `quit` or end of input ends it.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "convkit/gemm.h"
#include "convkit/isa.h"
#include "convkit/threads.h"

#if CONVKIT_HAVE_OPENBLAS
#include <cblas.h>
#endif

namespace {

struct Shape {
  const char* name;
  bool trans_a, trans_b;
  int64_t m, n, k;
};

// Square sizes, then the GEMMs of a 3x3, 64-channel conv on 56x56 (forward, weight
// gradient, input gradient) and LeNet's first conv on a batch of 64.
const Shape kShapes[] = {
    {"square", false, false, 256, 256, 256},     {"square", false, false, 512, 512, 512},
    {"square", false, false, 1024, 1024, 1024},  {"square", false, false, 2048, 2048, 2048},
    {"square NT", false, true, 1024, 1024, 1024}, {"square TN", true, false, 1024, 1024, 1024},
    {"conv fwd", false, false, 64, 3136, 576},   {"conv dW", false, true, 64, 576, 3136},
    {"conv dX", true, false, 576, 3136, 64},     {"lenet c1", false, false, 6, 50176, 25},
};

double seconds_now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

struct Problem {
  Shape s;
  std::vector<float> a, b, c;
  Problem(const Shape& shape) : s(shape) {
    std::mt19937 rng(7);
    std::uniform_real_distribution<float> dist(-1.f, 1.f);
    a.resize(size_t(s.m * s.k));
    b.resize(size_t(s.k * s.n));
    c.resize(size_t(s.m * s.n));
    for (auto& x : a) x = dist(rng);
    for (auto& x : b) x = dist(rng);
  }
  int64_t lda() const { return s.trans_a ? s.m : s.k; }
  int64_t ldb() const { return s.trans_b ? s.k : s.n; }
  void run_convkit() {
    convkit::sgemm(s.trans_a, s.trans_b, s.m, s.n, s.k, 1.f, a.data(), lda(), b.data(), ldb(), 0.f, c.data(), s.n);
  }
#if CONVKIT_HAVE_OPENBLAS
  void run_openblas() {
    cblas_sgemm(CblasRowMajor, s.trans_a ? CblasTrans : CblasNoTrans, s.trans_b ? CblasTrans : CblasNoTrans,
                int(s.m), int(s.n), int(s.k), 1.f, a.data(), int(lda()), b.data(), int(ldb()), 0.f, c.data(),
                int(s.n));
  }
#endif
};

// Seconds per call over `calls` back-to-back calls.
template <class F>
double time_calls(F&& f, int calls) {
  double t0 = seconds_now();
  for (int i = 0; i < calls; ++i) f();
  return (seconds_now() - t0) / calls;
}

struct Options {
  bool json = false, quick = false;
  int only_threads = 0;
};

void bench_row(const Shape& shape, int threads, const Options& opt) {
  Problem p(shape);
  const double flops = 2.0 * shape.m * shape.n * shape.k;
  // ~25 ms per sample so that timer and wake-up noise stay small for the small sizes.
  const int calls = std::max(1, int(0.025 * 100e9 / flops));
  const int samples = opt.quick ? 3 : 9;
  std::vector<double> ours, theirs;
  p.run_convkit();
  time_calls([&] { p.run_convkit(); }, calls);
#if CONVKIT_HAVE_OPENBLAS
  p.run_openblas();
  time_calls([&] { p.run_openblas(); }, calls);
#endif
  for (int s = 0; s < samples; ++s) {
    ours.push_back(time_calls([&] { p.run_convkit(); }, calls));
#if CONVKIT_HAVE_OPENBLAS
    theirs.push_back(time_calls([&] { p.run_openblas(); }, calls));
#endif
  }
  const double ck = flops / median(ours) / 1e9;
  const double ob = theirs.empty() ? 0 : flops / median(theirs) / 1e9;
  std::vector<double> ratios;
  for (size_t i = 0; i < theirs.size(); ++i) ratios.push_back(theirs[i] / ours[i]);
  const double ratio = ratios.empty() ? 0 : median(ratios);
  const char* isa = convkit::isa_name(convkit::active_isa());
  if (opt.json) {
    char ob_text[32] = "null", ratio_text[32] = "null";
    if (ob > 0) {
      std::snprintf(ob_text, sizeof ob_text, "%.2f", ob);
      std::snprintf(ratio_text, sizeof ratio_text, "%.3f", ratio);
    }
    std::printf(
        "{\"bench\":\"sgemm\",\"shape\":\"%s\",\"m\":%lld,\"n\":%lld,\"k\":%lld,\"trans_a\":%s,\"trans_b\":%s,"
        "\"threads\":%d,\"isa\":\"%s\",\"convkit_gflops\":%.2f,\"openblas_gflops\":%s,\"ratio\":%s}\n",
        shape.name, (long long)shape.m, (long long)shape.n, (long long)shape.k, shape.trans_a ? "true" : "false",
        shape.trans_b ? "true" : "false", threads, isa, ck, ob_text, ratio_text);
  } else {
    char dims[64];
    std::snprintf(dims, sizeof dims, "%lldx%lldx%lld", (long long)shape.m, (long long)shape.n, (long long)shape.k);
    if (ob > 0)
      std::printf("%-10s %-16s %7d  %-6s %10.1f %10.1f %7.3f\n", shape.name, dims, threads, isa, ck, ob, ratio);
    else
      std::printf("%-10s %-16s %7d  %-6s %10.1f %10s %7s\n", shape.name, dims, threads, isa, ck, "-", "-");
  }
  std::fflush(stdout);
}

// One problem per shape, kept between requests so that only the first request of a shape
// pays for allocating and faulting in its buffers.
int serve() {
  std::vector<Problem> problems;
  char line[256];
  while (std::fgets(line, sizeof line, stdin)) {
    char cmd[32] = "";
    long long m = 0, n = 0, k = 0;
    int threads = 0, reps = 0;
    const int got = std::sscanf(line, "%31s %lld %lld %lld %d %d", cmd, &m, &n, &k, &threads, &reps);
    if (got >= 1 && !std::strcmp(cmd, "quit")) break;
    if (got != 6 || std::strcmp(cmd, "sgemm") || m < 1 || n < 1 || k < 1 || threads < 1 || reps < 1) {
      std::printf("{\"error\":\"expected: sgemm M N K THREADS REPS\"}\n");
      std::fflush(stdout);
      continue;
    }
#if CONVKIT_HAVE_OPENBLAS
    Problem* p = nullptr;
    for (auto& q : problems)
      if (q.s.m == m && q.s.n == n && q.s.k == k) p = &q;
    if (!p) {
      problems.emplace_back(Shape{"serve", false, false, m, n, k});
      p = &problems.back();
    }
    openblas_set_num_threads(threads);
    std::string seconds;
    for (int r = 0; r < reps; ++r) {
      char text[32];
      std::snprintf(text, sizeof text, "%s%.9f", r ? "," : "", time_calls([&] { p->run_openblas(); }, 1));
      seconds += text;
    }
    std::printf("{\"m\":%lld,\"n\":%lld,\"k\":%lld,\"threads\":%d,\"openblas_threads\":%d,\"corename\":\"%s\",\"seconds\":[%s]}\n",
                m, n, k, threads, openblas_get_num_threads(), openblas_get_corename(), seconds.c_str());
#else
    std::printf("{\"error\":\"bench_sgemm was built without OpenBLAS (apt-get install libopenblas-dev, then rebuild)\"}\n");
#endif
    std::fflush(stdout);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
#if CONVKIT_HAVE_OPENBLAS
  // OpenBLAS workers spin for ~2^28 cycles after each call, which would steal the second
  // core from convkit's threads when the two are interleaved. Re-run with a short spin.
  if (!std::getenv("OPENBLAS_THREAD_TIMEOUT")) {
    setenv("OPENBLAS_THREAD_TIMEOUT", "4", 1);
    execv("/proc/self/exe", argv);
  }
#endif
  if (argc == 2 && !std::strcmp(argv[1], "--serve")) return serve();
  Options opt;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--json")) {
      opt.json = true;
    } else if (!std::strcmp(argv[i], "--quick")) {
      opt.quick = true;
    } else if (!std::strcmp(argv[i], "--threads") && i + 1 < argc) {
      opt.only_threads = std::atoi(argv[++i]);
    } else if (!std::strcmp(argv[i], "--isa") && i + 1 < argc) {
      convkit::Isa isa;
      if (!convkit::parse_isa(argv[++i], &isa) || !convkit::isa_supported(isa)) {
        std::fprintf(stderr, "bench_sgemm: unknown or unsupported ISA %s\n", argv[i]);
        return 2;
      }
      convkit::set_active_isa(isa);
    } else {
      std::fprintf(stderr, "usage: bench_sgemm [--json] [--isa scalar|avx2|avx512] [--threads N] [--quick] | --serve\n");
      return 2;
    }
  }
  if (!opt.json) {
#if CONVKIT_HAVE_OPENBLAS
    std::printf("OpenBLAS %s (core %s), OPENBLAS_THREAD_TIMEOUT=%s\n", openblas_get_config(), openblas_get_corename(),
                std::getenv("OPENBLAS_THREAD_TIMEOUT"));
#else
    std::printf("OpenBLAS not found: convkit figures only\n");
#endif
    std::printf("%-10s %-16s %7s  %-6s %10s %10s %7s\n", "shape", "MxNxK", "threads", "isa", "convkit", "OpenBLAS",
                "ratio");
    std::printf("%-10s %-16s %7s  %-6s %10s %10s %7s\n", "", "", "", "", "GFLOP/s", "GFLOP/s", "");
  }
  for (int threads : {1, 2}) {
    if (opt.only_threads && threads != opt.only_threads) continue;
    convkit::set_num_threads(threads);
#if CONVKIT_HAVE_OPENBLAS
    openblas_set_num_threads(threads);
#endif
    for (const Shape& shape : kShapes) bench_row(shape, threads, opt);
  }
  return 0;
}
