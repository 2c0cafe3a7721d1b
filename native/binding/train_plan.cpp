// The compiled training step (convkit/train_plan.h) for lib/compile/native-trainer.ts:
// planTrainCreate(layers, inSize) gives a handle; planTrainStep(plan, x, labels, n, tensors,
// stats, masks, sgd, first, logits) runs one step and returns the mean loss. tensors holds
// [param, grad, momentum | null] per parameter slot, stats [runningMean, runningVar] (or
// nulls) per BatchNorm, masks one Uint8Array per Dropout; sgd is null (gradients only) or a
// Float64Array [lr, momentum, dampening, weightDecay, nesterov] with first the per-slot
// first-update flags. Synchronous: fit yields to the event loop between steps.
#include <memory>
#include <string>

#include "args.h"
#include "call.h"
#include "convkit/train_plan.h"

namespace binding {
namespace {

using TrainPlanPtr = std::shared_ptr<convkit::TrainingPlan>;

const napi_type_tag kTrainPlanTag = {0x2b8d41f07c9e4a13ULL, 0xd35a6e2f90b1c847ULL};

[[noreturn]] void fail(convkit::ErrorKind kind, const char* fn, const std::string& what) {
  throw convkit::Error(kind, std::string(fn) + ": " + what);
}

TrainPlanPtr plan_arg(const Napi::CallbackInfo& info, const char* fn) {
  Napi::Value v = info[0];
  if (!v.IsExternal() || !v.As<Napi::Object>().CheckTypeTag(&kTrainPlanTag))
    fail(convkit::ErrorKind::type, fn, "plan must be a handle from planTrainCreate");
  return *v.As<Napi::External<TrainPlanPtr>>().Data();
}

convkit::TrainOp op_named(const std::string& name, const char* fn) {
  using convkit::TrainOp;
  static const std::pair<const char*, TrainOp> ops[] = {
      {"conv", TrainOp::conv},         {"linear", TrainOp::linear}, {"maxPool", TrainOp::max_pool},
      {"avgPool", TrainOp::avg_pool},   {"relu", TrainOp::relu},     {"batchNorm", TrainOp::batch_norm},
      {"dropout", TrainOp::dropout}};
  for (const auto& [n, op] : ops)
    if (name == n) return op;
  fail(convkit::ErrorKind::range, fn, "unknown layer op '" + name + "'");
}

double optional_double(const Napi::Object& o, const char* key, double fallback, const char* fn) {
  if (!o.Has(key)) return fallback;
  Napi::Value v = o.Get(key);
  if (!v.IsNumber()) fail(convkit::ErrorKind::type, fn, std::string(key) + " must be a number");
  return v.As<Napi::Number>().DoubleValue();
}

convkit::TrainLayer layer_from(const Napi::Object& o, const char* fn) {
  convkit::TrainLayer l;
  if (!o.Get("op").IsString()) fail(convkit::ErrorKind::type, fn, "a layer needs an op name");
  l.op = op_named(o.Get("op").As<Napi::String>().Utf8Value(), fn);
  if (o.Has("relu")) l.relu = boolean(o.Get("relu"), fn, "relu");
  if (o.Has("bias")) l.bias = boolean(o.Get("bias"), fn, "bias");
  if (l.op == convkit::TrainOp::conv) l.conv = conv_shape(o.Get("geometry").As<Napi::Object>(), fn);
  if (l.op == convkit::TrainOp::max_pool || l.op == convkit::TrainOp::avg_pool) l.pool = pool_shape(o.Get("geometry").As<Napi::Object>(), fn);
  if (o.Has("inFeatures")) l.in_features = integer(o.Get("inFeatures"), fn, "inFeatures");
  if (o.Has("outFeatures")) l.out_features = integer(o.Get("outFeatures"), fn, "outFeatures");
  if (o.Has("channels")) l.channels = integer(o.Get("channels"), fn, "channels");
  if (o.Has("plane")) l.plane = integer(o.Get("plane"), fn, "plane");
  l.eps = optional_double(o, "eps", l.eps, fn);
  l.momentum = optional_double(o, "momentum", l.momentum, fn);
  l.scale = float(optional_double(o, "scale", 1.0, fn));
  return l;
}

Napi::Value train_create(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    const char* fn = "planTrainCreate";
    if (!info[0].IsArray()) fail(convkit::ErrorKind::type, fn, "layers must be an array");
    Napi::Array layers = info[0].As<Napi::Array>();
    int64_t size = integer(info[1], fn, "inSize");
    auto plan = std::make_shared<convkit::TrainingPlan>();
    for (uint32_t i = 0; i < layers.Length(); ++i) {
      Napi::Value v = layers.Get(i);
      if (!v.IsObject()) fail(convkit::ErrorKind::type, fn, "layers[" + std::to_string(i) + "] must be an object");
      plan->add(layer_from(v.As<Napi::Object>(), fn), size);
      size = plan->output_size();
    }
    auto handle = Napi::External<TrainPlanPtr>::New(info.Env(), new TrainPlanPtr(std::move(plan)),
                                                    [](Napi::Env, TrainPlanPtr* p) { delete p; });
    handle.TypeTag(&kTrainPlanTag);
    return handle;
  });
}

