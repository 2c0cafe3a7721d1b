// The StridedCopy plan of lib/backend/types.ts, read from its `packed` Int32Array; shared by
// the cpu and cuda bindings of stridedCopy.
#pragma once
#include <napi.h>

#include "convkit/layout.h"

namespace binding {

// TypeError unless plan.packed is an Int32Array of 3 + 3 * rank values (rank, offsets, then
// shape, source strides, destination strides); the bounds are the core's to check.
convkit::StridedCopyShape strided_copy_shape(const Napi::Value& plan, const char* fn);

}  // namespace binding
