// dropout(x, mask, scale, y): y = x * (mask ? scale : 0), forward on x or backward on dy.
#include "args.h"
#include "call.h"
#include "convkit/dropout.h"

namespace binding {
namespace {

PreparedCall prepare_dropout(const Napi::CallbackInfo& info) {
  const char* fn = "dropout";
  auto x = float_array(info, 0, fn, "x");
  auto mask = uint8_array(info, 1, fn, "mask");
  float scale = number(info[2], fn, "scale");
  auto y = float_array(info, 3, fn, "y");
  expect_length(mask, x.length, fn, "mask");
  expect_length(y, x.length, fn, "y");
  return {[=] { convkit::dropout_apply(x.data, mask.data, scale, y.data, x.length); }, {}};
}

}  // namespace

void register_dropout(Napi::Env env, Napi::Object exports) {
  exports.Set("dropout", Napi::Function::New(env, expose_sync<prepare_dropout>, "dropout"));
}

}  // namespace binding
