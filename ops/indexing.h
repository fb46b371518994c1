#pragma once

#include "ir/op.h"

namespace kiln::ops {
void register_indexing_ops(OpRegistry &registry);
}
