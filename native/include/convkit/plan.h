// A compiled forward pass: the layers of a model resolved once for one image, then run on any
// batch in one call. Activations live in per-thread arenas that are kept between calls, each
// thread takes whole images through every layer (no barrier between layers) when the batch
// allows, and a layer's activation runs on its output while that output is still in cache.
#pragma once
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "convkit/conv.h"
#include "convkit/pool.h"

namespace convkit {

class YieldPoints;  // convkit/scheduling.h

// save, swap and add_saved run a residual block: save puts the current value aside, swap
// exchanges it with the one put aside last (the body's output goes aside, the block's input
// comes back for the shortcut), add_saved adds the one put aside last to the current value and
// drops it. Sizes must match: a plan with a broadcasting join is not for this class.
enum class PlanOp { conv, linear, max_pool, avg_pool, channel_affine, relu, leaky_relu, sigmoid, tanh, softmax, save, swap, add_saved };

// What runs on the output of a conv, linear or channel-affine layer, in the same pass.
enum class PlanEpilogue { none, relu };

struct PlanLayer {
  PlanOp op = PlanOp::relu;
  PlanEpilogue epilogue = PlanEpilogue::none;
  ConvShape conv{};           // conv: n is ignored (the batch comes at run time)
  PoolShape pool{};           // max_pool / avg_pool: n is ignored
  int64_t in_features = 0;    // linear
  int64_t out_features = 0;   // linear
  int64_t channels = 0;       // channel_affine: per-channel scale and shift over planes of `plane`
  int64_t plane = 0;
  float slope = 0.f;          // leaky_relu
  int64_t softmax_dim = 0;    // softmax over [dim, inner] of each image
  int64_t softmax_inner = 0;
  int64_t in_size = 0;        // elements per image, in and out (set by InferencePlan::add)
  int64_t out_size = 0;
};

// A layer's parameters: conv weight OIHW + bias, linear weight [out, in] + bias, or the
// scale + shift of a channel affine (in `weight` and `bias`).
struct PlanWeights {
  std::vector<float> weight, bias;
  std::vector<float> packed;  // conv: conv2d_prepack_weights, made once here rather than per call
};

class InferencePlan {
 public:
  // Appends a layer taking `in_size` elements per image (the previous layer's out_size);
  // computes its out_size. Throws Error naming the layer when it is inconsistent.
  void add(PlanLayer layer, int64_t in_size);

  // Replaces layer i's parameters (copied). A run in flight keeps the ones it started with.
  void set_weights(size_t i, const float* weight, int64_t weight_len, const float* bias, int64_t bias_len);

  int64_t input_size() const { return layers_.empty() ? 0 : layers_.front().in_size; }
  int64_t output_size() const { return layers_.empty() ? 0 : layers_.back().out_size; }
  size_t size() const { return layers_.size(); }
  // Floating-point operations per image (multiply-adds count 2), for choosing how to run a call.
  int64_t flops_per_image() const { return flops_per_image_; }

  // y[n, output_size] from x[n, input_size]. Safe to call from several threads at once.
  void run(const float* x, int64_t n, float* y) const;

 private:
  using Snapshot = std::vector<std::shared_ptr<const PlanWeights>>;
  Snapshot snapshot() const;
  void run_images(const Snapshot& w, const float* x, int64_t n, float* y) const;
  void run_layers(const Snapshot& w, const float* x, int64_t n, float* y, YieldPoints& yield_points) const;
  void run_layer(const PlanLayer& l, const PlanWeights* w, const float* src, int64_t n, float* dst) const;
  int64_t largest_activation() const;

  std::vector<PlanLayer> layers_;
  std::vector<int64_t> saved_sizes_;  // while adding: the per-image sizes put aside by save
  size_t depth_ = 0;                  // the most values put aside at once
  std::vector<std::shared_ptr<const PlanWeights>> weights_;
  int64_t flops_per_image_ = 0;
  mutable std::mutex weights_mutex_;
};

}  // namespace convkit
