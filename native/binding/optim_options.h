// The options object of sgdStep / adamStep / rmspropStep (SgdStepOptions, AdamStepOptions,
// RmspropStepOptions in lib/backend/types.ts), read into the core's structs. Shared by the
// cpu and cuda bindings, so both accept and reject exactly the same arguments.
#pragma once
#include <napi.h>

#include "convkit/optim.h"

namespace binding {

// has_buf: whether the momentum buffer argument was given (TypeError if momentum needs it).
convkit::SgdStep sgd_options(const Napi::Object& o, bool has_buf, const char* fn);
// RangeError unless step >= 1.
convkit::AdamStep adam_options(const Napi::Object& o, const char* fn);
// has_momentum_buffer: as has_buf above, for momentum > 0.
convkit::RmspropStep rmsprop_options(const Napi::Object& o, bool has_momentum_buffer, const char* fn);

}  // namespace binding
