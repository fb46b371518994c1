#pragma once

#include "ir/op.h"

namespace kiln::ops {
void register_reduction_ops(OpRegistry &registry);
}
