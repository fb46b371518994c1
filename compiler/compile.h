// The compiler's face to the runtime, free of LLVM types: a graph with
// concrete types and a schedule goes in, a Program of JIT-compiled kernels
// comes out.
#pragma once

#include "ir/graph.h"

#include <memory>
#include <span>
#include <string>
#include <vector>

namespace kiln::compiler {

// Every kernel has this signature: `buffers` is the buffer table (node i's
// output is buffers[i]; scratch buffers follow), and the kernel computes its
// tasks [task_begin, task_end).
using KernelFn = void (*)(void *const *buffers, int64_t task_begin, int64_t task_end);

struct Kernel {
  KernelFn fn = nullptr;
  std::string symbol;
  NodeId node = -1;
  int64_t num_tasks = 0;
  double task_cost = 0; // rough work per task (flops or elements)
};

struct BufferInfo {
  NodeId node = -1;  // -1: scratch
  NodeId owner = -1; // the node whose kernels use it (itself, or the node a scratch buffer serves)
  DType dtype = DType::f32;
  int64_t elements = 0;
  size_t bytes() const { return static_cast<size_t>(elements) * byte_size(dtype); }
};

struct Program {
  std::vector<Kernel> kernels; // in execution order
  std::vector<BufferInfo> buffers;
  double compile_ms = 0;
  // The machine code; freed from the JIT when the last copy of the program
  // goes (which must be before its Compiler).
  std::shared_ptr<void> code;
};

struct CompileOptions {
  // Print the optimized LLVM IR of each program to stderr.
  bool print_ir = false;
};

// Owns the JIT; programs stay valid as long as their compiler lives.
class Compiler {
public:
  explicit Compiler(CompileOptions options = {});
  ~Compiler();
  Compiler(const Compiler &) = delete;
  Compiler &operator=(const Compiler &) = delete;

  // Compiles the nodes of `schedule` (computed nodes, in order) for `types`,
  // the graph's types bound to one batch size.
  Program compile(const Graph &g, std::span<const TensorType> types,
                  std::span<const NodeId> schedule);

private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

} // namespace kiln::compiler
