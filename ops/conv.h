#pragma once

#include "ir/op.h"

namespace kiln::ops {
void register_conv_ops(OpRegistry &registry);
}
