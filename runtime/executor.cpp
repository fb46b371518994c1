#include "runtime/executor.h"

#include "ir/error.h"
#include "ops/indexing.h"

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <tbb/partitioner.h>
#include <tbb/task_arena.h>
#include <tbb/task_group.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <functional>
#include <memory>

#include <xmmintrin.h>

namespace kiln {

namespace {

// The MXCSR the kernels run under: every exception masked, rounding to
// nearest, and with `flush`, flush-to-zero (results) and denormals-are-zero
// (inputs).
unsigned kernel_csr(bool flush) { return 0x1f80u | (flush ? 0x8040u : 0u); }

// Sets the calling thread's MXCSR while it lives, then restores it.
class ScopedCsr {
public:
  explicit ScopedCsr(unsigned csr) : saved_(_mm_getcsr()) { _mm_setcsr(csr); }
  ~ScopedCsr() { _mm_setcsr(saved_); }
  ScopedCsr(const ScopedCsr &) = delete;
  ScopedCsr &operator=(const ScopedCsr &) = delete;

private:
  unsigned saved_;
};

// Runs tasks [0, num_tasks) of `fn`, split among the arena's threads when
// the work (task_cost per task, in the kernels' cost units) is worth it.
// The calling thread is under `csr` already; the others take it per chunk.
void run_kernel(kiln_kernel_fn fn, int64_t num_tasks, double task_cost, void *const *args,
                unsigned csr) {
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
      [&](const tbb::blocked_range<int64_t> &r) {
        ScopedCsr state(csr);
        fn(args, r.begin(), r.end());
      },
      tbb::simple_partitioner());
}

// A collective step over its input and output (ops/collective_step.h); a
// mean is named by the buffer it reduces, the start's output and the
// finish's input.
void run_collective(const KernelCall &k, void *const *args, const PlanBuffer &out,
                    PlanCollectives *collectives) {
  void *in = args[0], *to = args[1];
  switch (k.collective) {
  case CollectiveStep::start_allreduce_mean:
    if (in != to) std::memcpy(to, in, out.bytes());
    if (collectives) collectives->start_allreduce_mean(k.buffers[1], to, out.dtype, out.elements);
    break;
  case CollectiveStep::finish_allreduce_mean:
    if (collectives) collectives->finish_allreduce_mean(k.buffers[0]);
    if (in != to) std::memcpy(to, in, out.bytes());
    break;
  case CollectiveStep::none: break;
  }
}

} // namespace

bool has_collectives(const Plan &plan) {
  return std::any_of(plan.kernels.begin(), plan.kernels.end(),
                     [](const KernelCall &k) { return k.collective != CollectiveStep::none; });
}

BoundPlan::BoundPlan(const Plan &plan, const PlanStorage &storage) : plan_(&plan) {
  table_.assign(plan.buffers.size(), nullptr);
  for (size_t i = 0; i < plan.buffers.size(); ++i) {
    const PlanBuffer &b = plan.buffers[i];
    switch (b.place) {
    case Place::arena: table_[i] = storage.arena + b.where; break;
    case Place::variable: table_[i] = storage.variable(b.where); break;
    case Place::in_place: table_[i] = table_[size_t(b.where)]; break;
    case Place::constant: table_[i] = const_cast<void *>(storage.constant(b.where)); break;
    case Place::input: break; // at each run
    case Place::own: try { own_.emplace_back(b.dtype, Shape{b.elements});
      } catch (const std::bad_alloc &) {
        fail("cannot allocate {} for {}: out of memory", human_bytes(b.bytes()),
             storage.describe_own ? storage.describe_own(i) : fmt::format("buffer {}", i));
      }
      table_[i] = own_.back().raw();
      break;
    }
  }
  for (const KernelCall &k : plan.kernels) {
    bool fed = k.index_check && plan.buffers[size_t(k.index_check->indices)].place == Place::input;
    if (fed) fed_checks_.push_back(&*k.index_check);
    computed_checks_.push_back(k.index_check && !fed ? &*k.index_check : nullptr);
    first_arg_.push_back(args_.size());
    functions_.push_back(k.collective == CollectiveStep::none ? storage.functions[k.function]
                                                              : nullptr);
    for (int32_t buffer : k.buffers) {
      const PlanBuffer &b = plan.buffers[size_t(buffer)];
      if (b.place == Place::input) fed_args_.emplace_back(args_.size(), b.where);
      args_.push_back(table_[size_t(buffer)]);
    }
  }
  if (!has_collectives(plan)) graph_ = kernel_graph(plan);
}

void BoundPlan::run_call(size_t i, unsigned csr) {
  const KernelCall &k = plan_->kernels[i];
  const IndexCheck *check = computed_checks_[i];
  if (check) *static_cast<int64_t *>(table_[size_t(check->record)]) = abi::kNoBadIndex;
  run_kernel(functions_[i], k.num_tasks, k.task_cost, args_.data() + first_arg_[i], csr);
  if (check) check_indices(*check);
}

