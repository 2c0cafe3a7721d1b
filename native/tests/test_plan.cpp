// InferencePlan against the same kernels called one by one on the whole batch: every layer
// kind, odd geometries, batch 1 to 67 (serial, one-layer-at-a-time and image-parallel paths),
// at 1 and 3 threads, on every ISA; residual blocks (save, swap, add); and the errors a bad
// plan gets.
#include <cstring>

#include "convkit/activation.h"
#include "convkit/error.h"
#include "convkit/gemm.h"
#include "convkit/plan.h"
#include "convkit/threads.h"
#include "test_util.h"

using namespace convkit;

namespace {

ConvShape conv(int64_t c, int64_t h, int64_t w, int64_t o, int64_t k, int64_t stride, int64_t pad, int64_t dilation,
               int64_t groups) {
  ConvShape s{1, c, h, w, o, k, k, stride, stride, pad, pad, pad, pad, dilation, dilation, groups, 0, 0};
  s.oh = conv_output_size(h, k, stride, pad, pad, dilation);
  s.ow = conv_output_size(w, k, stride, pad, pad, dilation);
  return s;
}

PoolShape pool(int64_t c, int64_t h, int64_t w, int64_t k, int64_t stride, int64_t pad, bool ceil) {
  PoolShape p{1, c, h, w, k, k, stride, stride, pad, pad, pad, pad, 1, 1, ceil, true, 0, 0};
  p.oh = pool_output_size(h, k, stride, pad, pad, 1, ceil);
  p.ow = pool_output_size(w, k, stride, pad, pad, 1, ceil);
  return p;
}

struct Model {
  InferencePlan plan;
  std::vector<PlanLayer> layers;          // as added (with sizes)
  std::vector<PlanWeights> weights;       // per layer
  std::vector<int64_t> saved;             // sizes put aside by save, while adding
};

void add(Model& m, PlanLayer l, std::mt19937& rng) {
  const int64_t in = m.layers.empty() ? 0 : m.layers.back().out_size;
  m.plan.add(l, in ? in : (l.op == PlanOp::conv ? l.conv.c * l.conv.h * l.conv.w : l.in_features));
  PlanWeights w;
  if (l.op == PlanOp::conv) {
    w.weight = test::random_vector(size_t(l.conv.o * (l.conv.c / l.conv.groups) * l.conv.kh * l.conv.kw), rng, -0.3f, 0.3f);
    w.bias = test::random_vector(size_t(l.conv.o), rng);
  } else if (l.op == PlanOp::linear) {
    w.weight = test::random_vector(size_t(l.in_features * l.out_features), rng, -0.2f, 0.2f);
    w.bias = test::random_vector(size_t(l.out_features), rng);
  } else if (l.op == PlanOp::channel_affine) {
    w.weight = test::random_vector(size_t(l.channels), rng, 0.5f, 1.5f);
    w.bias = test::random_vector(size_t(l.channels), rng);
  }
  const size_t i = m.layers.size();
  if (!w.weight.empty()) m.plan.set_weights(i, w.weight.data(), int64_t(w.weight.size()), w.bias.data(), int64_t(w.bias.size()));
  PlanLayer added = l;
  added.in_size = in ? in : m.plan.input_size();
  added.out_size = 0;
  m.layers.push_back(added);
  m.weights.push_back(std::move(w));
  // The plan computed out_size: recover it from a 1-image run's geometry.
  PlanLayer& back = m.layers.back();
  switch (l.op) {
    case PlanOp::conv: back.out_size = l.conv.o * l.conv.oh * l.conv.ow; break;
    case PlanOp::max_pool: case PlanOp::avg_pool: back.out_size = l.pool.c * l.pool.oh * l.pool.ow; break;
    case PlanOp::linear: back.out_size = l.out_features; break;
    case PlanOp::save: m.saved.push_back(back.in_size); back.out_size = back.in_size; break;
    case PlanOp::swap: back.out_size = m.saved.back(); m.saved.back() = back.in_size; break;
    case PlanOp::add_saved: m.saved.pop_back(); back.out_size = back.in_size; break;
    default: back.out_size = back.in_size;
  }
}

// The reference: each layer's kernel on the whole batch, the epilogue as its own pass.
std::vector<float> reference(const Model& m, const std::vector<float>& x, int64_t n) {
  std::vector<float> cur = x;
  std::vector<std::vector<float>> saved;
  for (size_t i = 0; i < m.layers.size(); ++i) {
    const PlanLayer& l = m.layers[i];
    const PlanWeights& w = m.weights[i];
    if (l.op == PlanOp::save) { saved.push_back(cur); continue; }
    if (l.op == PlanOp::swap) { cur.swap(saved.back()); continue; }
    std::vector<float> next(size_t(n * l.out_size));
    switch (l.op) {
      case PlanOp::conv: { ConvShape c = l.conv; c.n = n; conv2d_forward(c, cur.data(), w.weight.data(), w.bias.data(), next.data()); break; }
      case PlanOp::max_pool: { PoolShape p = l.pool; p.n = n; max_pool2d_forward(p, cur.data(), next.data(), nullptr); break; }
      case PlanOp::avg_pool: { PoolShape p = l.pool; p.n = n; avg_pool2d_forward(p, cur.data(), next.data()); break; }
      case PlanOp::linear:
        for (int64_t r = 0; r < n; ++r)
          for (int64_t o = 0; o < l.out_features; ++o) {
            double acc = w.bias[size_t(o)];
            for (int64_t k = 0; k < l.in_features; ++k) acc += double(cur[size_t(r * l.in_features + k)]) * w.weight[size_t(o * l.in_features + k)];
            next[size_t(r * l.out_features + o)] = float(acc);
          }
        break;
      case PlanOp::channel_affine:
        for (int64_t j = 0; j < n * l.in_size; ++j) {
          const int64_t ch = (j / l.plane) % l.channels;
          next[size_t(j)] = cur[size_t(j)] * w.weight[size_t(ch)] + w.bias[size_t(ch)];
        }
        break;
      case PlanOp::relu: relu_forward(cur.data(), next.data(), n * l.in_size); break;
      case PlanOp::leaky_relu: leaky_relu_forward(cur.data(), next.data(), n * l.in_size, l.slope); break;
      case PlanOp::sigmoid: sigmoid_forward(cur.data(), next.data(), n * l.in_size); break;
      case PlanOp::tanh: tanh_forward(cur.data(), next.data(), n * l.in_size); break;
      case PlanOp::softmax:
        softmax_forward(cur.data(), next.data(), n * l.in_size / (l.softmax_dim * l.softmax_inner), l.softmax_dim, l.softmax_inner);
        break;
      case PlanOp::add_saved:
        for (size_t j = 0; j < next.size(); ++j) next[j] = cur[j] + saved.back()[j];
        saved.pop_back();
        break;
      case PlanOp::save: case PlanOp::swap: break;  // handled above
    }
    if (l.epilogue == PlanEpilogue::relu) relu_forward(next.data(), next.data(), n * l.out_size);
    cur.swap(next);
  }
  return cur;
}

PlanLayer conv_layer(ConvShape c, bool relu) {
  PlanLayer l;
  l.op = PlanOp::conv;
  l.conv = c;
  l.epilogue = relu ? PlanEpilogue::relu : PlanEpilogue::none;
  return l;
}
PlanLayer pool_layer(PlanOp op, PoolShape p) {
  PlanLayer l;
  l.op = op;
  l.pool = p;
  return l;
}
PlanLayer linear_layer(int64_t in, int64_t out, bool relu) {
  PlanLayer l;
  l.op = PlanOp::linear;
  l.in_features = in;
  l.out_features = out;
  l.epilogue = relu ? PlanEpilogue::relu : PlanEpilogue::none;
  return l;
}
PlanLayer simple(PlanOp op) {
  PlanLayer l;
  l.op = op;
  l.slope = 0.1f;
  return l;
}

void check_model(const char* name, Model& m, std::mt19937& rng) {
  for (int threads : {1, 3}) {
    set_num_threads(threads);
    for (int64_t n : {1, 2, 5, 67}) {
      const auto x = test::random_vector(size_t(n * m.plan.input_size()), rng);
      std::vector<float> y(size_t(n * m.plan.output_size()), NAN);
      m.plan.run(x.data(), n, y.data());
      const std::string what = std::string(name) + " n=" + std::to_string(n) + " threads=" + std::to_string(threads);
      test::expect_close(what.c_str(), y, reference(m, x, n), 1e-4, 1e-4);
    }
  }
}

void test_lenet(std::mt19937& rng) {
  Model m;
  add(m, conv_layer(conv(1, 32, 32, 6, 5, 1, 0, 1, 1), true), rng);
  add(m, pool_layer(PlanOp::max_pool, pool(6, 28, 28, 2, 2, 0, false)), rng);
  add(m, conv_layer(conv(6, 14, 14, 16, 5, 1, 0, 1, 1), true), rng);
  add(m, pool_layer(PlanOp::max_pool, pool(16, 10, 10, 2, 2, 0, false)), rng);
  add(m, linear_layer(400, 120, true), rng);
  add(m, linear_layer(120, 84, true), rng);
  add(m, linear_layer(84, 10, false), rng);
  check_model("lenet", m, rng);
}

void test_every_kind(std::mt19937& rng) {
  Model m;
  add(m, conv_layer(conv(4, 11, 13, 6, 3, 2, 1, 1, 2), false), rng);   // stride, padding, groups
  add(m, simple(PlanOp::leaky_relu), rng);
  PlanLayer affine = simple(PlanOp::channel_affine);
  affine.channels = 6;
  affine.plane = 6 * 7;
  add(m, affine, rng);
  add(m, conv_layer(conv(6, 6, 7, 5, 3, 1, 2, 2, 1), true), rng);     // dilation
  add(m, pool_layer(PlanOp::avg_pool, pool(5, 6, 7, 3, 2, 1, true)), rng);
  add(m, simple(PlanOp::tanh), rng);
  add(m, linear_layer(5 * 4 * 4, 7, false), rng);
  add(m, simple(PlanOp::sigmoid), rng);
  PlanLayer soft = simple(PlanOp::softmax);
  soft.softmax_dim = 7;
  soft.softmax_inner = 1;
  add(m, soft, rng);
  check_model("every kind", m, rng);
}

// Residual blocks: identity (body of two convs), projection (a strided body and a strided 1x1
// shortcut, through swap), one block nested in another, and a block that ends the plan.
void test_residual(std::mt19937& rng) {
  Model m;
  add(m, conv_layer(conv(3, 9, 7, 4, 3, 1, 1, 1, 1), true), rng);
  add(m, simple(PlanOp::save), rng);
  add(m, conv_layer(conv(4, 9, 7, 4, 3, 1, 1, 1, 1), true), rng);
  add(m, conv_layer(conv(4, 9, 7, 4, 3, 1, 1, 1, 1), false), rng);
  add(m, simple(PlanOp::add_saved), rng);
  add(m, simple(PlanOp::relu), rng);
  add(m, simple(PlanOp::save), rng);
  add(m, conv_layer(conv(4, 9, 7, 6, 3, 2, 1, 1, 1), true), rng);
  add(m, simple(PlanOp::save), rng);  // nested: a block inside the projection block's body
  add(m, conv_layer(conv(6, 5, 4, 6, 1, 1, 0, 1, 2), false), rng);
  add(m, simple(PlanOp::add_saved), rng);
  add(m, simple(PlanOp::swap), rng);
  add(m, conv_layer(conv(4, 9, 7, 6, 1, 2, 0, 1, 1), false), rng);
  add(m, simple(PlanOp::add_saved), rng);
  add(m, simple(PlanOp::relu), rng);
  check_model("residual blocks", m, rng);
  Model last;  // the add writes the plan's output
  add(last, linear_layer(10, 8, true), rng);
  add(last, simple(PlanOp::save), rng);
  add(last, linear_layer(8, 8, false), rng);
  add(last, simple(PlanOp::add_saved), rng);
  check_model("a residual block at the end", last, rng);
}

void test_large_image(std::mt19937& rng) {
  Model m;  // big enough per image to take the layer-at-a-time path below 3 images
  add(m, conv_layer(conv(16, 40, 40, 32, 3, 1, 1, 1, 1), true), rng);
  add(m, pool_layer(PlanOp::max_pool, pool(32, 40, 40, 2, 2, 0, false)), rng);
  add(m, simple(PlanOp::relu), rng);
  check_model("large image", m, rng);
}

// A conv (with and without ReLU) and a 2x2, stride-2 max pool: conv outputs of odd H/W (the
// pool drops the last row/column), the direct kernel by pixels and by channels (whose weights
// the plan prepacks once, under whichever ISA was active then) and the im2col path, batch 1 to
// 300 at 1 and 2 threads. The result must be the kernels' bits exactly.
void test_conv_pool(std::mt19937& rng) {
  struct Case { const char* name; ConvShape c; bool relu; };
  const Case cases[] = {
      {"direct, odd 11x9", conv(3, 13, 11, 6, 3, 1, 0, 1, 1), true},
      {"by channels, odd 7x9", conv(6, 11, 13, 16, 5, 1, 0, 1, 1), false},
      {"by channels, 12x15 padded", conv(2, 12, 15, 16, 3, 1, 1, 1, 1), true},
      {"im2col, 7x7", conv(5, 9, 9, 40, 3, 1, 0, 1, 1), true},
      {"strided, 9x8", conv(3, 19, 17, 8, 3, 2, 1, 1, 1), false},
      {"large, 41x39", conv(4, 41, 39, 12, 3, 1, 1, 1, 1), true},
  };
  for (const Case& k : cases) {
    Model m;
    add(m, conv_layer(k.c, k.relu), rng);
    add(m, pool_layer(PlanOp::max_pool, pool(k.c.o, k.c.oh, k.c.ow, 2, 2, 0, false)), rng);
    for (int threads : {1, 2}) {
      set_num_threads(threads);
      for (int64_t n : {1, 2, 3, 67, 300}) {
        const auto x = test::random_vector(size_t(n * m.plan.input_size()), rng);
        std::vector<float> y(size_t(n * m.plan.output_size()), NAN);
        m.plan.run(x.data(), n, y.data());
        const auto want = reference(m, x, n);
        CHECK(y.size() == want.size() && std::memcmp(y.data(), want.data(), y.size() * sizeof(float)) == 0,
              "%s n=%lld threads=%d: differs from the kernels", k.name, (long long)n, threads);
      }
    }
  }
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

void test_errors() {
  expect_error("mismatched linear", [] {
    InferencePlan p;
    p.add(linear_layer(10, 4, false), 12);
  });
  expect_error("chain mismatch", [] {
    InferencePlan p;
    p.add(linear_layer(10, 4, false), 10);
    p.add(linear_layer(5, 2, false), 5);
  });
  expect_error("weights of the wrong size", [] {
    InferencePlan p;
    p.add(linear_layer(3, 2, false), 3);
    float w[5] = {};
    p.set_weights(0, w, 5, nullptr, 0);
  });
  expect_error("run before weights", [] {
    InferencePlan p;
    p.add(linear_layer(3, 2, false), 3);
    float x[3] = {}, y[2] = {};
    p.run(x, 1, y);
  });
  expect_error("an add with nothing put aside", [] {
    InferencePlan p;
    p.add(simple(PlanOp::add_saved), 3);
  });
  expect_error("an add of another size", [] {
    InferencePlan p;
    p.add(simple(PlanOp::save), 10);
    p.add(linear_layer(10, 4, false), 10);
    p.add(simple(PlanOp::add_saved), 4);
  });
  expect_error("a value put aside and never added", [] {
    InferencePlan p;
    p.add(simple(PlanOp::save), 3);
    p.add(simple(PlanOp::relu), 3);
    float x[3] = {}, y[3] = {};
    p.run(x, 1, y);
  });
  expect_error("weights for a relu", [] {
    InferencePlan p;
    p.add(simple(PlanOp::relu), 3);
    float w[3] = {};
    p.set_weights(0, w, 3, nullptr, 0);
  });
}

}  // namespace

int main() {
  std::mt19937 rng(5);
  test::for_each_isa([&](Isa) {
    test_lenet(rng);
    test_every_kind(rng);
    test_large_image(rng);
    test_conv_pool(rng);
    test_residual(rng);
  });
  test_errors();
  return test::finish("test_plan");
}
