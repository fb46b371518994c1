// What an ahead-of-time model's object tells its runtime, besides the kernel
// table: its variables, and per entry point its inputs, outputs, buffers and
// kernel calls. `kiln compile` encodes it (session/ahead_of_time.cpp) into
// the object; kiln_aot_create decodes and checks it.
#pragma once

#include "ir/dtype.h"
#include "ir/shape.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace kiln::aot {

struct TensorSpec {
  std::string name;
  DType dtype = DType::f32;
  Shape shape;
  size_t bytes() const { return size_t(num_elements(shape)) * byte_size(dtype); }
};

// Where a buffer lives while an entry runs.
enum class Place : uint8_t {
  arena,    // at `where` in the instance's arena
  variable, // variable `where`
  in_place, // over buffer `where` (a variable update writes its variable)
  constant, // at `where` in the model's constants
  input,    // the caller's input `where`
  own,      // storage of its own
};

struct Buffer {
  Place place = Place::own;
  DType dtype = DType::f32;
  int64_t elements = 0;
  int64_t where = 0;
  size_t bytes() const { return size_t(elements) * byte_size(dtype); }
};

struct KernelCall {
  uint32_t table_index = 0; // in kiln_aot_model::kernels
  int64_t num_tasks = 0;
  double task_cost = 0;
  std::vector<int32_t> buffers; // its args
};

struct Entry {
  std::string name;
  std::vector<TensorSpec> inputs, outputs;
  std::vector<int32_t> output_buffers; // by output
  std::vector<Buffer> buffers;
  std::vector<KernelCall> kernels; // in execution order
  uint64_t arena_bytes = 0;
};

struct Model {
  std::string name;
  std::vector<TensorSpec> variables; // in the graph's order, as checkpoints hold them
  std::vector<Entry> entries;
};

std::string encode(const Model &m);

// Decodes and checks every index and extent against the object's kernel
// table and constants, so a mismatched object fails here with a message.
Model decode(std::string_view bytes, uint32_t num_kernels, uint64_t constants_bytes);

} // namespace kiln::aot