// Element i of a JS array: a Float32Array of `length` elements, or null where allowed.
float* float_element(const Napi::Array& list, uint32_t i, int64_t length, bool nullable, const char* fn, const char* name) {
  Napi::Value v = list.Get(i);
  const std::string what = std::string(name) + "[" + std::to_string(i) + "]";
  if (nullable && v.IsNull()) return nullptr;
  Span<float> span = float_value(v, fn, what.c_str());
  expect_length(span, length, fn, what.c_str());
  return span.data;
}

Napi::Array array_arg(const Napi::CallbackInfo& info, size_t index, uint32_t length, const char* fn, const char* name) {
  if (!info[index].IsArray()) fail(convkit::ErrorKind::type, fn, std::string(name) + " must be an array");
  Napi::Array a = info[index].As<Napi::Array>();
  if (a.Length() != length)
    fail(convkit::ErrorKind::range, fn, std::string(name) + " has " + std::to_string(a.Length()) + " entries, expected " + std::to_string(length));
  return a;
}

Napi::Value train_step(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    const char* fn = "planTrainStep";
    TrainPlanPtr plan = plan_arg(info, fn);
    auto x = float_array(info, 1, fn, "x");
    auto labels = int32_array(info, 2, fn, "labels");
    const int64_t n = integer(info[3], fn, "n");
    if (n < 1) fail(convkit::ErrorKind::range, fn, "n must be >= 1");
    expect_length(x, checked_product({n, plan->input_size()}, fn, "x"), fn, "x");
    expect_length(labels, n, fn, "labels");

    convkit::TrainTensors t;
    const auto& sizes = plan->param_sizes();
    Napi::Array tensors = array_arg(info, 4, uint32_t(3 * sizes.size()), fn, "tensors");
    for (uint32_t i = 0; i < sizes.size(); ++i) {
      t.param.push_back(float_element(tensors, 3 * i, sizes[i], false, fn, "tensors"));
      t.grad.push_back(float_element(tensors, 3 * i + 1, sizes[i], false, fn, "tensors"));
      t.momentum.push_back(float_element(tensors, 3 * i + 2, sizes[i], true, fn, "tensors"));
    }
    Napi::Array stats = array_arg(info, 5, uint32_t(2 * plan->batch_norms()), fn, "stats");
    for (uint32_t i = 0; i < stats.Length(); i += 2) {
      // Lengths are checked against each layer's channels by the plan.
      Napi::Value m = stats.Get(i), v = stats.Get(i + 1);
      Span<float> mean = m.IsNull() ? Span<float>{} : float_value(m, fn, "stats[]");
      Span<float> var = v.IsNull() ? Span<float>{} : float_value(v, fn, "stats[]");
      t.running_mean.push_back(mean.data);
      t.running_var.push_back(var.data);
      t.running_mean_length.push_back(mean.length);
      t.running_var_length.push_back(var.length);
    }
    Napi::Array masks = array_arg(info, 6, uint32_t(plan->dropouts()), fn, "masks");
    for (uint32_t i = 0; i < masks.Length(); ++i) {
      Napi::Value m = masks.Get(i);
      if (!m.IsTypedArray() || m.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array)
        fail(convkit::ErrorKind::type, fn, "masks[" + std::to_string(i) + "] must be a Uint8Array");
      t.masks.push_back(m.As<Napi::Uint8Array>().Data());
      t.mask_length.push_back(int64_t(m.As<Napi::Uint8Array>().ElementLength()));
    }

    convkit::TrainUpdate u;
    if (!info[7].IsNull()) {
      if (!info[7].IsTypedArray() || info[7].As<Napi::TypedArray>().TypedArrayType() != napi_float64_array ||
          info[7].As<Napi::TypedArray>().ElementLength() != 5)
        fail(convkit::ErrorKind::type, fn, "sgd must be null or a Float64Array [lr, momentum, dampening, weightDecay, nesterov]");
      const double* o = info[7].As<Napi::Float64Array>().Data();
      u.sgd = true;
      u.step = {float(o[0]), float(o[1]), float(o[2]), float(o[3]), o[4] != 0, false};
      auto first = uint8_array(info, 8, fn, "first");
      expect_length(first, int64_t(sizes.size()), fn, "first");
      u.first = first.data;
    }
    auto logits = optional_float_array(info, 9, fn, "logits");
    if (logits.present()) expect_length(logits, checked_product({n, plan->output_size()}, fn, "logits"), fn, "logits");
    const float loss = plan->step(x.data, labels.data, n, t, u, logits.present() ? logits.data : nullptr);
    return Napi::Number::New(info.Env(), loss);
  });
}

}  // namespace

void register_train_plan(Napi::Env env, Napi::Object exports) {
  exports.Set("planTrainCreate", Napi::Function::New(env, train_create, "planTrainCreate"));
  exports.Set("planTrainStep", Napi::Function::New(env, train_step, "planTrainStep"));
}

}  // namespace binding
