// TrainingPlan: see convkit/train_plan.h.
//
// A step runs in segments: the layers between two BatchNorms run chunk by chunk (a thread
// takes a chunk through every layer of the segment while its activations are in L2, each
// kernel single-threaded inside), and a BatchNorm runs on the whole batch with its kernels'
// own threads. The last segment takes each chunk through forward, the loss and back in one
// pass. Each chunk writes its parameter gradients to a block of its own; the last pass sums
// the blocks in chunk order into the model's gradients and applies SGD on the same slice
// while it is in cache.
#include "convkit/train_plan.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>

#include "convkit/activation.h"
#include "convkit/batchnorm.h"
#include "convkit/dropout.h"
#include "convkit/elementwise.h"
#include "convkit/error.h"
#include "convkit/gemm.h"
#include "convkit/threads.h"
#include "plan_layer_checks.h"
#include "vec_kernels.h"

namespace convkit {
namespace {

constexpr int64_t kMaxChunks = 8;                    // a batch of 64: 8 chunks of 8 images
constexpr int64_t kSerialFlops = int64_t(4) << 20;   // below this a step runs on one thread
constexpr int64_t kUpdateGrain = int64_t(16) << 10;  // parameters per task of the update pass

std::string s(int64_t v) { return std::to_string(v); }

// Runs fn(chunk) for every chunk, spread over the pool's threads by contiguous ranges.
template <class Fn>
void for_chunks(int64_t chunks, const Fn& fn) {
  if (chunks == 1 || num_threads() == 1) {
    for (int64_t c = 0; c < chunks; ++c) fn(c);
    return;
  }
  parallel_run([&](int tid, int nt) {
    for (int64_t c = chunks * tid / nt; c < chunks * (tid + 1) / nt; ++c) fn(c);
  });
}

// The backward of a max pool and of the ReLU before it, in one pass over the pooled gradient:
// dx is dy at each window's argmax where the ReLU's output y there is not <= 0 (as
// relu_backward: y > 0 exactly where its input is, and NaN passes), 0 elsewhere. It saves the
// ReLU's own pass over dx (LeNet: conv1's output, 4704 values an image).
void max_pool_relu_backward(const PoolShape& p, const float* dy, const int32_t* argmax, const float* y, float* dx) {
  const int64_t planes = p.n * p.c, hw = p.h * p.w, ohw = p.oh * p.ow;
  std::memset(dx, 0, size_t(planes * hw) * sizeof(float));
  for (int64_t pl = 0; pl < planes; ++pl) {
    const float* yp = y + pl * hw;
    float* dxp = dx + pl * hw;
    const float* g = dy + pl * ohw;
    const int32_t* a = argmax + pl * ohw;
    for (int64_t o = 0; o < ohw; ++o) {
      // -1: a window wholly in the padding (dilation past the input, or ONNX's pads) takes no gradient.
      const int32_t k = a[o];
      if (k >= 0 && !(yp[k] <= 0.f)) dxp[k] += g[o];
    }
  }
}

}  // namespace

int64_t TrainingPlan::chunks_for(int64_t n) { return std::max<int64_t>(1, std::min(n, kMaxChunks)); }

void TrainingPlan::add(TrainLayer l, int64_t in_size) {
  const std::string where = "fit: layer " + s(int64_t(layers_.size()));
  if (in_size < 1) throw_range(where + ": its input has " + s(in_size) + " elements per image");
  if (!layers_.empty() && layers_.back().out_size != in_size)
    throw_range(where + ": takes " + s(in_size) + " inputs per image but the layer before gives " + s(layers_.back().out_size));
  std::vector<int64_t> params;
  switch (l.op) {
    case TrainOp::conv:
      l.out_size = checked_conv_out_size(l.conv, in_size, where);
      params = {l.conv.o * (l.conv.c / l.conv.groups) * l.conv.kh * l.conv.kw};
      if (l.bias) params.push_back(l.conv.o);
      flops_per_image_ += 3 * conv_flops(l.conv);
      break;
    case TrainOp::linear:
      if (l.in_features != in_size || l.out_features < 1)
        throw_range(where + " (linear): " + s(l.in_features) + " -> " + s(l.out_features) + " features for " + s(in_size) +
                    " inputs per image");
      l.out_size = l.out_features;
      params = {l.in_features * l.out_features};
      if (l.bias) params.push_back(l.out_features);
      flops_per_image_ += 6 * l.in_features * l.out_features;
      break;
    case TrainOp::max_pool:
    case TrainOp::avg_pool:
      l.out_size = checked_pool_out_size(l.pool, in_size, where);
      flops_per_image_ += 2 * l.out_size * l.pool.kh * l.pool.kw;
      break;
    case TrainOp::batch_norm:
      if (l.channels < 1 || l.plane < 1 || l.channels * l.plane != in_size)
        throw_range(where + " (batch norm): " + s(l.channels) + " channels of " + s(l.plane) + " for " + s(in_size) +
                    " inputs per image");
      if (!(l.eps > 0) || !(l.momentum >= 0 && l.momentum <= 1)) throw_range(where + " (batch norm): eps or momentum out of range");
      l.out_size = in_size;
      if (l.bias) params = {l.channels, l.channels};
      l.index = batch_norms_++;
      bn_offset_.push_back(bn_offset_.empty() ? 0 : bn_offset_.back() + 2 * layers_[size_t(bn_index_layer_.back())].channels);
      bn_index_layer_.push_back(int(layers_.size()));
      flops_per_image_ += 8 * in_size;
      break;
    case TrainOp::dropout:
      if (!(l.scale >= 1.f) || !std::isfinite(l.scale)) throw_range(where + " (dropout): scale must be 1 / (1 - p) for p in [0, 1)");
      l.out_size = in_size;
      l.index = dropouts_++;
      flops_per_image_ += 2 * in_size;
      break;
    case TrainOp::relu:
      l.out_size = in_size;
      flops_per_image_ += 2 * in_size;
      break;
  }
  // A max pool right after a conv or linear with a ReLU takes the ReLU's backward into its own.
  if (l.op == TrainOp::max_pool && !layers_.empty() && layers_.back().relu) layers_.back().relu_by_next = true;
  l.in_size = in_size;
  l.first_param = int(param_sizes_.size());
  l.num_params = int(params.size());
  for (int64_t p : params) {
    param_offset_.push_back(param_total_);
    param_sizes_.push_back(p);
    param_whole_batch_.push_back(l.op == TrainOp::batch_norm);
    param_total_ += p;
  }
  act_offset_.push_back(act_per_image_);
  act_per_image_ += l.out_size;
  argmax_offset_.push_back(argmax_per_image_);
  if (l.op == TrainOp::max_pool) argmax_per_image_ += l.out_size;
  layers_.push_back(l);
}

void TrainingPlan::check(const TrainTensors& t, const TrainUpdate& u, int64_t n) const {
  const char* fn = "fit";
  if (layers_.empty()) throw_range(std::string(fn) + ": the training plan has no layers");
  if (layers_.back().op == TrainOp::batch_norm) throw_range(std::string(fn) + ": the training plan cannot end in a BatchNorm");
  if (n < 1) throw_range(std::string(fn) + ": a batch needs at least one sample, got " + s(n));
  const size_t slots = param_sizes_.size();
  if (t.param.size() != slots || t.grad.size() != slots || t.momentum.size() != slots)
    throw_range(std::string(fn) + ": the plan has " + s(int64_t(slots)) + " parameters, got " + s(int64_t(t.param.size())));
  for (size_t i = 0; i < slots; ++i) {
    if (!t.param[i] || !t.grad[i]) throw_type(std::string(fn) + ": parameter " + s(int64_t(i)) + " or its gradient is missing");
    if (u.sgd && u.step.momentum != 0.f && !t.momentum[i])
      throw_type(std::string(fn) + ": parameter " + s(int64_t(i)) + " has no momentum buffer");
  }
  if (u.sgd && !u.first) throw_type(std::string(fn) + ": the SGD update needs its first-step flags");
  if (int(t.running_mean.size()) != batch_norms_ || int(t.running_var.size()) != batch_norms_)
    throw_range(std::string(fn) + ": the plan has " + s(batch_norms_) + " BatchNorm layers, got running statistics for " +
                s(int64_t(t.running_mean.size())));
  if (int(t.masks.size()) != dropouts_)
    throw_range(std::string(fn) + ": the plan has " + s(dropouts_) + " Dropout layers, got " + s(int64_t(t.masks.size())) + " masks");
  if (t.running_mean_length.size() != t.running_mean.size() || t.running_var_length.size() != t.running_var.size() ||
      t.mask_length.size() != t.masks.size())
    throw_range(std::string(fn) + ": the lengths of the running statistics and masks are missing");
  for (const auto& l : layers_) {
    if (l.op == TrainOp::dropout) {
      if (!t.masks[size_t(l.index)]) throw_type(std::string(fn) + ": dropout mask " + s(l.index) + " is missing");
      if (t.mask_length[size_t(l.index)] != n * l.in_size)
        throw_range(std::string(fn) + ": dropout mask " + s(l.index) + " has " + s(t.mask_length[size_t(l.index)]) +
                    " elements, expected " + s(n * l.in_size));
    }
    if (l.op == TrainOp::batch_norm) {
      const size_t b = size_t(l.index);
      if ((t.running_mean[b] == nullptr) != (t.running_var[b] == nullptr))
        throw_type(std::string(fn) + ": BatchNorm " + s(l.index) + " needs both running statistics or neither");
      if (t.running_mean[b] && (t.running_mean_length[b] != l.channels || t.running_var_length[b] != l.channels))
        throw_range(std::string(fn) + ": BatchNorm " + s(l.index) + "'s running statistics must have " + s(l.channels) + " elements");
    }
    if (l.op == TrainOp::batch_norm && n * l.plane < 2)
      throw_range(std::string(fn) + ": BatchNorm training needs more than 1 value per channel, got a batch of " + s(n) +
                  " with " + s(l.plane) + " per channel");
  }
}

void TrainingPlan::reserve(int64_t n) {
  if (n <= batch_ && !act_.empty()) return;
  batch_ = std::max(n, batch_);
  act_.assign(size_t(act_per_image_ * batch_), 0.f);
  grad_.assign(size_t(act_per_image_ * batch_), 0.f);
  argmax_.assign(size_t(argmax_per_image_ * batch_), 0);
  partial_.assign(size_t(param_total_ * kMaxChunks), 0.f);
  int64_t stats = 0;
  for (int idx : bn_index_layer_) stats += 2 * layers_[size_t(idx)].channels;
  bn_stats_.assign(size_t(stats), 0.f);
  chunk_loss_.assign(size_t(kMaxChunks), 0.0);
}

void TrainingPlan::forward_layer(size_t i, const float* in, int64_t i0, int64_t nb, const TrainTensors& t, int64_t n) {
  const TrainLayer& l = layers_[i];
  float* y = act(i, i0);
  const float* w = l.num_params > 0 ? t.param[size_t(l.first_param)] : nullptr;
  const float* b = l.num_params > 1 ? t.param[size_t(l.first_param) + 1] : nullptr;
  switch (l.op) {
    case TrainOp::conv: {
      ConvShape c = l.conv;
      c.n = nb;
      if (l.relu) conv2d_forward_relu(c, in, w, b, y);
      else conv2d_forward(c, in, w, b, y);
      return;
    }
    case TrainOp::linear: {
      const int64_t fi = l.in_features, fo = l.out_features;
      if (b) {
        for (int64_t r = 0; r < nb; ++r) std::memcpy(y + r * fo, b, size_t(fo) * sizeof(float));
      }
      sgemm(false, true, nb, fo, fi, 1.f, in, fi, w, fi, b ? 1.f : 0.f, y, fo);
      if (l.relu) relu_forward(y, y, nb * fo);
      return;
    }
    case TrainOp::max_pool: {
      PoolShape p = l.pool;
      p.n = nb;
      max_pool2d_forward(p, in, y, argmax_.data() + argmax_offset_[i] * batch_ + i0 * l.out_size);
      return;
    }
    case TrainOp::avg_pool: {
      PoolShape p = l.pool;
      p.n = nb;
      avg_pool2d_forward(p, in, y);
      return;
    }
    case TrainOp::relu: relu_forward(in, y, nb * l.in_size); return;
    case TrainOp::dropout:
      dropout_apply(in, t.masks[size_t(l.index)] + i0 * l.in_size, l.scale, y, nb * l.in_size);
      return;
    case TrainOp::batch_norm: throw_type("fit: a BatchNorm layer runs on the whole batch");  // not reached
  }
  (void)n;
}

// dy is grad(i) for the chunk; writes the gradient of layer i's input to grad(i - 1) (none for
// the first layer) and its parameter gradients to the chunk's block.
void TrainingPlan::backward_layer(size_t i, const float* in, int64_t i0, int64_t nb, const TrainTensors& t, int64_t n,
                                  int64_t chunk) {
  const TrainLayer& l = layers_[i];
  float* dy = grad(i, i0);
  float* dx = i == 0 ? nullptr : grad(i - 1, i0);
  float* block = partial_.data() + chunk * param_total_;
  float* dw = l.num_params > 0 ? block + param_offset_[size_t(l.first_param)] : nullptr;
  float* db = l.num_params > 1 ? block + param_offset_[size_t(l.first_param) + 1] : nullptr;
  const float* w = l.num_params > 0 ? t.param[size_t(l.first_param)] : nullptr;
  if (l.relu && !l.relu_by_next) relu_backward(act(i, i0), dy, dy, nb * l.out_size);  // y > 0 exactly where x > 0
  switch (l.op) {
    case TrainOp::conv: {
      ConvShape c = l.conv;
      c.n = nb;
      conv2d_backward(c, in, w, dy, dx, dw, db);
      return;
    }
    case TrainOp::linear: {
      const int64_t fi = l.in_features, fo = l.out_features;
      sgemm(true, false, fo, fi, nb, 1.f, dy, fo, in, fi, 0.f, dw, fi);  // dW = dY^T X
      if (db) reduce2d(dy, 1, fo, nb, fo, 1.f, db);
      if (dx) sgemm(false, false, nb, fi, fo, 1.f, dy, fo, w, fi, 0.f, dx, fi);  // dX = dY W
      return;
    }
    case TrainOp::max_pool: {
      if (!dx) return;
      PoolShape p = l.pool;
      p.n = nb;
      const int32_t* am = argmax_.data() + argmax_offset_[i] * batch_ + i0 * l.out_size;
      if (layers_[i - 1].relu_by_next) max_pool_relu_backward(p, dy, am, in, dx);
      else max_pool2d_backward(p, dy, am, dx);
      return;
    }
    case TrainOp::avg_pool: {
      if (!dx) return;
      PoolShape p = l.pool;
      p.n = nb;
      avg_pool2d_backward(p, dy, dx);
      return;
    }
    case TrainOp::relu:
      if (dx) relu_backward(in, dy, dx, nb * l.in_size);
      return;
    case TrainOp::dropout:
      if (dx) dropout_apply(dy, t.masks[size_t(l.index)] + i0 * l.in_size, l.scale, dx, nb * l.in_size);
      return;
    case TrainOp::batch_norm: throw_type("fit: a BatchNorm layer runs on the whole batch");  // not reached
  }
  (void)n;
}

// Cross-entropy of the chunk's logits, as the eager loss computes it (probabilities scaled by
// 1/sum, then (p - onehot) / n); returns the chunk's summed loss.
double TrainingPlan::loss_chunk(const int32_t* labels, int64_t i0, int64_t nb, int64_t n) {
  const size_t last = layers_.size() - 1;
  const int64_t c = layers_[last].out_size;
  const float* logits = act(last, i0);
  float* d = grad(last, i0);
  const VecKernels& k = active_vec_kernels();
  const float inv_n = 1.f / float(n);
  double total = 0;
  for (int64_t r = 0; r < nb; ++r) {
    const float* x = logits + r * c;
    float* p = d + r * c;
    const int32_t label = labels[i0 + r];
    const float m = k.row_max(x, c);
    const float sum = k.exp_shift_sum(x, m, p, c);
    k.scale(p, 1.f / sum, c);
    total += std::log(double(sum)) - (double(x[label]) - double(m));
    p[label] -= 1.f;
    k.scale(p, inv_n, c);
  }
  return total;
}

void TrainingPlan::batch_norm_forward_all(size_t i, const float* in, const TrainTensors& t, int64_t n) {
  const TrainLayer& l = layers_[i];
  const BatchNormShape shape{n, l.channels, l.plane};
  float* mean = bn_stats_.data() + bn_offset_[size_t(l.index)];
  float* inv_std = mean + l.channels;
  batch_norm_stats(shape, in, mean, inv_std);  // inv_std holds the variance until the loop below
  float* rm = t.running_mean[size_t(l.index)];
  float* rv = t.running_var[size_t(l.index)];
  const double count = double(n * l.plane), unbiased = count / (count - 1), mom = l.momentum;
  for (int64_t ch = 0; ch < l.channels; ++ch) {
    const double variance = inv_std[ch];
    // The same double arithmetic as the host backends' batchNorm2dTrainStats.
    inv_std[ch] = float(1.0 / std::sqrt(variance + l.eps));
    if (rm && rv) {
      rm[ch] = float((1 - mom) * double(rm[ch]) + mom * double(mean[ch]));
      rv[ch] = float((1 - mom) * double(rv[ch]) + mom * variance * unbiased);
    }
  }
  const float* w = l.num_params > 0 ? t.param[size_t(l.first_param)] : nullptr;
  const float* b = l.num_params > 1 ? t.param[size_t(l.first_param) + 1] : nullptr;
  batch_norm_forward(shape, in, mean, inv_std, w, b, act(i, 0));
}

void TrainingPlan::batch_norm_backward_all(size_t i, const float* in, const TrainTensors& t, int64_t n) {
  const TrainLayer& l = layers_[i];
  const BatchNormShape shape{n, l.channels, l.plane};
  const float* mean = bn_stats_.data() + bn_offset_[size_t(l.index)];
  float* dw = l.num_params > 0 ? partial_.data() + param_offset_[size_t(l.first_param)] : nullptr;  // chunk 0's block
  float* db = l.num_params > 1 ? partial_.data() + param_offset_[size_t(l.first_param) + 1] : nullptr;
  const float* w = l.num_params > 0 ? t.param[size_t(l.first_param)] : nullptr;
  batch_norm_backward(shape, in, grad(i, 0), mean, mean + l.channels, w, true, i == 0 ? nullptr : grad(i - 1, 0), dw, db);
}

// grad = the chunks' blocks summed in chunk order; then the SGD update of the same slice.
void TrainingPlan::reduce_and_update(const TrainTensors& t, const TrainUpdate& u, int64_t chunks) {
  parallel_for(param_total_, kUpdateGrain, [&](int64_t a, int64_t b) {
    for (size_t slot = 0; slot < param_sizes_.size(); ++slot) {
      const int64_t lo = std::max(a, param_offset_[slot]), hi = std::min(b, param_offset_[slot] + param_sizes_[slot]);
      if (lo >= hi) continue;
      const int64_t off = lo - param_offset_[slot], len = hi - lo;
      float* g = t.grad[slot] + off;
      std::memcpy(g, partial_.data() + lo, size_t(len) * sizeof(float));
      if (!param_whole_batch_[slot]) {
        for (int64_t c = 1; c < chunks; ++c) axpy(len, 1.f, partial_.data() + c * param_total_ + lo, g);
      }
      if (u.sgd) {
        SgdStep o = u.step;
        o.first = u.first[slot] != 0;
        sgd_step(o, t.param[slot] + off, g, t.momentum[slot] ? t.momentum[slot] + off : nullptr, len);
      }
    }
  });
}

float TrainingPlan::step(const float* x, const int32_t* labels, int64_t n, const TrainTensors& t, const TrainUpdate& u,
                         float* logits) {
  check(t, u, n);
  if (!x || !labels) throw_type("fit: the step needs an input and labels");
  const int64_t classes = output_size();
  for (int64_t r = 0; r < n; ++r) {
    if (labels[r] < 0 || labels[r] >= classes)
      throw_range("fit: labels[" + s(r) + "] = " + s(labels[r]) + " is not a class index in [0, " + s(classes) + ")");
  }
  std::lock_guard<std::mutex> lock(mutex_);
  reserve(n);
  const int64_t chunks = chunks_for(n);
  std::vector<Chunk> cut(static_cast<size_t>(chunks));
  for (int64_t c = 0; c < chunks; ++c) cut[size_t(c)] = {n * c / chunks, n * (c + 1) / chunks - n * c / chunks};
  // Segments: layer ranges between BatchNorms (ends[k] is a BatchNorm, or the end).
  std::vector<size_t> ends;
  for (size_t i = 0; i < layers_.size(); ++i)
    if (layers_[i].op == TrainOp::batch_norm) ends.push_back(i);
  ends.push_back(layers_.size());
  auto input_of = [&](size_t i, int64_t i0) -> const float* {
    return i == 0 ? x + i0 * input_size() : act(i - 1, i0);
  };

  auto body = [&] {
    size_t begin = 0;
    for (size_t k = 0; k + 1 < ends.size(); ++k) {  // every segment that ends in a BatchNorm
      for_chunks(chunks, [&](int64_t c) {
        for (size_t i = begin; i < ends[k]; ++i) forward_layer(i, input_of(i, cut[size_t(c)].i0), cut[size_t(c)].i0, cut[size_t(c)].nb, t, n);
      });
      batch_norm_forward_all(ends[k], input_of(ends[k], 0), t, n);
      begin = ends[k] + 1;
    }
    // The last segment: forward, loss and backward chunk by chunk.
    const size_t last_begin = begin;
    for_chunks(chunks, [&](int64_t c) {
      const auto [i0, nb] = cut[size_t(c)];
      for (size_t i = last_begin; i < layers_.size(); ++i) forward_layer(i, input_of(i, i0), i0, nb, t, n);
      chunk_loss_[size_t(c)] = loss_chunk(labels, i0, nb, n);
      for (size_t i = layers_.size(); i-- > last_begin;) backward_layer(i, input_of(i, i0), i0, nb, t, n, c);
    });
    for (size_t k = ends.size() - 1; k-- > 0;) {  // back through each BatchNorm and the segment before it
      batch_norm_backward_all(ends[k], input_of(ends[k], 0), t, n);
      const size_t seg_begin = k == 0 ? 0 : ends[k - 1] + 1;
      for_chunks(chunks, [&](int64_t c) {
        for (size_t i = ends[k]; i-- > seg_begin;) backward_layer(i, input_of(i, cut[size_t(c)].i0), cut[size_t(c)].i0, cut[size_t(c)].nb, t, n, c);
      });
    }
    reduce_and_update(t, u, chunks);
  };
  if (num_threads() == 1 || n * flops_per_image_ < kSerialFlops) run_serially(body);
  else body();

  if (logits) std::memcpy(logits, act(layers_.size() - 1, 0), size_t(n * classes) * sizeof(float));
  double total = 0;
  for (int64_t c = 0; c < chunks; ++c) total += chunk_loss_[size_t(c)];
  return float(total / double(n));
}

}  // namespace convkit
