#include "compiler/emitter.h"

#include "compiler/elementwise.h"
#include "compiler/epilogue_fusion.h"
#include "compiler/llvm_scalar_builder.h"
#include "compiler/reduction_fusion.h"
#include "ir/error.h"
#include "kernels/kernel_symbols.h"
#include "ops/fusion.h"
#include "ops/op_util.h"

#include <fmt/format.h>

#include <utility>

namespace kiln::compiler {

namespace {

using V = llvm::Value *;

// What an anchor sees while it lowers as its fused node (lower_anchor): that
// node's output; as input i, the fused input that body parameter i stands
// for, or the slab where the body computes it. Its one call is recorded for
// the fused kernel to make.
class AnchorLowering final : public Lowering {
public:
  AnchorLowering(ModuleEmitter &fused, const Node &anchor, const Graph &body, TensorType slab)
      : fused_(fused), anchor_(anchor), body_(body), slab_(std::move(slab)) {}

  const Node &node() const override { return anchor_; }
  Buffer input(size_t i) const override {
    return slab_input(i) ? Buffer{ModuleEmitter::kSlab} : fused_.input(outer_input(i));
  }
  Buffer output() const override { return fused_.output(); }
  const TensorType &input_type(size_t i) const override {
    return slab_input(i) ? slab_ : fused_.input_type(outer_input(i));
  }
  const TensorType &output_type() const override { return fused_.output_type(); }
  Buffer scratch(DType type, int64_t elements) override { return fused_.scratch(type, elements); }

  // The last call takes the epilogue; earlier ones (a tiled convolution's
  // im2col) run before it as kernels of their own.
  void call(std::string_view function, std::vector<KernelArg> args, int64_t num_tasks,
            double task_cost) override {
    if (lowered.call)
      fused_.call(lowered.call->function, std::move(lowered.call->args), lowered.call->num_tasks,
                  lowered.call->task_cost);
    lowered.call = {std::string(function), std::move(args), num_tasks, task_cost};
  }
  Buffer check_indices(size_t, int64_t) override {
    fail("internal error: {} checks indices, a fused anchor cannot", anchor_.describe());
  }
  void task_box(TaskBox box) override { lowered.box = box; }
  void copy(DType, const Shape &, const View &, const View &) override { not_calls_only(); }
  void copy_pieces(DType, const Shape &, const View &, int64_t,
                   const std::vector<Buffer> &) override {
    not_calls_only();
  }
  void fill(DType, const Shape &, const View &, double) override { not_calls_only(); }
  void fused_loop(const Graph &) override { not_calls_only(); }
  void collective(CollectiveStep, Buffer, Buffer) override { not_calls_only(); }

  LoweredAnchor lowered;

private:
  bool slab_input(size_t i) const {
    return body_.node(anchor_.inputs.at(i)).op->source == Source::none;
  }
  size_t outer_input(size_t i) const {
    return size_t(body_.node(anchor_.inputs.at(i)).attr_int("index"));
  }
  [[noreturn]] void not_calls_only() const {
    fail("internal error: {} lowers to more than kernel calls, a fused anchor must not",
         anchor_.describe());
  }

