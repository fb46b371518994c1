#pragma once

#include "ir/op.h"

namespace kiln::ops {
void register_activation_ops(OpRegistry &registry);
}
