// The Lowering (ops/lowering.h) of one node into its unit's module, and what
// every kernel of it is built with: kernel "k<i>" of the unit reads its
// buffers from an args array in the order it first asks for them, so equal
// kernels of different nodes are equal code (the cache key is the IR).
// Elementwise nodes and fused nodes are emitted through it by
// elementwise.cpp, epilogue_fusion.cpp and reduction_fusion.cpp. A node's
// IR may depend only on what codegen.cpp's LoweringInputs compares (nodes
// alike in it share the first one's IR): reading more of the graph here
// needs it there too.
#pragma once

#include "compiler/codegen.h"
#include "compiler/operands.h"
#include "ops/lowering.h"

#include <llvm/IR/IRBuilder.h>

#include <optional>

namespace kiln::compiler {

// A kernel-library call that a lowering asked for.
struct PendingCall {
  std::string function;
  std::vector<KernelArg> args;
  int64_t num_tasks = 0;
  double task_cost = 0;
};

// What the anchor of a fused node declared while it lowered.
struct LoweredAnchor {
  std::optional<PendingCall> call;
  std::optional<TaskBox> box;
};

class ModuleEmitter final : public Lowering {
public:
  ModuleEmitter(EmittedUnit &unit, const Graph &g, std::span<const TensorType> types,
                EmittedProgram &out, NodeId id);

  const Node &node() const override { return node_; }
  Buffer input(size_t i) const override { return {node_.inputs.at(i)}; }
  Buffer output() const override { return {node_.id}; }
  const TensorType &input_type(size_t i) const override {
    return types_[size_t(node_.inputs.at(i))];
  }
  const TensorType &output_type() const override { return types_[size_t(node_.id)]; }

  Buffer scratch(DType type, int64_t elements) override;
  void call(std::string_view function, std::vector<KernelArg> args, int64_t num_tasks,
            double task_cost) override;
  Buffer check_indices(size_t input, int64_t limit) override;
  void task_box(TaskBox) override {} // only an anchor's matters (lower_anchor)
  void collective(CollectiveStep step, Buffer in, Buffer out) override;
  void copy(DType type, const Shape &shape, const View &dst, const View &src) override;
  void copy_pieces(DType type, const Shape &shape, const View &dst, int64_t step,
                   const std::vector<Buffer> &srcs) override;
  void fill(DType type, const Shape &shape, const View &dst, double value) override;
  void fused_loop(const Graph &body) override;

  // The buffer a reduction's call reads when its input is the slab.
  static constexpr int32_t kSlab = -2;

  // Lowers `anchor`, a member of the fused node's `body`, as the fused node:
  // it sees the fused node's output, and as its inputs the body parameters'
  // fused inputs, or the slab (of type `slab`) where the body computes them.
  // Its call is returned, not emitted.
  LoweredAnchor lower_anchor(const Node &anchor, const Graph &body, TensorType slab = {});

  // The node's inputs broadcast into `shape`, one-element constants as
  // immediates; unused are those that no member of `body` (but `skip`), or
  // without a body the node itself, reads as a value (only for its shape).
  // Then, in body order, the elements of each view member of `body` (a
  // slice of a parameter) in its parameter's buffer: evaluate() gives them
  // to those members.
  std::vector<Operand> operands(const Shape &shape, const Graph *body = nullptr,
                                const Node *skip = nullptr) const;

  llvm::Module &module() { return m_; }
  llvm::LLVMContext &context() { return c_; }

  // Begins the next kernel, void(ptr args, i64 task_begin, i64 task_end),
  // with the builder at its entry.
  llvm::Function *begin_kernel(llvm::IRBuilder<> &b, int64_t num_tasks, double task_cost);
  // `buffer` as the kernel being emitted (`fn`, the last one begun) reads
  // it from its args.
  llvm::Value *buffer_pointer(llvm::IRBuilder<> &b, llvm::Function *fn, Buffer buffer);
  // A native kernel (kernels/kernels.h) declared for a call with `args` and
  // a task range.
  llvm::Function *native_kernel(std::string_view name, const std::vector<KernelArg> &args);
  // Calls `function(args..., task_begin, task_end)` from kernel `fn`.
  void emit_call(llvm::IRBuilder<> &b, llvm::Function *fn, std::string_view function,
                 const std::vector<KernelArg> &args, llvm::Value *task_begin,
                 llvm::Value *task_end);

private:
  std::vector<bool> values_read(const Graph *body, const Node *skip) const;
  Operand operand(size_t i, const Shape &shape) const;
  Operand view_operand(const Graph &body, const Node &n) const;

  llvm::Module &m_;
  llvm::LLVMContext &c_;
  EmittedUnit &unit_;
  const Graph &g_;
  std::span<const TensorType> types_;
  EmittedProgram &out_;
  const Node &node_;
  std::optional<KernelIndexCheck> next_check_; // for the next kernel begun
};

} // namespace kiln::compiler
