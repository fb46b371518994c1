#pragma once

#include "ir/op.h"

namespace kiln::ops {
void register_pool_ops(OpRegistry &registry);
}
