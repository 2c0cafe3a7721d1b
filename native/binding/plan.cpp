// The compiled-model plan (convkit/plan.h) for lib/compile: planCreate(layers, inSize) gives a
// handle; planSetWeights(plan, i, w, bias|null), planRun(plan, x, n, y) and
// planRunAsync(plan, x, n, y) use it. The handle is type-tagged, so any other object is a
// TypeError; an async run holds the plan, so collecting the handle meanwhile is safe.
#include <memory>
#include <string>

#include "args.h"
#include "call.h"
#include "convkit/plan.h"

namespace binding {
namespace {

using PlanPtr = std::shared_ptr<convkit::InferencePlan>;

const napi_type_tag kPlanTag = {0x6f1c2a53d4e84b10ULL, 0x9a7e3c25b1d04f62ULL};

PlanPtr plan_arg(const Napi::CallbackInfo& info, const char* fn) {
  Napi::Value v = info[0];
  if (!v.IsExternal() || !v.As<Napi::Object>().CheckTypeTag(&kPlanTag))
    throw convkit::Error(convkit::ErrorKind::type, std::string(fn) + ": plan must be a handle from planCreate");
  return *v.As<Napi::External<PlanPtr>>().Data();
}

convkit::PlanOp op_named(const std::string& name, const char* fn) {
  using convkit::PlanOp;
  static const std::pair<const char*, PlanOp> ops[] = {
      {"conv", PlanOp::conv},       {"linear", PlanOp::linear},   {"maxPool", PlanOp::max_pool},
      {"avgPool", PlanOp::avg_pool}, {"channelAffine", PlanOp::channel_affine}, {"relu", PlanOp::relu},
      {"leakyRelu", PlanOp::leaky_relu}, {"sigmoid", PlanOp::sigmoid}, {"tanh", PlanOp::tanh},
      {"softmax", PlanOp::softmax}, {"save", PlanOp::save},       {"swap", PlanOp::swap},
      {"addSaved", PlanOp::add_saved}};
  for (const auto& [n, op] : ops)
    if (name == n) return op;
  throw convkit::Error(convkit::ErrorKind::range, std::string(fn) + ": unknown layer op '" + name + "'");
}

int64_t optional_integer(const Napi::Object& o, const char* key, const char* fn) {
  return o.Has(key) ? integer(o.Get(key), fn, key) : 0;
}

convkit::PlanLayer layer_from(const Napi::Object& o, const char* fn) {
  convkit::PlanLayer l;
  if (!o.Get("op").IsString()) throw convkit::Error(convkit::ErrorKind::type, std::string(fn) + ": a layer needs an op name");
  l.op = op_named(o.Get("op").As<Napi::String>().Utf8Value(), fn);
  if (o.Has("relu") && boolean(o.Get("relu"), fn, "relu")) l.epilogue = convkit::PlanEpilogue::relu;
  if (l.op == convkit::PlanOp::conv) l.conv = conv_shape(o.Get("geometry").As<Napi::Object>(), fn);
  if (l.op == convkit::PlanOp::max_pool || l.op == convkit::PlanOp::avg_pool)
    l.pool = pool_shape(o.Get("geometry").As<Napi::Object>(), fn);
  l.in_features = optional_integer(o, "inFeatures", fn);
  l.out_features = optional_integer(o, "outFeatures", fn);
  l.channels = optional_integer(o, "channels", fn);
  l.plane = optional_integer(o, "plane", fn);
  l.softmax_dim = optional_integer(o, "dim", fn);
  l.softmax_inner = optional_integer(o, "inner", fn);
  if (o.Has("slope")) l.slope = number(o.Get("slope"), fn, "slope");
  return l;
}

Napi::Value plan_create(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    const char* fn = "planCreate";
    if (!info[0].IsArray()) throw convkit::Error(convkit::ErrorKind::type, std::string(fn) + ": layers must be an array");
    Napi::Array layers = info[0].As<Napi::Array>();
    int64_t size = integer(info[1], fn, "inSize");
    auto plan = std::make_shared<convkit::InferencePlan>();
    for (uint32_t i = 0; i < layers.Length(); ++i) {
      Napi::Value v = layers.Get(i);
      if (!v.IsObject()) throw convkit::Error(convkit::ErrorKind::type, std::string(fn) + ": layers[" + std::to_string(i) + "] must be an object");
      plan->add(layer_from(v.As<Napi::Object>(), fn), size);
      size = plan->output_size();
    }
    auto handle = Napi::External<PlanPtr>::New(info.Env(), new PlanPtr(std::move(plan)),
                                               [](Napi::Env, PlanPtr* p) { delete p; });
    handle.TypeTag(&kPlanTag);
    return handle;
  });
}

Napi::Value plan_set_weights(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    const char* fn = "planSetWeights";
    PlanPtr plan = plan_arg(info, fn);
    const int64_t i = integer(info[1], fn, "layer");
    auto w = float_array(info, 2, fn, "weight");
    auto b = optional_float_array(info, 3, fn, "bias");
    if (i < 0) throw convkit::Error(convkit::ErrorKind::range, std::string(fn) + ": layer must be >= 0");
    plan->set_weights(size_t(i), w.data, w.length, b.present() ? b.data : nullptr, b.present() ? b.length : 0);
    return info.Env().Undefined();
  });
}

Napi::Value plan_flops_per_image(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    return Napi::Number::New(info.Env(), double(plan_arg(info, "planFlopsPerImage")->flops_per_image()));
  });
}

PreparedCall prepare_run(const Napi::CallbackInfo& info) {
  const char* fn = "planRun";
  PlanPtr plan = plan_arg(info, fn);
  auto x = float_array(info, 1, fn, "x");
  const int64_t n = integer(info[2], fn, "n");
  auto y = float_array(info, 3, fn, "y");
  if (n < 1) throw convkit::Error(convkit::ErrorKind::range, std::string(fn) + ": n must be >= 1");
  expect_length(x, checked_product({n, plan->input_size()}, fn, "x"), fn, "x");
  expect_length(y, checked_product({n, plan->output_size()}, fn, "y"), fn, "y");
  return {[plan, x, n, y] { plan->run(x.data, n, y.data); }, {x.owner, y.owner}};
}

}  // namespace

void register_plan(Napi::Env env, Napi::Object exports) {
  exports.Set("planCreate", Napi::Function::New(env, plan_create, "planCreate"));
  exports.Set("planSetWeights", Napi::Function::New(env, plan_set_weights, "planSetWeights"));
  exports.Set("planFlopsPerImage", Napi::Function::New(env, plan_flops_per_image, "planFlopsPerImage"));
  exports.Set("planRun", Napi::Function::New(env, expose_sync<prepare_run>, "planRun"));
  exports.Set("planRunAsync", Napi::Function::New(env, expose_async<prepare_run>, "planRunAsync"));
}

}  // namespace binding
