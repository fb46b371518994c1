// One op, one place: an OpDef holds everything kiln knows about an op — its
// inputs and attributes, its type/shape rule, its reference kernel (the test
// oracle) and its lowering. Op families register their OpDefs in ops/; the
// registry is the only list of ops.
#pragma once

#include "ir/attr.h"
#include "ir/shape.h"
#include "ir/tensor.h"

#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace llvm {
class Value;
} // namespace llvm

namespace kiln {

struct Node;
struct Value;
struct GradContext;
namespace compiler {
class Lowering;
class ScalarBuilder;
} // namespace compiler

struct TensorType {
  DType dtype = DType::f32;
  Shape shape;
  bool operator==(const TensorType &) const = default;
};
std::string to_string(const TensorType &t); // "f32[?, 784]"

// Where a view's elements lie in its input (contiguous, row-major): output
// element 0 at `offset`, each output dim `strides` apart.
struct InputView {
  int64_t offset = 0;
  std::vector<int64_t> strides;
};

struct AttrSpec {
  std::string name;
  AttrKind kind;
  std::optional<AttrValue> default_value; // nullopt: the attribute is required
};

// Where a node's value comes from when it is not computed by a kernel.
enum class Source { none, placeholder, variable, constant };

struct OpDef {
  std::string name;
  int min_inputs = 0;
  int max_inputs = 0; // -1: any number
  std::vector<AttrSpec> attrs;
  Source source = Source::none;
  // Has effects beyond its output (state, randomness): never folded or merged.
  bool stateful = false;
  // Writes its result in place into input 0, a variable (or an update of
  // one): assign ops and optimizer updates. Its output is the variable's
  // storage, so nodes after it in the graph see the new value.
  bool updates_variable = false;
  // Inputs read only for their type, never for their values (size's input,
  // broadcast_like's `like`): passes may point them at any node of that type.
  std::vector<size_t> shape_only_inputs;
  // Output element i is input 0's element i, read before it is written (the
  // collectives, reshapes): the memory plan may give the output input 0's
  // storage when they have the same size, whatever their shapes.
  bool output_reuses_input = false;
  // Whether the node's lowering is one kernel-library call whose tasks each
  // write a box of the output (declared with Lowering::task_box): then its
  // elementwise consumers can run in the same kernel, on each box while it
  // is in cache (passes/fuse_epilogues.cpp). Unset: never.
  std::function<bool(const Node &node)> takes_epilogue;
  // Ops whose output is a strided view of input 0 (slice): where its
  // elements lie in an input of shape `input`. A loop fusion reads such a
  // member from its input's buffer in place rather than from a copy
  // (passes/fuse.cpp). Unset: not a view.
  std::function<InputView(const Node &node, const Shape &input)> input_view;
  // Whether the node's lowering is one call of a row reduction reading input
  // 0 (kernel_abi.h: [outer, reduce, inner], tasks outer-major over blocks of
  // inner): then input 0's elementwise producers can run in its kernel, each
  // task computing the slab it reduces (passes/fuse_reductions.cpp).
  std::function<bool(const Node &node, const TensorType &input)> takes_prologue;

  // Type/shape rule. Inputs may carry the symbolic batch dim. Fails with kiln::fail;
  // the graph prefixes the node's name.
  std::function<TensorType(const Node &node, std::span<const TensorType> inputs)> infer;

  // Reference kernel on concrete tensors; `out` is allocated from `infer`.
  std::function<void(const Node &node, std::span<const Tensor> inputs, Tensor &out)> reference;

  // Elementwise ops: the scalar expression (ops/scalar_builder.h), from which
  // the compiler builds loops and fuses chains. Operands have the input dtypes.
  std::function<llvm::Value *(compiler::ScalarBuilder &b, std::span<llvm::Value *const> args)>
      scalar;
  // Other ops: emit kernels for the node (ops/lowering.h). Source ops have
  // neither.
  std::function<void(compiler::Lowering &l)> lower;

  // Symbolic gradient (ops/grad.h, run by passes/autodiff.h): the gradient
  // of the loss with respect to input `i`, built from builder ops so that
  // gradients of gradients work. An empty Value: input i takes no gradient
  // (indices, conditions). An op without it stops gradients, and autodiff
  // says so.
  std::function<Value(const GradContext &c, size_t i)> grad;
};

class OpRegistry {
public:
  // Every op. The one function ir leaves to a layer above: the ops layer
  // defines it (ops/registry.cpp), so a program that adds nodes links
  // kiln_ops, as every program linking kiln does.
  static const OpRegistry &get();
  const OpDef *find(std::string_view name) const;
  std::span<const OpDef> all() const { return ops_; }

  void add(OpDef def);

private:
  std::vector<OpDef> ops_;
};

} // namespace kiln
