#pragma once

#include "ir/op.h"

namespace kiln::ops {
void register_matmul_ops(OpRegistry &registry);
}
