#pragma once

#include "ir/op.h"

#include <string>
#include <string_view>

namespace kiln::ops {
void register_indexing_ops(OpRegistry &registry);

// Element k of i32 or i64 indices at `indices`, exactly.
int64_t index_at(const void *indices, DType dtype, int64_t k);

// What a run says of an index outside [0, limit) at flat `position` of the
// indices `input` (of `shape`), compiled or reference: "index 10 at row 3
// of 'y' is outside [0, 10)"; a multi-dim position reads "at [3, 5]".
std::string bad_index_message(int64_t value, int64_t position, const Shape &shape,
                              std::string_view input, int64_t limit);
} // namespace kiln::ops
