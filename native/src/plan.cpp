// InferencePlan: see convkit/plan.h.
//
// How a call runs:
// - Small work (a batch whose whole forward is under kSerialFlops) runs on the calling thread,
//   every kernel single-threaded: waking the pool once per layer costs more than it saves.
// - A batch of at least one image per thread is split by images: each thread takes its images
//   through every layer in chunks of about kChunkFloats of activation, so a chunk's output is
//   still in L2 when the next layer (the activation, the pooling) reads it, and the kernels
//   run single-threaded inside (nested regions run inline) with no barrier between layers.
// - Otherwise (one big image) the layers run one after another on the whole batch, each
//   kernel using every thread.
#include "convkit/plan.h"

#include <algorithm>
#include <cstring>
#include <string>

#include "convkit/activation.h"
#include "convkit/arith.h"
#include "convkit/error.h"
#include "convkit/gemm.h"
#include "convkit/scheduling.h"
#include "convkit/threads.h"
#include "plan_layer_checks.h"

namespace convkit {
namespace {

constexpr int64_t kSerialFlops = int64_t(4) << 20;   // ~1 ms of one core's work at worst
constexpr int64_t kChunkFloats = int64_t(64) << 10;  // 256 KiB of activation per chunk

std::string s(int64_t v) { return std::to_string(v); }

// Activation buffers per executing thread, grown on demand and kept between calls, so a steady
// stream of calls touches no new pages: two for a chain (each layer writes the one it does not
// read), and one more for each value a residual block puts aside.
struct Arena {
  std::vector<std::vector<float>> buffers;
  std::vector<const float*> saved;  // the values put aside, innermost last
  void reserve(size_t count, int64_t n) {
    if (buffers.size() < count) buffers.resize(count);
    for (auto& b : buffers)
      if (int64_t(b.size()) < n) b.assign(size_t(n), 0.f);
  }
  // A buffer that holds neither the current value nor one put aside.
  float* free_buffer(const float* current) {
    for (auto& b : buffers) {
      float* p = b.data();
      if (p != current && std::find(saved.begin(), saved.end(), p) == saved.end()) return p;
    }
    throw_range("compile: no free activation buffer (an unbalanced residual block)");
  }
};
thread_local Arena tls_arena;

}  // namespace

void InferencePlan::add(PlanLayer l, int64_t in_size) {
  const std::string where = "compile: layer " + s(int64_t(layers_.size()));
  if (in_size < 1) throw_range(where + ": its input has " + s(in_size) + " elements per image");
  switch (l.op) {
    case PlanOp::conv:
      l.out_size = checked_conv_out_size(l.conv, in_size, where);
      flops_per_image_ += conv_flops(l.conv);
      break;
    case PlanOp::max_pool:
    case PlanOp::avg_pool:
      l.out_size = checked_pool_out_size(l.pool, in_size, where);
      flops_per_image_ += l.out_size * l.pool.kh * l.pool.kw;
      break;
    case PlanOp::linear:
      if (l.in_features != in_size || l.out_features < 1)
        throw_range(where + " (linear): " + s(l.in_features) + " -> " + s(l.out_features) + " features for " + s(in_size) +
                    " inputs per image");
      l.out_size = l.out_features;
      flops_per_image_ += 2 * l.in_features * l.out_features;
      break;
    case PlanOp::channel_affine:
      if (l.channels < 1 || l.plane < 1 || l.channels * l.plane != in_size)
        throw_range(where + " (channel affine): " + s(l.channels) + " channels of " + s(l.plane) + " for " + s(in_size) +
                    " inputs per image");
      l.out_size = in_size;
      flops_per_image_ += 2 * in_size;
      break;
    case PlanOp::softmax:
      if (l.softmax_dim < 1 || l.softmax_inner < 1 || in_size % (l.softmax_dim * l.softmax_inner) != 0)
        throw_range(where + " (softmax): dim " + s(l.softmax_dim) + " x inner " + s(l.softmax_inner) + " does not divide " +
                    s(in_size) + " inputs per image");
      l.out_size = in_size;
      flops_per_image_ += 4 * in_size;
      break;
    case PlanOp::save:
      saved_sizes_.push_back(in_size);
      depth_ = std::max(depth_, saved_sizes_.size());
      l.out_size = in_size;
      break;
    case PlanOp::swap:
      if (saved_sizes_.empty()) throw_range(where + " (swap): nothing was put aside");
      l.out_size = saved_sizes_.back();
      saved_sizes_.back() = in_size;
      break;
    case PlanOp::add_saved:
      if (saved_sizes_.empty()) throw_range(where + " (add): nothing was put aside");
      if (saved_sizes_.back() != in_size)
        throw_range(where + " (add): adds " + s(saved_sizes_.back()) + " elements per image to " + s(in_size));
      saved_sizes_.pop_back();
      l.out_size = in_size;
      flops_per_image_ += in_size;
      break;
    default:
      l.out_size = in_size;
      flops_per_image_ += in_size;
  }
  if (!layers_.empty() && layers_.back().out_size != in_size)
    throw_range(where + ": takes " + s(in_size) + " inputs per image but the layer before gives " + s(layers_.back().out_size));
  l.in_size = in_size;
  layers_.push_back(l);
  weights_.push_back(std::make_shared<const PlanWeights>());
}

void InferencePlan::set_weights(size_t i, const float* weight, int64_t weight_len, const float* bias, int64_t bias_len) {
  if (i >= layers_.size()) throw_range("compile: no layer " + s(int64_t(i)) + " (the plan has " + s(int64_t(layers_.size())) + ")");
  const PlanLayer& l = layers_[i];
  int64_t want_w = 0, want_b = 0;
  switch (l.op) {
    case PlanOp::conv: want_w = l.conv.o * (l.conv.c / l.conv.groups) * l.conv.kh * l.conv.kw; want_b = l.conv.o; break;
    case PlanOp::linear: want_w = l.in_features * l.out_features; want_b = l.out_features; break;
    case PlanOp::channel_affine: want_w = want_b = l.channels; break;
    default: throw_type("compile: layer " + s(int64_t(i)) + " has no weights");
  }
  if (weight_len != want_w) throw_range("compile: layer " + s(int64_t(i)) + " needs " + s(want_w) + " weights, got " + s(weight_len));
  if (bias_len != 0 && bias_len != want_b)
    throw_range("compile: layer " + s(int64_t(i)) + " needs " + s(want_b) + " biases, got " + s(bias_len));
  auto w = std::make_shared<PlanWeights>();
  w->weight.assign(weight, weight + weight_len);
  if (bias_len) w->bias.assign(bias, bias + bias_len);
  if (l.op == PlanOp::conv) w->packed = conv2d_prepack_weights(l.conv, weight);
  std::lock_guard<std::mutex> lock(weights_mutex_);
  weights_[i] = std::move(w);
}

InferencePlan::Snapshot InferencePlan::snapshot() const {
  std::lock_guard<std::mutex> lock(weights_mutex_);
  return weights_;
}

int64_t InferencePlan::largest_activation() const {
  int64_t m = 0;
  for (const auto& l : layers_) m = std::max(m, l.out_size);
  return m;
}

void InferencePlan::run_layer(const PlanLayer& l, const PlanWeights* w, const float* src, int64_t n, float* dst) const {
  switch (l.op) {
    case PlanOp::conv: {
      ConvShape c = l.conv;
      c.n = n;
      const float* bias = w->bias.empty() ? nullptr : w->bias.data();
      const float* packed = w->packed.empty() ? nullptr : w->packed.data();
      conv2d_forward_prepacked(c, src, w->weight.data(), packed, bias, dst, l.epilogue == PlanEpilogue::relu);
      return;
    }
    case PlanOp::linear: {
      const int64_t in = l.in_features, out = l.out_features;
      if (w->bias.empty()) {
        sgemm(false, true, n, out, in, 1.f, src, in, w->weight.data(), in, 0.f, dst, out);
      } else {
        for (int64_t i = 0; i < n; ++i) std::memcpy(dst + i * out, w->bias.data(), size_t(out) * sizeof(float));
        sgemm(false, true, n, out, in, 1.f, src, in, w->weight.data(), in, 1.f, dst, out);
      }
      break;
    }
    case PlanOp::max_pool: {
      PoolShape p = l.pool;
      p.n = n;
      max_pool2d_forward(p, src, dst, nullptr);
      break;
    }
    case PlanOp::avg_pool: {
      PoolShape p = l.pool;
      p.n = n;
      avg_pool2d_forward(p, src, dst);
      break;
    }
    case PlanOp::channel_affine: {
      const float* scale = w->weight.data();
      const float* shift = w->bias.data();
      for (int64_t i = 0; i < n * l.channels; ++i) {
        const int64_t ch = i % l.channels;
        const float a = scale[ch], b = shift[ch];
        const float* xs = src + i * l.plane;
        float* ys = dst + i * l.plane;
        for (int64_t j = 0; j < l.plane; ++j) ys[j] = xs[j] * a + b;
      }
      break;
    }
    case PlanOp::relu: relu_forward(src, dst, n * l.in_size); break;
    case PlanOp::leaky_relu: leaky_relu_forward(src, dst, n * l.in_size, l.slope); break;
    case PlanOp::sigmoid: sigmoid_forward(src, dst, n * l.in_size); break;
    case PlanOp::tanh: tanh_forward(src, dst, n * l.in_size); break;
    case PlanOp::softmax: {
      const int64_t per = l.softmax_dim * l.softmax_inner;
      softmax_forward(src, dst, n * (l.in_size / per), l.softmax_dim, l.softmax_inner);
      break;
    }
    case PlanOp::save:
    case PlanOp::swap:
    case PlanOp::add_saved:
      throw_range("compile: a residual step runs in run_layers, not as a layer");
  }
  if (l.epilogue == PlanEpilogue::relu) relu_forward(dst, dst, n * l.out_size);  // in place
}

// n images of x through every layer into y, each layer on all n at once. Between layers no
// other thread waits for this one, so that is where it yields (convkit/scheduling.h).
void InferencePlan::run_layers(const Snapshot& w, const float* x, int64_t n, float* y, YieldPoints& yield_points) const {
  Arena& arena = tls_arena;
  arena.reserve(2 + depth_, n * largest_activation());
  arena.saved.clear();
  const float* current = x;
  for (size_t li = 0; li < layers_.size(); ++li) {
    yield_points.maybe_yield();
    const PlanLayer& l = layers_[li];
    if (l.op == PlanOp::save) {
      arena.saved.push_back(current);
      continue;
    }
    if (l.op == PlanOp::swap) {
      std::swap(current, arena.saved.back());
      continue;
    }
    float* dst = li + 1 == layers_.size() ? y : arena.free_buffer(current);
    if (l.op == PlanOp::add_saved) {
      const float* other = arena.saved.back();
      BroadcastShape same;  // one flat dim: the two values have the same shape
      same.rank = 1;
      same.shape[0] = n * l.in_size;
      same.a_stride[0] = same.b_stride[0] = 1;
      binary(BinaryOp::add, same, current, other, dst);
      arena.saved.pop_back();
    } else {
      run_layer(l, w[li].get(), current, n, dst);
    }
    current = dst;
  }
  if (current != y) std::memcpy(y, current, size_t(n * output_size()) * sizeof(float));
}

// Images [0, n) of x through every layer, in chunks that keep each activation in L2.
void InferencePlan::run_images(const Snapshot& w, const float* x, int64_t n, float* y) const {
  const int64_t chunk = std::max<int64_t>(1, std::min<int64_t>(n, kChunkFloats / largest_activation()));
  const int64_t in = input_size(), out = output_size();
  YieldPoints yield_points;
  for (int64_t i0 = 0; i0 < n; i0 += chunk) {
    const int64_t nb = std::min(chunk, n - i0);
    run_layers(w, x + i0 * in, nb, y + i0 * out, yield_points);
  }
}

void InferencePlan::run(const float* x, int64_t n, float* y) const {
  if (layers_.empty()) throw_range("compile: the plan has no layers");
  if (!saved_sizes_.empty()) throw_range("compile: a residual block puts a value aside that no add takes back");
  if (!x || !y) throw_type("compile: run needs an input and an output");
  if (n < 1) return;
  const Snapshot w = snapshot();
  for (size_t i = 0; i < layers_.size(); ++i) {
    const PlanOp op = layers_[i].op;
    if ((op == PlanOp::conv || op == PlanOp::linear || op == PlanOp::channel_affine) && w[i]->weight.empty())
      throw_range("compile: layer " + s(int64_t(i)) + " has no weights yet");
  }
  const int nt = num_threads();
  if (nt == 1 || n * flops_per_image_ < kSerialFlops) {
    run_serially([&] { run_images(w, x, n, y); });
  } else if (n >= nt) {
    parallel_run([&](int tid, int threads) {
      const int64_t a = n * tid / threads, b = n * (tid + 1) / threads;
      if (a < b) run_images(w, x + a * input_size(), b - a, y + a * output_size());
    });
  } else {
    YieldPoints yield_points;
    run_layers(w, x, n, y, yield_points);  // fewer images than threads: each layer's kernel uses every thread
  }
}

}  // namespace convkit
