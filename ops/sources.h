#pragma once

#include "ir/op.h"

namespace kiln::ops {
void register_source_ops(OpRegistry &registry);
}
