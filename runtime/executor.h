// Runs compiled kernels on the calling oneTBB arena: what a Session and an
// ahead-of-time instance both do with a program's kernels.
#pragma once

#include "kernels/kernel_abi.h"

#include <cstdint>

namespace kiln {

// Runs tasks [0, num_tasks) of `fn`, split among the arena's threads when
// the work (task_cost per task, in the kernels' cost units) is worth it.
// Results do not depend on the split (kernels/kernel_abi.h).
void run_kernel(kiln_kernel_fn fn, int64_t num_tasks, double task_cost, void *const *args);

} // namespace kiln
