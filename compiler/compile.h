// The compiler's face to the runtime, free of LLVM types: a graph with
// concrete types and a schedule goes in, a Program of JIT-compiled kernels
// comes out. Each node's kernels are one unit of code, keyed by its content:
// equal units (layers of one shape, forward and evaluation programs) are
// compiled once per Compiler, looked up in a disk cache across processes,
// and the rest compiled in parallel on the calling task arena's threads.
#pragma once

#include "ir/graph.h"
#include "kernels/kernel_abi.h"
#include "ops/collective_step.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace kiln::compiler {

// Every kernel has this signature (kernels/kernel_abi.h): `args` holds the
// buffers the kernel uses (Kernel::buffers says which).
using KernelFn = kiln_kernel_fn;

// Indices a kernel checks (Lowering::check_indices): it reports the first
// position of its node's input `input` outside [0, limit) in buffer `record`.
struct KernelIndexCheck {
  int32_t record = -1;
  size_t input = 0;
  int64_t limit = 0;
};

// Compiled code, or a collective step (fn null, no symbol; ops/collective_step.h)
// over its two buffers.
struct Kernel {
  KernelFn fn = nullptr;
  std::string symbol;
  NodeId node = -1;
  int64_t num_tasks = 0;
  double task_cost = 0;         // rough work per task (flops or elements)
  std::vector<int32_t> buffers; // the buffer of each of its args, by index in Program::buffers
  CollectiveStep collective = CollectiveStep::none;
  std::optional<KernelIndexCheck> index_check;
  // A copy of buffers[1] onto the same view of buffers[0]: nothing to do
  // where the memory plan gives both the same bytes (a reshape in place).
  bool copy = false;
};

struct BufferInfo {
  NodeId node = -1;  // -1: scratch
  NodeId owner = -1; // the node whose kernels use it (itself, or the node a scratch buffer serves)
  DType dtype = DType::f32;
  int64_t elements = 0;
  size_t bytes() const { return static_cast<size_t>(elements) * byte_size(dtype); }
};

// Where a compilation's time went. Optimization and machine code are summed
// over the threads that compiled units in parallel; the rest is wall time.
struct CompileStats {
  double total_ms = 0;
  double codegen_ms = 0;             // emitting IR and computing kernel keys
  double optimize_ms = 0;            // LLVM's middle end, summed over threads
  double machine_code_ms = 0;        // instruction selection to object code, summed over threads
  double link_ms = 0;                // loading objects into the JIT, resolving kernels
  size_t kernels = 0;                // in the program
  size_t units = 0;                  // one per node with kernels
  size_t emitted_units = 0;          // of which emitted as IR (others lower like an earlier node)
  size_t unique_units = 0;           // after deduplication within the program
  size_t reused_units = 0;           // already in the JIT from an earlier program
  size_t cached_units = 0;           // loaded from the disk cache
  size_t rejected_cache_entries = 0; // found on disk but corrupt, truncated or foreign
  size_t compiled_units = 0;         // compiled now
};

// Machine code in the JIT, freed when the last program using it goes.
struct CompiledCode;

struct Program {
  std::vector<Kernel> kernels; // in execution order
  std::vector<BufferInfo> buffers;
  CompileStats stats;
  // Must go before the Compiler that made it.
  std::vector<std::shared_ptr<const CompiledCode>> code;
};

struct CompileOptions {
  // Print each unit's optimized LLVM IR to stderr (units compiled now only).
  bool print_ir = false;
  // Compiled units on disk (compiler/code_cache.h), shared between processes:
  // $XDG_CACHE_HOME/kiln, else ~/.cache/kiln; `cache_dir` overrides it.
  // KILN_CACHE=off in the environment turns it off too.
  bool cache = true;
  std::string cache_dir;
  // Past this size, the least recently used entries are removed (checked
  // once per Compiler, after its first compilation that stores anything).
  uintmax_t cache_max_bytes = uintmax_t(512) << 20;
  // Off: every unit is compiled on its own, even when an equal one exists,
  // and the disk cache is not used (for tests and comparisons).
  bool deduplicate = true;
};

// What compiles a graph's scheduled nodes, for `types` (the graph's types
// bound to one batch size), into a Program: the JIT (Compiler), or an
// object file's units (ObjectCompiler, compiler/aot.h).
class ProgramCompiler {
public:
  virtual ~ProgramCompiler() = default;
  virtual Program compile(const Graph &g, std::span<const TensorType> types,
                          std::span<const NodeId> schedule) = 0;
};

// Owns the JIT; programs stay valid as long as their compiler lives.
class Compiler final : public ProgramCompiler {
public:
  explicit Compiler(CompileOptions options = {});
  ~Compiler() override;
  Compiler(const Compiler &) = delete;
  Compiler &operator=(const Compiler &) = delete;

  // Compiles the nodes of `schedule` (computed nodes, in order) to code in
  // the JIT, ready to run.
  Program compile(const Graph &g, std::span<const TensorType> types,
                  std::span<const NodeId> schedule) override;

private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

} // namespace kiln::compiler
