// A compiled training step: a model's layers resolved once, then forward, cross-entropy,
// backward and (optionally) the SGD update of every parameter in one call. The model's own
// memory (parameters, gradients, momentum buffers, BatchNorm running statistics, dropout
// masks) is passed in on each call and written in place; what backward needs from forward
// (activations, pooling argmax, batch statistics) lives in the plan's arena, kept between calls.
//
// The batch is cut into a number of chunks that depends on the batch size alone; each thread
// takes whole chunks through forward, loss and backward (no barrier between layers), and each
// chunk's parameter gradients are summed in chunk order, so results do not depend on the
// number of threads. A BatchNorm layer needs the whole batch's statistics: the chunks meet
// there, once forward and once backward.
#pragma once
#include <cstdint>
#include <mutex>
#include <vector>

#include "convkit/conv.h"
#include "convkit/optim.h"
#include "convkit/pool.h"

namespace convkit {

enum class TrainOp { conv, linear, max_pool, avg_pool, relu, batch_norm, dropout };

struct TrainLayer {
  TrainOp op = TrainOp::relu;
  bool relu = false;          // conv / linear: a ReLU on the output, in the same pass
  bool relu_by_next = false;  // set by add: the ReLU's backward runs inside the next layer's (a max pool's)
  bool bias = true;           // conv / linear: has a bias; batch_norm: affine (weight and bias)
  ConvShape conv{};           // conv: n is ignored
  PoolShape pool{};           // max_pool / avg_pool: n is ignored
  int64_t in_features = 0;    // linear
  int64_t out_features = 0;
  int64_t channels = 0;       // batch_norm over planes of `plane` elements
  int64_t plane = 0;
  double eps = 1e-5;          // batch_norm
  double momentum = 0.1;      // batch_norm: weight of the batch in the running statistics
  float scale = 1.f;          // dropout: 1 / (1 - p)
  // Set by TrainingPlan::add:
  int64_t in_size = 0, out_size = 0;  // elements per image
  int first_param = -1;               // its first parameter slot (weight, then bias)
  int num_params = 0;
  int index = -1;                     // batch_norm: its running-statistics index; dropout: its mask index
};

// The model's memory for one step, per parameter slot (in layer order: weight, then bias) and
// per BatchNorm / Dropout layer. momentum may be null (no SGD update, or momentum 0);
// running_mean / running_var are null for a BatchNorm without running statistics.
struct TrainTensors {
  std::vector<float*> param, grad, momentum;
  std::vector<float*> running_mean, running_var;
  std::vector<const uint8_t*> masks;  // n * in_size keep flags per dropout layer
  // The lengths of running_mean / running_var and of masks, as the caller found them.
  std::vector<int64_t> running_mean_length, running_var_length, mask_length;
};

// The fused optimizer step, or none (grads are written; the caller updates). first[slot]:
// the slot's first update (its momentum buffer starts as the gradient).
struct TrainUpdate {
  bool sgd = false;
  SgdStep step{};
  const uint8_t* first = nullptr;
};

class TrainingPlan {
 public:
  // Appends a layer taking in_size elements per image; throws Error naming it when inconsistent.
  void add(TrainLayer layer, int64_t in_size);

  int64_t input_size() const { return layers_.empty() ? 0 : layers_.front().in_size; }
  int64_t output_size() const { return layers_.empty() ? 0 : layers_.back().out_size; }
  const std::vector<int64_t>& param_sizes() const { return param_sizes_; }
  int batch_norms() const { return batch_norms_; }
  int dropouts() const { return dropouts_; }
  int64_t flops_per_image() const { return flops_per_image_; }

  // Throws Error (range) naming the argument unless t fits this plan for a batch of n.
  void check(const TrainTensors& t, const TrainUpdate& u, int64_t n) const;

  // One step on x [n, input_size] with class labels [n] in [0, output_size): writes every
  // parameter gradient, updates the running statistics, applies the update, copies the
  // logits to `logits` [n, output_size] when non-null, and returns the mean loss. Calls are
  // serialised (the arena is the plan's).
  float step(const float* x, const int32_t* labels, int64_t n, const TrainTensors& t, const TrainUpdate& u,
             float* logits);

  // Chunks a batch of n is cut into (a function of n alone).
  static int64_t chunks_for(int64_t n);

 private:
  struct Chunk { int64_t i0, nb; };
  void reserve(int64_t n);
  void forward_layer(size_t i, const float* in, int64_t i0, int64_t nb, const TrainTensors& t, int64_t n);
  void backward_layer(size_t i, const float* in, int64_t i0, int64_t nb, const TrainTensors& t, int64_t n, int64_t chunk);
  double loss_chunk(const int32_t* labels, int64_t i0, int64_t nb, int64_t n);
  void batch_norm_forward_all(size_t i, const float* in, const TrainTensors& t, int64_t n);
  void batch_norm_backward_all(size_t i, const float* in, const TrainTensors& t, int64_t n);
  void reduce_and_update(const TrainTensors& t, const TrainUpdate& u, int64_t chunks);
  float* act(size_t i, int64_t i0) { return act_.data() + act_offset_[i] * batch_ + i0 * layers_[i].out_size; }
  float* grad(size_t i, int64_t i0) { return grad_.data() + act_offset_[i] * batch_ + i0 * layers_[i].out_size; }

  std::vector<TrainLayer> layers_;
  std::vector<int64_t> param_sizes_;
  std::vector<int64_t> param_offset_;  // into one chunk's block of partial gradients
  std::vector<bool> param_whole_batch_; // computed over the whole batch (BatchNorm): chunk 0 only
  int64_t param_total_ = 0;
  std::vector<int64_t> act_offset_;    // per layer, elements per image before it
  std::vector<int64_t> argmax_offset_; // per layer (max_pool's), ints per image before it
  std::vector<int64_t> bn_offset_;     // per batch_norm: its mean and 1/std in bn_stats_
  std::vector<int> bn_index_layer_;    // per batch_norm: its layer
  int64_t act_per_image_ = 0, argmax_per_image_ = 0;
  int batch_norms_ = 0, dropouts_ = 0;
  int64_t flops_per_image_ = 0;

  // The arena, for batch_ images.
  int64_t batch_ = 0;
  std::vector<float> act_, grad_, partial_, bn_stats_;
  std::vector<int32_t> argmax_;
  std::vector<double> chunk_loss_;
  std::mutex mutex_;
};

}  // namespace convkit
