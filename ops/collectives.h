#pragma once

#include "ir/op.h"

namespace kiln::ops {
void register_collective_ops(OpRegistry &registry);
}
