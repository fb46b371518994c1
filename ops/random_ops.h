#pragma once

#include "ir/op.h"

namespace kiln::ops {
void register_random_ops(OpRegistry &registry);
}
