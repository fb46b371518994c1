#include "runtime/executor.h"

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <tbb/partitioner.h>

#include <algorithm>

namespace kiln {

void run_kernel(kiln_kernel_fn fn, int64_t num_tasks, double task_cost, void *const *args) {
  // Work below this (in the kernels' cost units) runs on the calling thread:
  // a parallel_for costs more than it saves.
  constexpr double kParallelWork = 65536;
  double work = task_cost * double(num_tasks);
  if (work < kParallelWork || num_tasks == 1) {
    fn(args, 0, num_tasks);
    return;
  }
  auto grain = std::max<int64_t>(1, int64_t(kParallelWork / 2 / std::max(task_cost, 1.0)));
  tbb::parallel_for(
      tbb::blocked_range<int64_t>(0, num_tasks, size_t(grain)),
      [&](const tbb::blocked_range<int64_t> &r) { fn(args, r.begin(), r.end()); },
      tbb::simple_partitioner());
}

} // namespace kiln
