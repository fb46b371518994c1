#pragma once

#include "ir/op.h"

namespace kiln::ops {
void register_shape_ops(OpRegistry &registry);
}
