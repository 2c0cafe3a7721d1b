// ISA and thread-pool controls.
#include <string>

#include "call.h"
#include "convkit/error.h"
#include "convkit/isa.h"
#include "convkit/scheduling.h"
#include "convkit/threads.h"

namespace binding {
namespace {

Napi::Value isa(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), convkit::isa_name(convkit::active_isa()));
}

Napi::Value isa_note(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), convkit::isa_note()); }

Napi::Value supported_isas(const Napi::CallbackInfo& info) {
  Napi::Array list = Napi::Array::New(info.Env());
  uint32_t i = 0;
  for (convkit::Isa isa : {convkit::Isa::scalar, convkit::Isa::avx2, convkit::Isa::avx512}) {
    if (convkit::isa_supported(isa)) list.Set(i++, Napi::String::New(info.Env(), convkit::isa_name(isa)));
  }
  return list;
}

Napi::Value set_isa(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&] {
    if (!info[0].IsString()) throw Napi::TypeError::New(info.Env(), "setIsa: name must be a string");
    std::string name = info[0].As<Napi::String>().Utf8Value();
    convkit::Isa wanted;
    if (!convkit::parse_isa(name.c_str(), &wanted)) {
      throw Napi::RangeError::New(info.Env(), "setIsa: '" + name + "' is not one of scalar, avx2, avx512");
    }
    convkit::set_active_isa(wanted);
    return info.Env().Undefined();
  });
}

Napi::Value num_threads(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), convkit::num_threads()); }

Napi::Value set_num_threads(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&] {
    if (!info[0].IsNumber()) throw Napi::TypeError::New(info.Env(), "setNumThreads: n must be a number");
    double n = info[0].As<Napi::Number>().DoubleValue();
    if (!(n >= 1 && n <= 1024 && n == static_cast<int>(n))) {
      throw Napi::RangeError::New(info.Env(), "setNumThreads: n must be an integer in [1, 1024], got " + std::to_string(n));
    }
    convkit::set_num_threads(static_cast<int>(n));
    return info.Env().Undefined();
  });
}

// For threads that exist to compute (a serving pool's workers): 'batch' makes their wake-ups
// stop preempting the event loop, as convkit's own compute threads' do; 'idle' lets them run
// only on CPU time nobody else wants. Returns the thread's policy afterwards.
Napi::Value schedule_this_thread(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&] {
    const std::string policy = info[0].IsString() ? info[0].As<Napi::String>().Utf8Value() : "";
    if (policy == "batch") convkit::batch_scheduling_on_this_thread();
    else if (policy == "idle") convkit::idle_scheduling_on_this_thread();
    else throw Napi::TypeError::New(info.Env(), "scheduleThisThread: policy must be 'batch' or 'idle'");
    return Napi::String::New(info.Env(), convkit::policy_name(convkit::this_thread_policy()));
  });
}

}  // namespace

void register_controls(Napi::Env env, Napi::Object exports) {
  exports.Set("isa", Napi::Function::New(env, isa, "isa"));
  exports.Set("isaNote", Napi::Function::New(env, isa_note, "isaNote"));
  exports.Set("supportedIsas", Napi::Function::New(env, supported_isas, "supportedIsas"));
  exports.Set("setIsa", Napi::Function::New(env, set_isa, "setIsa"));
  exports.Set("scheduleThisThread", Napi::Function::New(env, schedule_this_thread, "scheduleThisThread"));
  exports.Set("numThreads", Napi::Function::New(env, num_threads, "numThreads"));
  exports.Set("setNumThreads", Napi::Function::New(env, set_num_threads, "setNumThreads"));
}

}  // namespace binding
