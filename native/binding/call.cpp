#include "call.h"

#include <new>
#include <string>

#include "convkit/denormals.h"
#include "convkit/error.h"
#include "convkit/host_memory.h"
#include "convkit/scheduling.h"

namespace binding {
namespace {

enum class Failure { none, type, range, other };

// Runs a prepared kernel on the libuv pool and settles a Promise. Holding persistent
// references keeps the typed arrays from being collected while native code uses them, and a
// hold on each block of the host cache keeps a tensor disposed meanwhile from handing its
// memory to another (or the cache from unmapping it) before the kernel is done.
class KernelWorker : public Napi::AsyncWorker {
 public:
  KernelWorker(const Napi::Env& env, PreparedCall call)
      : Napi::AsyncWorker(env, "convkit.kernel"), deferred_(Napi::Promise::Deferred::New(env)), work_(std::move(call.work)) {
    for (auto& buffer : call.buffers) {
      buffers_.push_back(Napi::Persistent(buffer.As<Napi::Object>()));
      void* block = buffer.IsTypedArray() ? buffer.As<Napi::TypedArray>().ArrayBuffer().Data() : nullptr;
      if (block && convkit::host_memory::block_size(block) > 0) {
        convkit::host_memory::retain(block);
        blocks_.push_back(block);
      }
    }
  }

  ~KernelWorker() override {
    for (void* block : blocks_) convkit::host_memory::release(block);
  }

  Napi::Promise promise() { return deferred_.Promise(); }

 protected:
  void Execute() override {
    convkit::FlushDenormalsScope flush;
    convkit::batch_scheduling_on_this_thread();  // from the next call on, its wake-up does not preempt the event loop
    try {
      work_();
    } catch (const convkit::Error& e) {
      fail(e.kind == convkit::ErrorKind::type ? Failure::type : Failure::range, e.what());
    } catch (const std::bad_alloc&) {
      fail(Failure::range, "out of memory");
    } catch (const std::exception& e) {
      fail(Failure::other, e.what());
    }
  }

  void OnOK() override { deferred_.Resolve(Env().Undefined()); }

  void OnError(const Napi::Error&) override {
    Napi::Env env = Env();
    switch (failure_) {
      case Failure::type: deferred_.Reject(Napi::TypeError::New(env, message_).Value()); break;
      case Failure::range: deferred_.Reject(Napi::RangeError::New(env, message_).Value()); break;
      default: deferred_.Reject(Napi::Error::New(env, message_).Value()); break;
    }
  }

 private:
  void fail(Failure failure, const std::string& message) {
    failure_ = failure;
    message_ = message;
    SetError(message);
  }

  Napi::Promise::Deferred deferred_;
  std::function<void()> work_;
  std::vector<Napi::ObjectReference> buffers_;
  std::vector<void*> blocks_;  // host-cache blocks held until the worker is gone
  Failure failure_ = Failure::none;
  std::string message_;
};

}  // namespace

Napi::Value guarded(const Napi::Env& env, const std::function<Napi::Value()>& body) {
  convkit::FlushDenormalsScope flush;  // native arithmetic only; restored before JS runs again
  try {
    return body();
  } catch (const Napi::Error&) {
    throw;
  } catch (const convkit::Error& e) {
    if (e.kind == convkit::ErrorKind::type) throw Napi::TypeError::New(env, e.what());
    throw Napi::RangeError::New(env, e.what());
  } catch (const std::bad_alloc&) {
    throw Napi::RangeError::New(env, "out of memory");
  } catch (const std::exception& e) {
    throw Napi::Error::New(env, e.what());
  }
}

Napi::Value queue_async(const Napi::Env& env, PreparedCall call) {
  auto* worker = new KernelWorker(env, std::move(call));  // deletes itself when settled
  Napi::Promise promise = worker->promise();
  worker->Queue();
  return promise;
}

}  // namespace binding
