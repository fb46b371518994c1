// The executor: what a Session and an ahead-of-time instance both do with a
// plan (runtime/plan.h). A plan is bound once to the storage it runs in (its
// arena, its variables and constants, its kernels' code); each run then only
// points the inputs' arguments at the caller's arrays and runs the kernels on
// the calling oneTBB arena: each kernel's tasks split among its threads when
// the work is worth it (results do not depend on the split,
// kernels/kernel_abi.h), under a fixed floating-point state whatever the
// caller's: exceptions masked, rounding to nearest, and denormals flushed to
// zero unless asked to keep them (tiny Adam moments and gradients made
// training 2x slower). The calling thread's own state is restored after.
#pragma once

#include "ir/error.h"
#include "ir/tensor.h"
#include "kernels/kernel_abi.h"
#include "runtime/kernel_graph.h"
#include "runtime/plan.h"

#include <chrono>
#include <functional>
#include <span>
#include <vector>

namespace kiln {

// A run's data that a kernel refuses (an index out of range): the caller's
// input, not the plan or its storage, is at fault.
struct BadRunInput : Error {
  using Error::Error;
};

// What a plan's places refer to outside it.
struct PlanStorage {
  std::byte *arena = nullptr;                    // at least the plan's arena_bytes
  std::function<void *(int64_t)> variable;       // by a variable buffer's `where`
  std::function<const void *(int64_t)> constant; // by a constant buffer's `where`
  std::span<const kiln_kernel_fn> functions;     // by a kernel call's `function`
  // Names what a buffer of storage of its own holds, for an allocation that fails.
  std::function<std::string(size_t buffer)> describe_own;
};

// How a plan's collective steps reach the other ranks of its job (a Session
// adapts its Communicator). None: a job of one, where the mean over the
// ranks is the values themselves.
class PlanCollectives {
public:
  virtual ~PlanCollectives() = default;
  // Starts the mean over the ranks of `values`, in place; they stay put
  // until finish_allreduce_mean(key). `key` names it until then (the
  // plan's buffer it reduces).
  virtual void start_allreduce_mean(int64_t key, void *values, DType dtype, int64_t elements) = 0;
  // Lets the started means advance: MPI moves them only inside its calls.
  virtual void progress() = 0;
  virtual void finish_allreduce_mean(int64_t key) = 0;
  // Waits for every mean under way: a run that fails midway must not leave
  // the communicator writing into buffers it gives back.
  virtual void finish_all() noexcept = 0;
  // Called by every rank before `plan` first runs (a collective itself):
  // fails on every rank at once unless all compiled the same collective
  // schedule, since a rank that would reduce different buckets would hang
  // the job or average garbage.
  virtual void check_same_schedule(const Plan &plan) = 0;
};

class BoundPlan {
public:
  using Clock = std::chrono::steady_clock;

  // Points every buffer at its storage and allocates those of their own.
  BoundPlan(const Plan &plan, const PlanStorage &storage);

  struct RunOptions {
    bool flush_denormals = true; // flush-to-zero and denormals-are-zero
    // With kernels + 1 readings: kernel i runs between readings i and i + 1.
    std::span<Clock::time_point> clock = {};
    // Runs the collective steps, which are given a progress() call after
    // every kernel while one is under way (the communication then runs
    // under the kernels).
    PlanCollectives *collectives = nullptr;
    // Kernels that do not depend on each other (runtime/kernel_graph.h) run
    // side by side on the arena's threads, each still splitting its own
    // tasks; results are those of the plan's order, bit for bit. Plans with
    // collective steps, and runs with a clock, run in order.
    bool inter_op = true;
  };

  // Runs the kernels (and collective steps) in order with the plan's inputs at `inputs` (an input
  // no kernel reads may be null).
  void run(const void *const *inputs, const RunOptions &options);

  // Where output `o` is after a run with `inputs`.
  const void *output(size_t o, const void *const *inputs) const;

  const Plan &plan() const { return *plan_; }

private:
  // Runs kernel call i (not a collective step) on the calling thread's arena.
  void run_call(size_t i, unsigned csr);
  // Runs every kernel once its predecessors in graph_ have run.
  void run_concurrently(unsigned csr);
  // Fails if the kernel just run found one of its computed indices outside
  // their range.
  void check_indices(const IndexCheck &check) const;
  [[noreturn]] static void fail_index(const IndexCheck &check, int64_t index, int64_t position);

  const Plan *plan_;
  std::vector<Tensor> own_;
  std::vector<void *> table_;                        // by buffer
  std::vector<void *> args_;                         // the kernels' args, kernel after kernel
  std::vector<size_t> first_arg_;                    // by kernel
  std::vector<std::pair<size_t, int64_t>> fed_args_; // (arg, input)
  std::vector<const IndexCheck *> fed_checks_;       // of indices that are inputs: before a run
  std::vector<const IndexCheck *> computed_checks_;  // by kernel: what its record says, or null
  std::vector<kiln_kernel_fn> functions_;            // by kernel
  KernelGraph graph_;                                // empty for plans with collective steps
};

} // namespace kiln