// Each task runs a kernel, then the successors it made ready: it keeps the
// first and any too small to be worth a task of their own (a spawn costs
// about what that much work does) and spawns the rest. The first error
// cancels what has not started.
void BoundPlan::run_concurrently(unsigned csr) {
  constexpr double kSpawnWork = 32768; // in the kernels' cost units, as run_kernel's
  size_t n = plan_->kernels.size();
  auto waiting = std::make_unique<std::atomic<uint32_t>[]>(n);
  for (size_t i = 0; i < n; ++i)
    waiting[i].store(graph_.predecessors[i], std::memory_order_relaxed);
  tbb::task_group group;
  std::function<void(size_t)> run_from = [&](size_t first) {
    ScopedCsr state(csr);
    std::vector<size_t> mine = {first};
    while (!mine.empty()) {
      size_t i = mine.back();
      mine.pop_back();
      run_call(i, csr);
      bool kept = false;
      for (uint32_t s : graph_.successors[i]) {
        if (waiting[s].fetch_sub(1, std::memory_order_acq_rel) != 1) continue;
        const KernelCall &k = plan_->kernels[s];
        if (kept && k.task_cost * double(k.num_tasks) >= kSpawnWork) {
          group.run([&run_from, s] { run_from(s); });
        } else {
          mine.push_back(s);
          kept = true;
        }
      }
    }
  };
  for (size_t i = 0; i < n; ++i)
    if (graph_.predecessors[i] == 0) group.run([&run_from, i] { run_from(i); });
  group.wait();
}

void BoundPlan::run(const void *const *inputs, const RunOptions &options) {
  for (auto [arg, input] : fed_args_) args_[arg] = const_cast<void *>(inputs[input]);
  // Indices fed to the run are checked before anything runs, so a bad label
  // changes no variable, the step counter included; computed ones are
  // checked as their kernels run.
  for (const IndexCheck *check : fed_checks_) {
    const PlanBuffer &b = plan_->buffers[size_t(check->indices)];
    for (int64_t k = 0; k < b.elements; ++k)
      if (int64_t index = ops::index_at(inputs[b.where], b.dtype, k);
          index < 0 || index >= check->limit)
        fail_index(*check, index, k);
  }
  const std::vector<KernelCall> &kernels = plan_->kernels;
  std::span<Clock::time_point> clock = options.clock;
  unsigned csr = kernel_csr(options.flush_denormals);
  ScopedCsr state(csr);
  if (options.inter_op && clock.empty() && graph_.has_parallelism &&
      tbb::this_task_arena::max_concurrency() > 1) {
    run_concurrently(csr);
    return;
  }
  if (!clock.empty()) clock[0] = Clock::now();
  int under_way = 0; // collectives started and not finished
  try {
    for (size_t i = 0; i < kernels.size(); ++i) {
      const KernelCall &k = kernels[i];
      void *const *args = args_.data() + first_arg_[i];
      if (k.collective == CollectiveStep::none) {
        run_call(i, csr);
        if (under_way && options.collectives) options.collectives->progress();
      } else {
        run_collective(k, args, plan_->buffers[size_t(k.buffers[1])], options.collectives);
        under_way += k.collective == CollectiveStep::start_allreduce_mean ? 1 : -1;
      }
      if (!clock.empty()) clock[i + 1] = Clock::now();
    }
  } catch (...) {
    if (under_way && options.collectives) options.collectives->finish_all();
    throw;
  }
  if (under_way != 0) {
    if (options.collectives) options.collectives->finish_all();
    fail("plan '{}': its means over the ranks do not pair up ({} more started than "
         "finished): each allreduce_mean_start needs one allreduce_mean_finish",
         plan_->name, under_way);
  }
}

void BoundPlan::check_indices(const IndexCheck &check) const {
  int64_t position = *static_cast<const int64_t *>(table_[size_t(check.record)]);
  if (position == abi::kNoBadIndex) return;
  DType dtype = plan_->buffers[size_t(check.indices)].dtype;
  fail_index(check, ops::index_at(table_[size_t(check.indices)], dtype, position), position);
}

void BoundPlan::fail_index(const IndexCheck &check, int64_t index, int64_t position) {
  throw BadRunInput(
      fmt::format("{}: {}", check.node,
                  ops::bad_index_message(index, position, check.shape,
                                         fmt::format("'{}'", check.input), check.limit)));
}

const void *BoundPlan::output(size_t o, const void *const *inputs) const {
  int32_t buffer = plan_->output_buffers[o];
  const PlanBuffer &b = plan_->buffers[size_t(buffer)];
  return b.place == Place::input ? inputs[b.where] : table_[size_t(buffer)];
}

} // namespace kiln
