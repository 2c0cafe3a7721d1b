// cpu tensor storage from the host caching allocator (native/src/host_memory.cpp):
//   hostAlloc(bytes, zero) -> ArrayBuffer over a cached block (null over the limit); V8
//                             collecting it returns the block
//   hostFree(arrayBuffer)  -> returns the block now (dispose) and detaches the buffer, so no JS
//                             view can reach memory that another tensor may get next
//   hostMemoryStats(), hostEmptyCache(), hostSetCacheLimit(bytes), hostSetPoison(on)
// The allocator's held plus cached bytes are reported to V8 as external memory, as they grow:
// without that, a loop that drops large results makes few JS objects, V8 collects rarely, and
// blocks come back too late, so calls keep getting fresh blocks (a 4 MiB matmul: 25 ms instead
// of 12 here, the host faulting the new memory in). Reporting every held block instead made V8
// start concurrent marking every few calls, which took a core from a 2-thread GEMM.
#include <mutex>
#include <unordered_map>

#include "args.h"
#include "call.h"
#include "convkit/host_memory.h"

namespace binding {
namespace {

namespace hm = convkit::host_memory;

// One per ArrayBuffer: whether JS has let go of its block (by hostFree or by GC), so that the
// later finalizer does not release it twice.
struct JsHolder {
  void* block;
  bool released = false;
};

// The state below is shared by every JS thread that loaded the addon (worker_threads).
std::mutex& state_mutex() {
  static auto* mutex = new std::mutex();
  return *mutex;
}

// The holder of each block that a live ArrayBuffer owns, for hostFree.
std::unordered_map<void*, JsHolder*>& holders() {
  static auto* map = new std::unordered_map<void*, JsHolder*>();
  return *map;
}

// What each isolate has been told of: the allocator's held plus cached bytes, which grow only
// when a block comes from the system.
std::unordered_map<napi_env, int64_t>& reported() {
  static auto* map = new std::unordered_map<napi_env, int64_t>();
  return *map;
}

void report_reserved(napi_env env) {
  hm::Stats s = hm::stats();
  int64_t reserved = s.allocated_bytes + s.cached_bytes;
  int64_t& told = reported()[env];
  if (reserved == told) return;
  int64_t ignored;
  napi_adjust_external_memory(env, reserved - told, &ignored);
  told = reserved;
}

void let_go(napi_env env, JsHolder* holder) {
  std::lock_guard<std::mutex> lock(state_mutex());
  if (holder->released) return;
  holder->released = true;
  auto it = holders().find(holder->block);
  if (it != holders().end() && it->second == holder) holders().erase(it);
  hm::release(holder->block);
  report_reserved(env);
}

void finalize(napi_env env, void*, void* hint) {
  auto* holder = static_cast<JsHolder*>(hint);
  let_go(env, holder);
  delete holder;
}

Napi::Value host_alloc(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    const char* fn = "hostAlloc";
    int64_t bytes = integer(info[0], fn, "bytes");
    if (bytes < 1) throw Napi::RangeError::New(info.Env(), "hostAlloc: bytes must be positive");
    bool zero = boolean(info[1], fn, "zero");
    void* block = hm::acquire(size_t(bytes), zero);
    if (!block) return info.Env().Null();  // over the limit: the caller uses a V8 array
    auto* holder = new JsHolder{block};
    napi_value result;
    napi_status status = napi_create_external_arraybuffer(info.Env(), block, size_t(bytes), finalize, holder, &result);
    if (status != napi_ok) {
      delete holder;
      hm::release(block);
      throw Napi::Error::New(info.Env(), "hostAlloc: could not create an external ArrayBuffer");
    }
    std::lock_guard<std::mutex> lock(state_mutex());
    holders()[block] = holder;
    report_reserved(info.Env());
    return Napi::Value(info.Env(), result);
  });
}

Napi::Value host_free(const Napi::CallbackInfo& info) {
  if (!info[0].IsArrayBuffer()) throw Napi::TypeError::New(info.Env(), "hostFree: buffer must be an ArrayBuffer");
  auto buffer = info[0].As<Napi::ArrayBuffer>();
  JsHolder* holder;
  {
    std::lock_guard<std::mutex> lock(state_mutex());
    auto it = holders().find(buffer.Data());
    if (it == holders().end()) return Napi::Boolean::New(info.Env(), false);  // not ours, or already freed
    holder = it->second;
  }
  let_go(info.Env(), holder);
  buffer.Detach();
  return Napi::Boolean::New(info.Env(), true);
}

Napi::Value memory_stats(const Napi::CallbackInfo& info) {
  hm::Stats s = hm::stats();
  Napi::Object out = Napi::Object::New(info.Env());
  auto set = [&](const char* key, int64_t value) { out.Set(key, Napi::Number::New(info.Env(), double(value))); };
  set("allocatedBytes", s.allocated_bytes);
  set("peakAllocatedBytes", s.peak_allocated_bytes);
  set("cachedBytes", s.cached_bytes);
  set("limitBytes", s.limit_bytes);
  set("allocations", s.allocations);
  set("cacheHits", s.cache_hits);
  set("systemAllocations", s.system_allocations);
  return out;
}

Napi::Value empty_cache(const Napi::CallbackInfo& info) {
  hm::empty_cache();
  return info.Env().Undefined();
}

Napi::Value set_cache_limit(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&] {
    int64_t bytes = integer(info[0], "hostSetCacheLimit", "bytes");
    if (bytes < 0) throw Napi::RangeError::New(info.Env(), "hostSetCacheLimit: bytes must be non-negative");
    hm::set_limit(bytes);
    return info.Env().Undefined();
  });
}

Napi::Value set_poison(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&] {
    hm::set_poison(boolean(info[0], "hostSetPoison", "on"));
    return info.Env().Undefined();
  });
}

}  // namespace

void register_host_memory(Napi::Env env, Napi::Object exports) {
  static const bool tuned = hm::tune_system_allocator();  // once per process, not per worker thread
  (void)tuned;
  exports.Set("hostAlloc", Napi::Function::New(env, host_alloc, "hostAlloc"));
  exports.Set("hostFree", Napi::Function::New(env, host_free, "hostFree"));
  exports.Set("hostMemoryStats", Napi::Function::New(env, memory_stats, "hostMemoryStats"));
  exports.Set("hostEmptyCache", Napi::Function::New(env, empty_cache, "hostEmptyCache"));
  exports.Set("hostSetCacheLimit", Napi::Function::New(env, set_cache_limit, "hostSetCacheLimit"));
  exports.Set("hostSetPoison", Napi::Function::New(env, set_poison, "hostSetPoison"));
}

}  // namespace binding
