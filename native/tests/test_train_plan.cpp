// TrainingPlan against the same kernels called one by one on the whole batch (forward,
// cross-entropy, backward, SGD with momentum): LeNet and a model with every layer kind
// (BatchNorm with and without affine and running statistics, Dropout, average pooling, a ReLU
// alone), batches of 1 to 37 (one chunk, uneven chunks), over several steps, at 1 and 3
// threads with the same bits, on every ISA; and the errors a bad step gets.
#include <cmath>
#include <cstring>

#include "convkit/activation.h"
#include "convkit/batchnorm.h"
#include "convkit/dropout.h"
#include "convkit/elementwise.h"
#include "convkit/error.h"
#include "convkit/gemm.h"
#include "convkit/loss.h"
#include "convkit/threads.h"
#include "convkit/train_plan.h"
#include "test_util.h"

using namespace convkit;

namespace {

ConvShape conv(int64_t c, int64_t h, int64_t w, int64_t o, int64_t k, int64_t stride, int64_t pad) {
  ConvShape s{1, c, h, w, o, k, k, stride, stride, pad, pad, pad, pad, 1, 1, 1, 0, 0};
  s.oh = conv_output_size(h, k, stride, pad, pad, 1);
  s.ow = conv_output_size(w, k, stride, pad, pad, 1);
  return s;
}

PoolShape pool(int64_t c, int64_t h, int64_t w, int64_t k, int64_t stride, int64_t pad, bool ceil) {
  PoolShape p{1, c, h, w, k, k, stride, stride, pad, pad, pad, pad, 1, 1, ceil, false, 0, 0};
  p.oh = pool_output_size(h, k, stride, pad, pad, 1, ceil);
  p.ow = pool_output_size(w, k, stride, pad, pad, 1, ceil);
  return p;
}

TrainLayer conv_layer(ConvShape c, bool relu, bool bias = true) {
  TrainLayer l;
  l.op = TrainOp::conv;
  l.conv = c;
  l.relu = relu;
  l.bias = bias;
  return l;
}
TrainLayer linear_layer(int64_t in, int64_t out, bool relu, bool bias = true) {
  TrainLayer l;
  l.op = TrainOp::linear;
  l.in_features = in;
  l.out_features = out;
  l.relu = relu;
  l.bias = bias;
  return l;
}
TrainLayer pool_layer(TrainOp op, PoolShape p) {
  TrainLayer l;
  l.op = op;
  l.pool = p;
  return l;
}
TrainLayer batch_norm(int64_t channels, int64_t plane, bool affine, double momentum) {
  TrainLayer l;
  l.op = TrainOp::batch_norm;
  l.channels = channels;
  l.plane = plane;
  l.bias = affine;
  l.momentum = momentum;
  return l;
}
TrainLayer simple(TrainOp op, float scale = 1.f) {
  TrainLayer l;
  l.op = op;
  l.scale = scale;
  return l;
}

int64_t out_size(const TrainLayer& l, int64_t in) {
  switch (l.op) {
    case TrainOp::conv: return l.conv.o * l.conv.oh * l.conv.ow;
    case TrainOp::linear: return l.out_features;
    case TrainOp::max_pool: case TrainOp::avg_pool: return l.pool.c * l.pool.oh * l.pool.ow;
    default: return in;
  }
}

// A model's layers and its memory: parameters, momentum buffers, running statistics.
struct Model {
  std::vector<TrainLayer> layers;
  std::vector<int64_t> in_sizes;
  std::vector<std::vector<float>> params, momentum;
  std::vector<std::vector<float>> running_mean, running_var;  // empty: not tracked
  std::vector<bool> tracked;
  int dropouts = 0;
};

void add(Model& m, TrainLayer l, int64_t in_size, std::mt19937& rng, bool tracked = true) {
  m.in_sizes.push_back(in_size);
  std::vector<std::vector<float>> p;
  if (l.op == TrainOp::conv) {
    p.push_back(test::random_vector(size_t(l.conv.o * l.conv.c * l.conv.kh * l.conv.kw), rng, -0.3f, 0.3f));
    if (l.bias) p.push_back(test::random_vector(size_t(l.conv.o), rng, -0.1f, 0.1f));
  } else if (l.op == TrainOp::linear) {
    p.push_back(test::random_vector(size_t(l.in_features * l.out_features), rng, -0.2f, 0.2f));
    if (l.bias) p.push_back(test::random_vector(size_t(l.out_features), rng, -0.1f, 0.1f));
  } else if (l.op == TrainOp::batch_norm) {
    if (l.bias) {
      p.push_back(test::random_vector(size_t(l.channels), rng, 0.5f, 1.5f));
      p.push_back(test::random_vector(size_t(l.channels), rng, -0.2f, 0.2f));
    }
    m.running_mean.push_back(tracked ? test::random_vector(size_t(l.channels), rng, -0.1f, 0.1f) : std::vector<float>());
    m.running_var.push_back(tracked ? test::random_vector(size_t(l.channels), rng, 0.8f, 1.2f) : std::vector<float>());
  } else if (l.op == TrainOp::dropout) {
    ++m.dropouts;
  }
  for (auto& v : p) {
    m.momentum.emplace_back(v.size(), 0.f);
    m.params.push_back(std::move(v));
  }
  m.layers.push_back(l);
}

// One step on the whole batch with each kernel called once per layer; grads are returned,
// the update is applied to m.
struct Step {
  float loss;
  std::vector<float> logits;
  std::vector<std::vector<float>> grads;
};

Step reference_step(Model& m, const std::vector<float>& x, const std::vector<int32_t>& labels, int64_t n,
                    const std::vector<std::vector<uint8_t>>& masks, const SgdStep& sgd, bool first) {
  const size_t L = m.layers.size();
  std::vector<std::vector<float>> act(L);
  std::vector<std::vector<int32_t>> argmax(L);
  std::vector<std::vector<float>> bn_mean(L), bn_inv(L);
  std::vector<int> first_slot(L);
  int slot = 0, bn = 0, drop = 0;
  std::vector<int> bn_index(L), drop_index(L);
  for (size_t i = 0; i < L; ++i) {
    const TrainLayer& l = m.layers[i];
    first_slot[i] = slot;
    slot += l.op == TrainOp::conv || l.op == TrainOp::linear ? (l.bias ? 2 : 1) : (l.op == TrainOp::batch_norm && l.bias ? 2 : 0);
    bn_index[i] = l.op == TrainOp::batch_norm ? bn++ : -1;
    drop_index[i] = l.op == TrainOp::dropout ? drop++ : -1;
  }
  auto in_of = [&](size_t i) -> const float* { return i == 0 ? x.data() : act[i - 1].data(); };
  auto param = [&](size_t i, int k) -> float* { return m.params[size_t(first_slot[i] + k)].data(); };
  for (size_t i = 0; i < L; ++i) {
    const TrainLayer& l = m.layers[i];
    const int64_t in = m.in_sizes[i], out = out_size(l, in);
    act[i].assign(size_t(n * out), 0.f);
    float* y = act[i].data();
    switch (l.op) {
      case TrainOp::conv: { ConvShape c = l.conv; c.n = n; conv2d_forward(c, in_of(i), param(i, 0), l.bias ? param(i, 1) : nullptr, y); break; }
      case TrainOp::linear:
        sgemm(false, true, n, out, in, 1.f, in_of(i), in, param(i, 0), in, 0.f, y, out);
        if (l.bias) for (int64_t r = 0; r < n; ++r) axpy(out, 1.f, param(i, 1), y + r * out);
        break;
      case TrainOp::max_pool: { PoolShape p = l.pool; p.n = n; argmax[i].resize(size_t(n * out)); max_pool2d_forward(p, in_of(i), y, argmax[i].data()); break; }
      case TrainOp::avg_pool: { PoolShape p = l.pool; p.n = n; avg_pool2d_forward(p, in_of(i), y); break; }
      case TrainOp::relu: relu_forward(in_of(i), y, n * in); break;
      case TrainOp::dropout: dropout_apply(in_of(i), masks[size_t(drop_index[i])].data(), l.scale, y, n * in); break;
      case TrainOp::batch_norm: {
        const BatchNormShape s{n, l.channels, l.plane};
        bn_mean[i].resize(size_t(l.channels));
        bn_inv[i].resize(size_t(l.channels));
        std::vector<float> var(size_t(l.channels));
        batch_norm_stats(s, in_of(i), bn_mean[i].data(), var.data());
        const double count = double(n * l.plane);
        auto& rm = m.running_mean[size_t(bn_index[i])];
        auto& rv = m.running_var[size_t(bn_index[i])];
        for (int64_t ch = 0; ch < l.channels; ++ch) {
          bn_inv[i][size_t(ch)] = float(1.0 / std::sqrt(double(var[size_t(ch)]) + l.eps));
          if (!rm.empty()) {
            rm[size_t(ch)] = float((1 - l.momentum) * rm[size_t(ch)] + l.momentum * bn_mean[i][size_t(ch)]);
            rv[size_t(ch)] = float((1 - l.momentum) * rv[size_t(ch)] + l.momentum * double(var[size_t(ch)]) * (count / (count - 1)));
          }
        }
        batch_norm_forward(s, in_of(i), bn_mean[i].data(), bn_inv[i].data(), l.bias ? param(i, 0) : nullptr,
                           l.bias ? param(i, 1) : nullptr, y);
        break;
      }
    }
    if (l.relu) relu_forward(y, y, n * out);
  }
  Step r;
  const int64_t classes = out_size(m.layers.back(), m.in_sizes.back());
  r.logits = act.back();
  std::vector<float> probs(size_t(n * classes)), g(size_t(n * classes));
  r.loss = cross_entropy_forward(r.logits.data(), labels.data(), n, classes, probs.data());
  cross_entropy_backward(probs.data(), labels.data(), n, classes, 1.f / float(n), g.data());
  r.grads.resize(m.params.size());
  for (size_t k = 0; k < m.params.size(); ++k) r.grads[k].assign(m.params[k].size(), 0.f);
  for (size_t i = L; i-- > 0;) {
    const TrainLayer& l = m.layers[i];
    const int64_t in = m.in_sizes[i], out = out_size(l, in);
    if (l.relu) relu_backward(act[i].data(), g.data(), g.data(), n * out);
    std::vector<float> dx(i == 0 ? 0 : size_t(n * in));
    float* dxp = i == 0 ? nullptr : dx.data();
    float* dw = first_slot[i] < int(r.grads.size()) ? r.grads[size_t(first_slot[i])].data() : nullptr;
    float* db = first_slot[i] + 1 < int(r.grads.size()) ? r.grads[size_t(first_slot[i] + 1)].data() : nullptr;
    switch (l.op) {
      case TrainOp::conv: { ConvShape c = l.conv; c.n = n; conv2d_backward(c, in_of(i), param(i, 0), g.data(), dxp, dw, l.bias ? db : nullptr); break; }
      case TrainOp::linear:
        sgemm(true, false, out, in, n, 1.f, g.data(), out, in_of(i), in, 0.f, dw, in);
        if (l.bias) for (int64_t rr = 0; rr < n; ++rr) axpy(out, 1.f, g.data() + rr * out, db);
        if (dxp) sgemm(false, false, n, in, out, 1.f, g.data(), out, param(i, 0), in, 0.f, dxp, in);
        break;
      case TrainOp::max_pool: if (dxp) { PoolShape p = l.pool; p.n = n; max_pool2d_backward(p, g.data(), argmax[i].data(), dxp); } break;
      case TrainOp::avg_pool: if (dxp) { PoolShape p = l.pool; p.n = n; avg_pool2d_backward(p, g.data(), dxp); } break;
      case TrainOp::relu: if (dxp) relu_backward(in_of(i), g.data(), dxp, n * in); break;
      case TrainOp::dropout: if (dxp) dropout_apply(g.data(), masks[size_t(drop_index[i])].data(), l.scale, dxp, n * in); break;
      case TrainOp::batch_norm:
        batch_norm_backward({n, l.channels, l.plane}, in_of(i), g.data(), bn_mean[i].data(), bn_inv[i].data(),
                            l.bias ? param(i, 0) : nullptr, true, dxp, l.bias ? dw : nullptr, l.bias ? db : nullptr);
        break;
    }
    g.swap(dx);
  }
  for (size_t k = 0; k < m.params.size(); ++k) {
    SgdStep o = sgd;
    o.first = first;
    sgd_step(o, m.params[k].data(), r.grads[k].data(), m.momentum[k].data(), int64_t(m.params[k].size()));
  }
  return r;
}

// One step of the plan on m's memory.
Step plan_step(TrainingPlan& plan, Model& m, const std::vector<float>& x, const std::vector<int32_t>& labels, int64_t n,
               const std::vector<std::vector<uint8_t>>& masks, const SgdStep& sgd, bool first) {
  Step r;
  TrainTensors t;
  r.grads.resize(m.params.size());
  for (size_t k = 0; k < m.params.size(); ++k) {
    r.grads[k].assign(m.params[k].size(), NAN);  // every element must be written
    t.param.push_back(m.params[k].data());
    t.grad.push_back(r.grads[k].data());
    t.momentum.push_back(m.momentum[k].data());
  }
  for (size_t b = 0; b < m.running_mean.size(); ++b) {
    t.running_mean.push_back(m.running_mean[b].empty() ? nullptr : m.running_mean[b].data());
    t.running_var.push_back(m.running_var[b].empty() ? nullptr : m.running_var[b].data());
    t.running_mean_length.push_back(int64_t(m.running_mean[b].size()));
    t.running_var_length.push_back(int64_t(m.running_var[b].size()));
  }
  for (const auto& mask : masks) {
    t.masks.push_back(mask.data());
    t.mask_length.push_back(int64_t(mask.size()));
  }
  std::vector<uint8_t> firsts(m.params.size(), first ? 1 : 0);
  TrainUpdate u;
  u.sgd = true;
  u.step = sgd;
  u.first = firsts.data();
  const int64_t classes = out_size(m.layers.back(), m.in_sizes.back());
  r.logits.assign(size_t(n * classes), NAN);
  r.loss = plan.step(x.data(), labels.data(), n, t, u, r.logits.data());
  return r;
}

std::vector<std::vector<uint8_t>> draw_masks(const Model& m, int64_t n, std::mt19937& rng) {
  std::vector<std::vector<uint8_t>> masks;
  for (size_t i = 0; i < m.layers.size(); ++i) {
    if (m.layers[i].op != TrainOp::dropout) continue;
    std::vector<uint8_t> mask(size_t(n * m.in_sizes[i]));
    for (auto& v : mask) v = rng() % 3 != 0;
    masks.push_back(std::move(mask));
  }
  return masks;
}

// Three steps of plan and reference from the same start, at batch n and `threads` threads;
// returns the plan's final parameters (for the thread-count comparison).
std::vector<std::vector<float>> check_model(const char* name, const Model& start, int64_t n, int threads, std::mt19937& rng) {
  set_num_threads(threads);
  TrainingPlan plan;
  for (size_t i = 0; i < start.layers.size(); ++i) plan.add(start.layers[i], start.in_sizes[i]);
  Model a = start, b = start;
  const int64_t classes = out_size(start.layers.back(), start.in_sizes.back());
  std::mt19937 data_rng(unsigned(n) * 7 + 1);
  const SgdStep sgd{0.05f, 0.9f, 0.f, 1e-3f, false, false};
  for (int s = 0; s < 3; ++s) {
    std::vector<float> x = test::random_vector(size_t(n * start.in_sizes[0]), data_rng);
    std::vector<int32_t> labels(static_cast<size_t>(n));
    for (auto& v : labels) v = int32_t(data_rng() % uint32_t(classes));
    auto masks = draw_masks(start, n, data_rng);
    Step got = plan_step(plan, a, x, labels, n, masks, sgd, s == 0);
    Step want = reference_step(b, x, labels, n, masks, sgd, s == 0);
    const std::string what = std::string(name) + " n=" + std::to_string(n) + " t=" + std::to_string(threads) + " step " + std::to_string(s);
    CHECK(std::fabs(got.loss - want.loss) <= 1e-5 * (1 + std::fabs(want.loss)), "%s: loss %g, want %g", what.c_str(), got.loss, want.loss);
    test::expect_close((what + " logits").c_str(), got.logits, want.logits, 1e-4, 1e-4);
    for (size_t k = 0; k < want.grads.size(); ++k) {
      test::expect_close((what + " grad " + std::to_string(k)).c_str(), got.grads[k], want.grads[k], 1e-4, 1e-3);
      test::expect_close((what + " param " + std::to_string(k)).c_str(), a.params[k], b.params[k], 1e-5, 1e-4);
      test::expect_close((what + " momentum " + std::to_string(k)).c_str(), a.momentum[k], b.momentum[k], 1e-4, 1e-3);
    }
    for (size_t k = 0; k < b.running_mean.size(); ++k) {
      test::expect_close((what + " running mean").c_str(), a.running_mean[k], b.running_mean[k], 1e-5, 1e-4);
      test::expect_close((what + " running var").c_str(), a.running_var[k], b.running_var[k], 1e-5, 1e-4);
    }
  }
  return a.params;
}

Model lenet(std::mt19937& rng) {
  Model m;
  add(m, conv_layer(conv(1, 32, 32, 6, 5, 1, 0), true), 1024, rng);
  add(m, pool_layer(TrainOp::max_pool, pool(6, 28, 28, 2, 2, 0, false)), 6 * 28 * 28, rng);
  add(m, conv_layer(conv(6, 14, 14, 16, 5, 1, 0), true), 6 * 14 * 14, rng);
  add(m, pool_layer(TrainOp::max_pool, pool(16, 10, 10, 2, 2, 0, false)), 16 * 5 * 5 * 4, rng);
  add(m, linear_layer(400, 120, true), 400, rng);
  add(m, linear_layer(120, 84, true), 120, rng);
  add(m, linear_layer(84, 10, false), 84, rng);
  return m;
}

// conv (no bias) -> BatchNorm -> ReLU -> Dropout -> avg pool -> BatchNorm (plain, untracked)
// -> conv (stride 2, padded) -> max pool (ceil) -> flatten -> dropout -> linear (no bias) + relu -> linear
Model every_kind(std::mt19937& rng) {
  Model m;
  add(m, conv_layer(conv(3, 9, 11, 8, 3, 1, 1), false, false), 3 * 9 * 11, rng);
  add(m, batch_norm(8, 9 * 11, true, 0.1), 8 * 9 * 11, rng);
  add(m, simple(TrainOp::relu), 8 * 9 * 11, rng);
  add(m, simple(TrainOp::dropout, 1.f / 0.7f), 8 * 9 * 11, rng);
  add(m, pool_layer(TrainOp::avg_pool, pool(8, 9, 11, 2, 2, 1, true)), 8 * 9 * 11, rng);
  add(m, batch_norm(8, 5 * 6, false, 0.3), 8 * 5 * 6, rng, false);
  add(m, conv_layer(conv(8, 5, 6, 6, 3, 2, 1), true), 8 * 5 * 6, rng);
  add(m, pool_layer(TrainOp::max_pool, pool(6, 3, 3, 2, 1, 0, true)), 6 * 3 * 3, rng);
  add(m, simple(TrainOp::dropout, 2.f), 6 * 2 * 2, rng);
  add(m, linear_layer(24, 7, true, false), 24, rng);
  add(m, linear_layer(7, 4, false), 7, rng);
  return m;
}

// conv + relu -> max pool with pads past its kernel (importOnnx's pools: corner windows lie wholly
// in the padding, argmax -1, through the pool's fused ReLU backward) -> relu -> linear
Model onnx_pads(std::mt19937& rng) {
  Model m;
  add(m, conv_layer(conv(2, 5, 6, 3, 3, 1, 1), true), 2 * 5 * 6, rng);
  add(m, pool_layer(TrainOp::max_pool, pool(3, 5, 6, 2, 1, 2, false)), 3 * 5 * 6, rng);
  add(m, simple(TrainOp::relu), 3 * 8 * 9, rng);
  add(m, linear_layer(3 * 8 * 9, 4, false), 3 * 8 * 9, rng);
  return m;
}

template <class F>
void expect_error(const char* what, F&& fn) {
  bool threw = false;
  try {
    fn();
  } catch (const Error&) {
    threw = true;
  }
  CHECK(threw, "%s: no convkit::Error", what);
}

void test_errors(std::mt19937& rng) {
  expect_error("mismatched linear", [] {
    TrainingPlan p;
    p.add(linear_layer(10, 4, false), 12);
  });
  expect_error("chain mismatch", [] {
    TrainingPlan p;
    p.add(linear_layer(10, 4, false), 10);
    p.add(linear_layer(5, 2, false), 5);
  });
  expect_error("dropout scale below 1", [] {
    TrainingPlan p;
    p.add(simple(TrainOp::dropout, 0.5f), 4);
  });
  Model m;
  add(m, linear_layer(3, 2, false), 3, rng);
  TrainingPlan p;
  p.add(m.layers[0], 3);
  std::vector<float> x(6), g0(6), g1(2);
  std::vector<int32_t> labels = {0, 2};
  TrainTensors t;
  t.param = {m.params[0].data(), m.params[1].data()};
  t.grad = {g0.data(), g1.data()};
  t.momentum = {nullptr, nullptr};
  expect_error("label out of range", [&] { p.step(x.data(), labels.data(), 2, t, {}, nullptr); });
  labels[1] = 1;
  p.step(x.data(), labels.data(), 2, t, {}, nullptr);  // the same call with good labels runs
  TrainUpdate u;
  u.sgd = true;
  u.step = {0.1f, 0.9f, 0.f, 0.f, false, false};
  uint8_t first[2] = {1, 1};
  u.first = first;
  expect_error("momentum without a buffer", [&] { p.step(x.data(), labels.data(), 2, t, u, nullptr); });
  TrainTensors missing = t;
  missing.grad.pop_back();
  expect_error("a missing gradient", [&] { p.step(x.data(), labels.data(), 2, missing, {}, nullptr); });
  expect_error("an empty batch", [&] { p.step(x.data(), labels.data(), 0, t, {}, nullptr); });

  TrainingPlan bn;
  bn.add(batch_norm(2, 1, false, 0.1), 2);
  bn.add(linear_layer(2, 2, false), 2);
  TrainTensors tb;
  std::vector<float> w(4), b(2), gw(4), gb(2), rm(3), rv(3);
  tb.param = {w.data(), b.data()};
  tb.grad = {gw.data(), gb.data()};
  tb.momentum = {nullptr, nullptr};
  tb.running_mean = {rm.data()};
  tb.running_var = {rv.data()};
  tb.running_mean_length = {3};
  tb.running_var_length = {3};
  std::vector<float> xb(4);
  std::vector<int32_t> lb = {0, 1};
  expect_error("running statistics of the wrong length", [&] { bn.step(xb.data(), lb.data(), 2, tb, {}, nullptr); });
  tb.running_mean_length = tb.running_var_length = {2};
  expect_error("batch norm of one value per channel", [&] { bn.step(xb.data(), lb.data(), 1, tb, {}, nullptr); });
  bn.step(xb.data(), lb.data(), 2, tb, {}, nullptr);
}

}  // namespace

int main() {
  std::mt19937 rng(11);
  const Model net = lenet(rng);
  const Model every = every_kind(rng);
  test::for_each_isa([&](Isa) {
    for (int64_t n : {1, 5, 37}) {
      const auto one = check_model("lenet", net, n, 1, rng);
      const auto three = check_model("lenet", net, n, 3, rng);
      for (size_t k = 0; k < one.size(); ++k) CHECK(one[k] == three[k], "lenet n=%lld: param %zu differs between 1 and 3 threads", (long long)n, k);
    }
    for (int64_t n : {2, 13}) {
      const auto one = check_model("every kind", every, n, 1, rng);
      const auto three = check_model("every kind", every, n, 3, rng);
      for (size_t k = 0; k < one.size(); ++k) CHECK(one[k] == three[k], "every kind n=%lld: param %zu differs between 1 and 3 threads", (long long)n, k);
    }
  });
  const Model padded = onnx_pads(rng);
  for (int64_t n : {1, 4}) check_model("onnx pads", padded, n, 2, rng);
  set_num_threads(hardware_threads());
  test_errors(rng);
  return test::finish("test_train_plan");
}
