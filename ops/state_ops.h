#pragma once

#include "ir/op.h"

namespace kiln::ops {
void register_state_ops(OpRegistry &registry);
}
