// What a compiled program is to the runtime, whether its code lives in the
// JIT or in an ahead-of-time object: its inputs and outputs, where each of
// its buffers lives, and its kernel calls in order. A Session compiles a
// graph to a plan and keeps the code in memory; `kiln compile` writes the
// code and the plans (runtime/aot_model.h) into an object. Both run a plan
// the same way: bound once to storage (runtime/bound_plan.h), then run.
#pragma once

#include "ir/dtype.h"
#include "ir/shape.h"
#include "ops/collective_step.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace kiln {

struct TensorSpec {
  std::string name;
  DType dtype = DType::f32;
  Shape shape;
  size_t bytes() const { return size_t(num_elements(shape)) * byte_size(dtype); }
};

// Where a buffer lives while a plan runs. `where` numbers it within its place;
// variables and constants are numbered by the storage the plan is bound to.
enum class Place : uint8_t {
  arena,    // at byte `where` of the arena
  variable, // variable `where`
  in_place, // over buffer `where` (a variable update writes its variable)
  constant, // constant `where`
  input,    // the caller's input `where`
  own,      // storage of its own, made when the plan is bound
};

struct PlanBuffer {
  Place place = Place::own;
  DType dtype = DType::f32;
  int64_t elements = 0;
  int64_t where = 0;
  size_t bytes() const { return size_t(elements) * byte_size(dtype); }
};

// Indices a kernel checks against [0, limit): it writes the first position
// of one outside into `record` (an i64 that holds abi::kNoBadIndex before
// the kernel runs), and the run fails with a message naming the node, the
// position and the value.
struct IndexCheck {
  int32_t record = -1;  // buffer
  int32_t indices = -1; // buffer, i32 or i64
  int64_t limit = 0;
  Shape shape;       // of the indices, for the position
  std::string node;  // the checking node, described: "node 'n' (gather)"
  std::string input; // the indices' node, by name
};

// Compiled code, or a collective step (ops/collective_step.h: `function` unused,
// `buffers` its input and output) that the executor runs through the job's
// communicator.
struct KernelCall {
  uint32_t function = 0; // in the function table the plan is bound with
  int64_t num_tasks = 0;
  double task_cost = 0;         // rough work per task, for the split (kernels/kernel_abi.h)
  std::vector<int32_t> buffers; // its args, by buffer index
  uint32_t writes = 0;          // bit i: it writes buffers[i] (its node's output, scratch);
                                // args past the 32nd, and variables, may be written too
  CollectiveStep collective = CollectiveStep::none;
  std::optional<IndexCheck> index_check;
};

struct Plan {
  std::string name; // an entry point's (predict, train_step), in messages
  std::vector<TensorSpec> inputs, outputs;
  std::vector<int32_t> output_buffers; // by output
  std::vector<PlanBuffer> buffers;
  std::vector<KernelCall> kernels; // in execution order
  uint64_t arena_bytes = 0;
};

// Whether `plan` has collective steps.
bool has_collectives(const Plan &plan);

} // namespace kiln
