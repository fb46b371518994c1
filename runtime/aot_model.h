// What an ahead-of-time model's object tells its runtime, besides the kernel
// table and the constants: its variables, numbered as its plans' variable
// buffers number them, and the plan of each entry point. `kiln compile` encodes it
// (session/ahead_of_time.cpp) into the object; kiln_aot_create decodes and checks it.
#pragma once

#include "runtime/plan.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace kiln::aot {

struct Model {
  std::string name;
  std::vector<TensorSpec> variables; // in the graph's order, as checkpoints hold them
  std::vector<Plan> entries;         // predict, train_step: the object's entry points
};

std::string encode(const Model &m);

// Decodes and checks every index and extent against the object's kernel
// table and constants, so a mismatched object fails here with a message.
Model decode(std::string_view bytes, uint32_t num_kernels, uint64_t constants_bytes);

} // namespace kiln::aot