  ModuleEmitter &fused_;
  const Node &anchor_;
  const Graph &body_;
  TensorType slab_;
};

} // namespace

ModuleEmitter::ModuleEmitter(EmittedUnit &unit, const Graph &g, std::span<const TensorType> types,
                             EmittedProgram &out, NodeId id)
    : m_(*unit.module), c_(unit.module->getContext()), unit_(unit), g_(g), types_(types), out_(out),
      node_(g.node(id)) {}

Buffer ModuleEmitter::scratch(DType type, int64_t elements) {
  out_.buffers.push_back({-1, node_.id, type, elements});
  return {static_cast<int32_t>(out_.buffers.size() - 1)};
}

Buffer ModuleEmitter::check_indices(size_t input, int64_t limit) {
  Buffer record = scratch(DType::i64, 1);
  next_check_ = KernelIndexCheck{record.index, input, limit};
  return record;
}

void ModuleEmitter::call(std::string_view function, std::vector<KernelArg> args, int64_t num_tasks,
                         double task_cost) {
  if (num_tasks == 0) { // no kernel, nothing to check
    next_check_.reset();
    return;
  }
  llvm::IRBuilder<> b(c_);
  llvm::Function *fn = begin_kernel(b, num_tasks, task_cost);
  emit_call(b, fn, function, args, fn->getArg(1), fn->getArg(2));
  b.CreateRetVoid();
}

void ModuleEmitter::collective(CollectiveStep step, Buffer in, Buffer out) {
  out_.kernels.push_back({nullptr, "", node_.id, 1, 0, {in.index, out.index}, step, {}});
}

void ModuleEmitter::copy(DType type, const Shape &shape, const View &dst, const View &src) {
  const size_t kernels = out_.kernels.size();
  emit_loop(*this, shape, {{dst, type}}, {{src, type, nullptr}},
            [](llvm::IRBuilder<> &, std::span<V const> v) { return std::vector<V>{v[0]}; });
  if (out_.kernels.size() > kernels)
    out_.kernels.back().copy = dst.offset == src.offset && dst.strides == src.strides;
}

void ModuleEmitter::copy_pieces(DType type, const Shape &shape, const View &dst, int64_t step,
                                const std::vector<Buffer> &srcs) {
  emit_piece_copies(*this, type, shape, dst, step, srcs);
}

void ModuleEmitter::fill(DType type, const Shape &shape, const View &dst, double value) {
  emit_loop(*this, shape, {{dst, type}}, {}, [&](llvm::IRBuilder<> &b, std::span<V const>) {
    return std::vector<V>{LlvmScalarBuilder(b, m_, node_).constant(value, type)};
  });
}

void ModuleEmitter::fused_loop(const Graph &body) {
  const std::string &kind = node_.attr_string("kind");
  if (kind == "output") {
    const Node &anchor = *std::find_if(body.nodes().begin(), body.nodes().end(),
                                       [](const Node &n) { return n.op->source == Source::none; });
    return emit_epilogue(*this, body, anchor);
  }
  if (kind == "reduce") return emit_reduction(*this, body, body.nodes().back());
  if (kind != "loop") fail("internal error: {} is a fusion of kind '{}'", node_.describe(), kind);
  emit_fused_elementwise(*this, body);
}

LoweredAnchor ModuleEmitter::lower_anchor(const Node &anchor, const Graph &body, TensorType slab) {
  AnchorLowering lowering(*this, anchor, body, std::move(slab));
  anchor.op->lower(lowering);
  return std::move(lowering.lowered);
}

std::vector<Operand> ModuleEmitter::operands(const Shape &shape, const Graph *body,
                                             const Node *skip) const {
  std::vector<bool> read = values_read(body, skip);
  std::vector<Operand> operands;
  for (size_t i = 0; i < read.size(); ++i)
    operands.push_back(read[i] ? operand(i, shape)
                               : Operand{{input(i), 0, {}}, input_type(i).dtype, nullptr, true});
  if (body)
    for (const Node &n : body->nodes())
      if (ops::is_view_member(n)) operands.push_back(view_operand(*body, n));
  return operands;
}

// The view member `n`'s elements in its parameter's buffer, walked as the
// loop walks its output: a view has the fused node's shape (ops/fusion.cpp).
Operand ModuleEmitter::view_operand(const Graph &body, const Node &n) const {
  size_t i = size_t(body.node(n.inputs.at(0)).attr_int("index"));
  const TensorType &in = input_type(i);
  InputView v = n.op->input_view(n, in.shape);
  return {{input(i), v.offset, std::move(v.strides)}, in.dtype};
}

// Which inputs are read as values: not those read for their shape only
// (OpDef::shape_only_inputs).
std::vector<bool> ModuleEmitter::values_read(const Graph *body, const Node *skip) const {
  std::vector<bool> read(node_.inputs.size(), false);
  auto shape_only = [](const Node &n, size_t i) {
    const std::vector<size_t> &s = n.op->shape_only_inputs;
    return std::find(s.begin(), s.end(), i) != s.end();
  };
  if (!body) {
    for (size_t i = 0; i < read.size(); ++i) read[i] = !shape_only(node_, i);
    return read;
  }
  for (const Node &n : body->nodes()) {
    if (n.op->source != Source::none || &n == skip || ops::is_view_member(n)) continue;
    for (size_t i = 0; i < n.inputs.size(); ++i) {
      const Node &in = body->node(n.inputs[i]);
      if (in.op->source != Source::none && !shape_only(n, i))
        read[size_t(in.attr_int("index"))] = true;
    }
  }
  return read;
}

// Input i broadcast into `shape`.
Operand ModuleEmitter::operand(size_t i, const Shape &shape) const {
  const Node &in = g_.node(node_.inputs[i]);
  const TensorType &t = input_type(i);
  const Tensor *immediate = nullptr;
  if (in.op->source == Source::constant && num_elements(t.shape) == 1)
    immediate = &in.attr_tensor("value");
  return {{input(i), 0, ops::broadcast_strides(t.shape, shape)}, t.dtype, immediate};
}

llvm::Function *ModuleEmitter::begin_kernel(llvm::IRBuilder<> &b, int64_t num_tasks,
                                            double task_cost) {
  std::string symbol = fmt::format("k{}", unit_.kernels.size());
  auto *type =
      llvm::FunctionType::get(b.getVoidTy(), {b.getPtrTy(), b.getInt64Ty(), b.getInt64Ty()}, false);
  auto *fn = llvm::Function::Create(type, llvm::Function::ExternalLinkage, symbol, m_);
  fn->getArg(0)->setName("args");
  fn->getArg(1)->setName("task_begin");
  fn->getArg(2)->setName("task_end");
  b.SetInsertPoint(llvm::BasicBlock::Create(c_, "entry", fn));
  unit_.kernels.push_back(out_.kernels.size());
  out_.kernels.push_back({nullptr,
                          symbol,
                          node_.id,
                          num_tasks,
                          task_cost,
                          {},
                          CollectiveStep::none,
                          std::exchange(next_check_, std::nullopt)});
  return fn;
}

// Slots are numbered, not named after buffers: a value name with a buffer
// index would make equal kernels of different nodes different IR.
V ModuleEmitter::buffer_pointer(llvm::IRBuilder<> &b, llvm::Function *fn, Buffer buffer) {
  std::vector<int32_t> &slots = out_.kernels.back().buffers;
  auto found = std::find(slots.begin(), slots.end(), buffer.index);
  size_t slot = size_t(found - slots.begin());
  if (found == slots.end()) slots.push_back(buffer.index);
  V at = b.CreateConstInBoundsGEP1_64(b.getPtrTy(), fn->getArg(0), uint64_t(slot));
  return b.CreateLoad(b.getPtrTy(), at, fmt::format("arg{}", slot));
}

llvm::Function *ModuleEmitter::native_kernel(std::string_view name,
                                             const std::vector<KernelArg> &args) {
  const auto symbols = kernels::kernel_symbols();
  if (std::none_of(symbols.begin(), symbols.end(),
                   [&](const kernels::KernelSymbol &s) { return name == s.name; }))
    fail("{}: the kernel library has no function '{}'", node_.describe(), name);
  llvm::Type *i64 = llvm::Type::getInt64Ty(c_);
  std::vector<llvm::Type *> params;
  for (const KernelArg &a : args)
    params.push_back(a.kind == KernelArg::Kind::buffer ? llvm::PointerType::get(c_, 0) : i64);
  params.insert(params.end(), 2, i64);
  auto *type = llvm::FunctionType::get(llvm::Type::getVoidTy(c_), params, false);
  auto *fn = llvm::dyn_cast<llvm::Function>(
      m_.getOrInsertFunction(llvm::StringRef(name.data(), name.size()), type).getCallee());
  if (!fn || fn->getFunctionType() != type)
    fail("internal error: {} calls '{}' with different arguments", node_.describe(), name);
  return fn;
}

void ModuleEmitter::emit_call(llvm::IRBuilder<> &b, llvm::Function *fn, std::string_view function,
                              const std::vector<KernelArg> &args, V task_begin, V task_end) {
  llvm::Function *callee = native_kernel(function, args);
  std::vector<V> values;
  for (size_t i = 0; i < args.size(); ++i) {
    llvm::Type *param = callee->getFunctionType()->getParamType(static_cast<unsigned>(i));
    values.push_back(args[i].kind == KernelArg::Kind::buffer
                         ? buffer_pointer(b, fn, {int32_t(args[i].value)})
                         : llvm::ConstantInt::get(param, uint64_t(args[i].value), true));
  }
  values.push_back(task_begin);
  values.push_back(task_end);
  b.CreateCall(callee, values);
}

} // namespace kiln::compiler
