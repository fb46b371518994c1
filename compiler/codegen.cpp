#include "compiler/codegen.h"

#include "compiler/llvm_scalar_builder.h"
#include "compiler/llvm_types.h"
#include "ir/error.h"
#include "kernels/kernel_abi.h"
#include "kernels/kernel_symbols.h"
#include "ops/lowering.h"
#include "ops/op_util.h"

#include <llvm/IR/Module.h>
#include <llvm/TargetParser/Triple.h>

#include <fmt/format.h>

#include <functional>

namespace kiln::compiler {

namespace {

using V = llvm::Value *;

// One operand of a loop kernel: a strided view, or an immediate scalar
// (a one-element constant folded into the code).
struct Operand {
  View view;
  DType dtype;
  const Tensor *immediate = nullptr; // its one element, bit for bit
  bool unused = false;               // read for its shape only: not loaded
};

// Where a loop kernel stores one of its values.
struct Store {
  View view;
  DType dtype;
};

// A loop kernel's values for one element, one per Store, from its operands'.
using LoopBody = std::function<std::vector<V>(llvm::IRBuilder<> &, std::span<V const>)>;

// Emits `for (i = lo; i < hi; ++i) body(i)` at the builder's position. With
// `independent`, the memory accesses tagged with it carry no dependence from
// one iteration to the next (llvm.loop.parallel_accesses).
void emit_for(llvm::IRBuilder<> &b, V lo, V hi, const std::function<void(V)> &body,
              llvm::MDNode *independent = nullptr) {
  llvm::Function *fn = b.GetInsertBlock()->getParent();
  llvm::LLVMContext &c = b.getContext();
  llvm::BasicBlock *pre = b.GetInsertBlock();
  auto *cond = llvm::BasicBlock::Create(c, "loop", fn);
  auto *body_bb = llvm::BasicBlock::Create(c, "body", fn);
  auto *exit = llvm::BasicBlock::Create(c, "exit", fn);
  b.CreateBr(cond);
  b.SetInsertPoint(cond);
  llvm::PHINode *i = b.CreatePHI(b.getInt64Ty(), 2, "i");
  i->addIncoming(lo, pre);
  b.CreateCondBr(b.CreateICmpSLT(i, hi), body_bb, exit);
  b.SetInsertPoint(body_bb);
  body(i);
  i->addIncoming(b.CreateAdd(i, b.getInt64(1)), b.GetInsertBlock());
  llvm::BranchInst *latch = b.CreateBr(cond);
  if (independent) {
    llvm::Metadata *parallel[] = {llvm::MDString::get(c, "llvm.loop.parallel_accesses"),
                                  independent};
    llvm::Metadata *loop[] = {nullptr, llvm::MDNode::get(c, parallel)};
    llvm::MDNode *id = llvm::MDNode::getDistinct(c, loop);
    id->replaceOperandWith(0, id);
    latch->setMetadata(llvm::LLVMContext::MD_loop, id);
  }
  b.SetInsertPoint(exit);
}

// A loop nest over `shape` after merging dims that every view walks
// contiguously: `dims` and, per view, its stride along each merged dim.
struct MergedLoop {
  std::vector<int64_t> dims;
  std::vector<std::vector<int64_t>> strides;
};

MergedLoop merge_dims(const Shape &shape, const std::vector<const View *> &views) {
  MergedLoop loop;
  loop.strides.resize(views.size());
  for (size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == 1) continue;
    bool mergeable = !loop.dims.empty();
    for (size_t v = 0; v < views.size() && mergeable; ++v)
      mergeable = loop.strides[v].back() == views[v]->strides[d] * shape[d];
    if (mergeable) {
      loop.dims.back() *= shape[d];
      for (size_t v = 0; v < views.size(); ++v) loop.strides[v].back() = views[v]->strides[d];
    } else {
      loop.dims.push_back(shape[d]);
      for (size_t v = 0; v < views.size(); ++v) loop.strides[v].push_back(views[v]->strides[d]);
    }
  }
  if (loop.dims.empty()) { // a single element
    loop.dims.push_back(1);
    for (auto &s : loop.strides) s.push_back(0);
  }
  return loop;
}

// A one-element tensor as an LLVM constant, from its bits: an i64 beyond 2^53
// would not survive a trip through double.
V immediate_value(llvm::IRBuilder<> &b, const Tensor &t) {
  llvm::LLVMContext &c = b.getContext();
  switch (t.dtype()) {
  case DType::f32: return llvm::ConstantFP::get(llvm::Type::getFloatTy(c), t.data<float>()[0]);
  case DType::f64: return llvm::ConstantFP::get(llvm::Type::getDoubleTy(c), t.data<double>()[0]);
  case DType::i32: return b.getInt32(uint32_t(t.data<int32_t>()[0]));
  case DType::i64: return b.getInt64(uint64_t(t.data<int64_t>()[0]));
  case DType::boolean: return b.getInt1(t.data<uint8_t>()[0] != 0);
  }
  return nullptr;
}

class ModuleEmitter : public Lowering {
public:
  ModuleEmitter(EmittedUnit &unit, const Graph &g, std::span<const TensorType> types,
                EmittedProgram &out)
      : m_(*unit.module), c_(unit.module->getContext()), unit_(unit), g_(g), types_(types),
        out_(out) {}

  void emit(NodeId id) {
    node_ = &g_.node(id);
    body_ = nullptr;
    if (node_->op->scalar)
      emit_elementwise();
    else
      node_->op->lower(*this);
  }

  // While an epilogue's anchor lowers, it sees itself with the fused node's
  // inputs (through its body's parameters) and output.
  const Node &node() const override { return anchor_ ? *anchor_ : *node_; }
  // A reduction's input computed in its kernel is the slab (kSlab).
  Buffer input(size_t i) const override {
    if (slab_input(i)) return {kSlab};
    return {node_->inputs.at(outer_input(i))};
  }
  Buffer output() const override { return {node_->id}; }
  const TensorType &input_type(size_t i) const override {
    if (slab_input(i)) return slab_type_;
    return types_[size_t(node_->inputs.at(outer_input(i)))];
  }
  const TensorType &output_type() const override { return types_[static_cast<size_t>(node_->id)]; }

  Buffer scratch(DType type, int64_t elements) override {
    out_.buffers.push_back({-1, node_->id, type, elements});
    return {static_cast<int32_t>(out_.buffers.size() - 1)};
  }

  void call(std::string_view function, std::vector<KernelArg> args, int64_t num_tasks,
            double task_cost) override {
    if (anchor_) { // emitted with the epilogue
      if (anchor_call_)
        fail("internal error: {} makes more than one call, an epilogue needs one",
             anchor_->describe());
      anchor_call_ = {std::string(function), std::move(args), num_tasks, task_cost};
      return;
    }
    if (num_tasks == 0) return;
    llvm::IRBuilder<> b(c_);
    llvm::Function *fn = begin_kernel(b, num_tasks, task_cost);
    emit_call(b, fn, function, args, fn->getArg(1), fn->getArg(2));
    b.CreateRetVoid();
  }

  void task_box(TaskBox box) override { anchor_box_ = box; }

  void copy(DType type, const Shape &shape, const View &dst, const View &src) override {
    emit_loop(shape, {{dst, type}}, {{src, type, nullptr}},
              [](llvm::IRBuilder<> &, std::span<V const> v) { return std::vector<V>{v[0]}; });
  }

  void fill(DType type, const Shape &shape, const View &dst, double value) override {
    emit_loop(shape, {{dst, type}}, {}, [&](llvm::IRBuilder<> &b, std::span<V const>) {
      return std::vector<V>{LlvmScalarBuilder(b, m_, *node_).constant(value, type)};
    });
  }

  void fused_loop(const Graph &body) override {
    body_ = &body;
    const Node &first = *std::find_if(body.nodes().begin(), body.nodes().end(),
                                      [](const Node &n) { return n.op->source == Source::none; });
    if (!first.op->scalar) return emit_epilogue(first);
    if (!body.nodes().back().op->scalar) return emit_reduction(body.nodes().back());
    const TensorType &out = output_type();
    // The last member goes to the output; a member that updates a variable
    // also to the buffer it updates (the input its parameter stands for, or
    // the buffer of the member it follows), unless that is the output's: a
    // fused update's output is its input 0, and the last store must win.
    std::vector<Store> stores = {{contiguous(output(), out.shape), out.dtype}};
    std::vector<NodeId> stored = {NodeId(body.size() - 1)};
    std::vector<Buffer> updated(body.size());
    for (const Node &n : body.nodes()) {
      if (n.op->source != Source::none) {
        updated[size_t(n.id)] = input(size_t(n.attr_int("index")));
        continue;
      }
      if (!n.op->updates_variable) continue;
      updated[size_t(n.id)] = updated[size_t(n.inputs[0])];
      Buffer target = updated[size_t(n.id)];
      if (n.id == stored[0] || (node_->op->updates_variable && target.index == input(0).index))
        continue;
      if (n.type.shape.size() != out.shape.size())
        fail("{}: member {} updates a variable of another shape than the output's",
             node_->describe(), n.describe());
      stores.push_back({contiguous(target, out.shape), n.type.dtype});
      stored.push_back(n.id);
    }
    emit_loop(out.shape, stores, elementwise_operands(),
              [&](llvm::IRBuilder<> &b, std::span<V const> inputs) {
                std::vector<V> values = evaluate(b, body, inputs), results;
                for (NodeId id : stored) results.push_back(values[size_t(id)]);
                return results;
              });
  }

private:
  static constexpr int32_t kSlab = -2;
  bool slab_input(size_t i) const {
    return anchor_ && body_->node(anchor_->inputs.at(i)).op->source == Source::none;
  }

  // The fused node's input that body parameter `i` of the anchor stands for.
  size_t outer_input(size_t i) const {
    if (!anchor_) return i;
    return size_t(body_->node(anchor_->inputs.at(i)).attr_int("index"));
  }

  // The body's values for one element: parameters from `inputs` (one per
  // fused input), members by their scalar functions, `known` as given.
  std::vector<V> evaluate(llvm::IRBuilder<> &b, const Graph &body, std::span<V const> inputs,
                          NodeId known = -1, V known_value = nullptr) {
    std::vector<V> values(body.size());
    for (const Node &n : body.nodes()) {
      if (n.id == known) {
        values[size_t(n.id)] = known_value;
      } else if (n.op->source == Source::none && !n.op->scalar) {
        continue; // a reduction, run by its kernel
      } else if (n.op->source != Source::none) {
        values[size_t(n.id)] = inputs[size_t(n.attr_int("index"))];
      } else {
        std::vector<V> args;
        for (NodeId in : n.inputs) args.push_back(values[size_t(in)]);
        LlvmScalarBuilder sb(b, m_, n);
        values[size_t(n.id)] = n.op->scalar(sb, args);
        // Later members read the variable as updated (graph order).
        if (n.op->updates_variable) values[size_t(n.inputs[0])] = values[size_t(n.id)];
      }
    }
    return values;
  }

  void emit_call(llvm::IRBuilder<> &b, llvm::Function *fn, std::string_view function,
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

  // An epilogue fusion (passes/fuse_epilogues.cpp): the anchor's one call,
  // task by task, each followed by the elementwise members over the box of
  // the output that task wrote, read back while it is in cache.
  void emit_epilogue(const Node &anchor) {
    anchor_ = &anchor;
    anchor_call_.reset();
    anchor_box_.reset();
    anchor.op->lower(*this);
    anchor_ = nullptr;
    if (!anchor_call_ || !anchor_box_)
      fail("internal error: {} did not declare the call and task box an epilogue needs",
           anchor.describe());
    const PendingCall call = *anchor_call_;
    if (call.num_tasks == 0) return;
    const TensorType &out = output_type();
    // The epilogue's operands: the inputs its members read (not the anchor's).
    std::vector<bool> read = values_read(&anchor);
    std::vector<std::pair<size_t, Operand>> operands;
    for (size_t i = 0; i < read.size(); ++i)
      if (read[i]) operands.emplace_back(i, operand(i, out.shape));
    std::vector<const View *> views;
    View dst = contiguous(output(), out.shape);
    views.push_back(&dst);
    for (const auto &[i, o] : operands)
      if (!o.immediate) views.push_back(&o.view);

    llvm::IRBuilder<> b(c_);
    llvm::Function *fn = begin_kernel(b, call.num_tasks, call.task_cost);
    std::vector<V> bases;
    for (const View *v : views) bases.push_back(buffer_pointer(b, fn, v->buffer));
    emit_for(b, fn->getArg(1), fn->getArg(2), [&](V task) {
      emit_call(b, fn, call.function, call.args, task, b.CreateAdd(task, b.getInt64(1)));
      emit_box(b, task_dims(b, task, out.shape, views), views, [&](const std::vector<V> &at) {
        auto address = [&](size_t v, DType t) {
          return b.CreateInBoundsGEP(memory_type(c_, t), bases[v], at[v]);
        };
        std::vector<V> inputs(read.size(), nullptr);
        size_t v = 1;
        for (const auto &[i, o] : operands) {
          if (o.immediate) {
            inputs[i] = immediate_value(b, *o.immediate);
            continue;
          }
          V x = b.CreateLoad(memory_type(c_, o.dtype), address(v++, o.dtype));
          inputs[i] = o.dtype == DType::boolean ? b.CreateICmpNE(x, b.getInt8(0)) : x;
        }
        V anchor_value = b.CreateLoad(memory_type(c_, out.dtype), address(0, out.dtype));
        V result = evaluate(b, *body_, inputs, anchor.id, anchor_value).back();
        b.CreateStore(result, address(0, out.dtype));
      });
    });
    b.CreateRetVoid();
  }

  // The batch size the fused node's types are bound to, read off its inputs.
  int64_t body_batch() const {
    for (const Node &n : body_->nodes()) {
      if (n.op->source == Source::none) continue;
      const Shape &s = n.type.shape;
      for (size_t d = 0; d < s.size(); ++d)
        if (is_batch(s[d])) return input_type(size_t(n.attr_int("index"))).shape[d];
    }
    return 1;
  }

  // A reduce fusion (passes/fuse_reductions.cpp): the reduction's one call
  // (kernel_abi.h's row reduction), task by task, each after computing the
  // slab of the input it reduces into a buffer on the stack; or, when the
  // slab would be too big for the stack, the input into a scratch buffer.
  void emit_reduction(const Node &reduction) {
    const Node &producer = body_->node(reduction.inputs[0]);
    slab_type_ = {producer.type.dtype, bind_batch(producer.type.shape, body_batch())};
    anchor_ = &reduction;
    anchor_call_.reset();
    reduction.op->lower(*this);
    anchor_ = nullptr;
    if (!anchor_call_ || anchor_call_->args.size() != 5 || anchor_call_->args[0].value != kSlab ||
        anchor_call_->args[1].value != output().index)
      fail("internal error: {} is not one row reduction of its input", reduction.describe());
    PendingCall call = *anchor_call_;
    const Shape &shape = slab_type_.shape;
    std::vector<Operand> operands = elementwise_operands(&shape);
    auto producer_value = [&](llvm::IRBuilder<> &b, std::span<V const> inputs) {
      return std::vector<V>{evaluate(b, *body_, inputs)[size_t(producer.id)]};
    };
    int64_t reduce = call.args[3].value, inner = call.args[4].value;
    int64_t block = std::min(inner, abi::kRowTileInner);
    constexpr int64_t kMaxSlabBytes = 256 << 10; // worker threads have a few MiB of stack
    if (reduce * block * int64_t(byte_size(slab_type_.dtype)) > kMaxSlabBytes) {
      Buffer whole = scratch(slab_type_.dtype, num_elements(shape));
      emit_loop(shape, {{contiguous(whole, shape), slab_type_.dtype}}, operands, producer_value);
      call.args[0] = KernelArg::buf(whole);
      return this->call(call.function, call.args, call.num_tasks, call.task_cost);
    }
    if (call.num_tasks == 0) return;

    llvm::IRBuilder<> b(c_);
    llvm::Function *fn = begin_kernel(b, call.num_tasks, call.task_cost);
    llvm::Type *type = memory_type(c_, slab_type_.dtype);
    V slab = b.CreateAlloca(type, b.getInt64(uint64_t(reduce * block)), "slab");
    std::vector<V> bases;
    for (const Operand &o : operands) bases.push_back(buffer_pointer(b, fn, o.view.buffer));
    V out = buffer_pointer(b, fn, output());
    auto constant = [&](int64_t x) { return b.getInt64(uint64_t(x)); };
    V blocks = constant(abi::ceil_div(inner, abi::kRowTileInner));
    emit_for(b, fn->getArg(1), fn->getArg(2), [&](V task) {
      V o = b.CreateUDiv(task, blocks);
      V i0 = b.CreateMul(b.CreateURem(task, blocks), constant(abi::kRowTileInner));
      V i1 = b.CreateBinaryIntrinsic(
          llvm::Intrinsic::smin, b.CreateAdd(i0, constant(abi::kRowTileInner)), constant(inner));
      V width = b.CreateSub(i1, i0);
      emit_for(b, constant(0), constant(reduce), [&](V r) {
        V row = b.CreateMul(b.CreateAdd(b.CreateMul(o, constant(reduce)), r), constant(inner));
        emit_for(b, i0, i1, [&](V i) {
          // Inputs have the slab's shape (contiguous) or one element.
          std::vector<V> inputs;
          for (size_t k = 0; k < operands.size(); ++k) {
            const Operand &op = operands[k];
            if (op.unused) {
              inputs.push_back(nullptr);
              continue;
            }
            if (op.immediate) {
              inputs.push_back(immediate_value(b, *op.immediate));
              continue;
            }
            bool single = num_elements(input_type(k).shape) == 1;
            V at = single ? constant(0) : b.CreateAdd(row, i);
            V x = b.CreateLoad(memory_type(c_, op.dtype),
                               b.CreateInBoundsGEP(memory_type(c_, op.dtype), bases[k], at));
            inputs.push_back(op.dtype == DType::boolean ? b.CreateICmpNE(x, b.getInt8(0)) : x);
          }
          V at = b.CreateAdd(b.CreateMul(r, width), b.CreateSub(i, i0));
          b.CreateStore(producer_value(b, inputs)[0], b.CreateInBoundsGEP(type, slab, at));
        });
      });
      llvm::Function *callee = native_kernel(call.function, call.args);
      V dst = b.CreateInBoundsGEP(type, out, b.CreateAdd(b.CreateMul(o, constant(inner)), i0));
      b.CreateCall(callee,
                   {slab, dst, constant(1), constant(reduce), width, constant(0), constant(1)});
    });
    b.CreateRetVoid();
  }

  // One dim of the box a task writes: indices [lo, hi), and each view's stride.

  struct BoxDim {
    V lo, hi;
    std::vector<int64_t> strides;
  };

  std::vector<BoxDim> task_dims(llvm::IRBuilder<> &b, V task, const Shape &shape,
                                const std::vector<const View *> &views) {
    auto strides_of = [&](size_t d) {
      std::vector<int64_t> s;
      for (const View *v : views) s.push_back(v->strides[d]);
      return s;
    };
    auto constant = [&](int64_t x) { return b.getInt64(uint64_t(x)); };
    auto upto = [&](V lo, int64_t step, int64_t end) {
      return b.CreateBinaryIntrinsic(llvm::Intrinsic::smin, b.CreateAdd(lo, constant(step)),
                                     constant(end));
    };
    if (anchor_box_->kind == TaskBox::Kind::matmul_tiles) {
      int64_t m = shape[0], n = shape[1], blocks = abi::kiln_matmul_m_blocks(m);
      V m0 = b.CreateMul(b.CreateURem(task, constant(blocks)), constant(abi::kMatmulTileM));
      V n0 = b.CreateMul(b.CreateUDiv(task, constant(blocks)), constant(abi::kMatmulTileN));
      return {{m0, upto(m0, abi::kMatmulTileM, m), strides_of(0)},
              {n0, upto(n0, abi::kMatmulTileN, n), strides_of(1)}};
    }
    V r0 = b.CreateMul(task, constant(anchor_box_->rows));
    std::vector<BoxDim> dims = {{r0, upto(r0, anchor_box_->rows, shape[0]), strides_of(0)}};
    // The rest of each row whole, its dims merged where every view allows.
    std::vector<View> tails;
    for (const View *v : views)
      tails.push_back({v->buffer, 0, {v->strides.begin() + 1, v->strides.end()}});
    std::vector<const View *> tail_views;
    for (const View &t : tails) tail_views.push_back(&t);
    MergedLoop rest = merge_dims(Shape(shape.begin() + 1, shape.end()), tail_views);
    for (size_t d = 0; d < rest.dims.size(); ++d) {
      std::vector<int64_t> s;
      for (const auto &view_strides : rest.strides) s.push_back(view_strides[d]);
      dims.push_back({constant(0), constant(rest.dims[d]), s});
    }
    return dims;
  }

  // Calls at(offsets) for every index of the box, one offset per view.
  void emit_box(llvm::IRBuilder<> &b, const std::vector<BoxDim> &dims,
                const std::vector<const View *> &views,
                const std::function<void(const std::vector<V> &)> &at, size_t d = 0,
                std::vector<V> offsets = {}) {
    if (offsets.empty())
      for (const View *v : views) offsets.push_back(b.getInt64(uint64_t(v->offset)));
    emit_for(b, dims[d].lo, dims[d].hi, [&](V i) {
      std::vector<V> next;
      for (size_t v = 0; v < views.size(); ++v)
        next.push_back(
            b.CreateAdd(offsets[v], b.CreateMul(i, b.getInt64(uint64_t(dims[d].strides[v])))));
      if (d + 1 == dims.size())
        at(next);
      else
        emit_box(b, dims, views, at, d + 1, next);
    });
  }

  // The node's inputs broadcast into its output; one-element constants
  // become immediates.
  // Which of the node's inputs a member reads as a value (`skip` aside): not
  // those read for their shape only (OpDef::shape_only_inputs).
  std::vector<bool> values_read(const Node *skip = nullptr) const {
    std::vector<bool> read(node_->inputs.size(), !body_);
    auto shape_only = [](const Node &n, size_t i) {
      const std::vector<size_t> &s = n.op->shape_only_inputs;
      return std::find(s.begin(), s.end(), i) != s.end();
    };
    if (!body_) {
      for (size_t i = 0; i < read.size(); ++i) read[i] = !shape_only(*node_, i);
      return read;
    }
    for (const Node &n : body_->nodes()) {
      if (n.op->source != Source::none || &n == skip) continue;
      for (size_t i = 0; i < n.inputs.size(); ++i) {
        const Node &in = body_->node(n.inputs[i]);
        if (in.op->source != Source::none && !shape_only(n, i))
          read[size_t(in.attr_int("index"))] = true;
      }
    }
    return read;
  }

  // The node's inputs broadcast into `shape` (by default its output's).
  std::vector<Operand> elementwise_operands(const Shape *shape = nullptr) const {
    std::vector<bool> read = values_read();
    std::vector<Operand> operands;
    for (size_t i = 0; i < node_->inputs.size(); ++i) {
      operands.push_back(operand(i, shape ? *shape : output_type().shape));
      operands.back().unused = !read[i];
    }
    return operands;
  }

  // Input i broadcast into `shape`.
  Operand operand(size_t i, const Shape &shape) const {
    const Node &in = g_.node(node_->inputs[i]);
    const TensorType &t = input_type(i);
    const Tensor *immediate = nullptr;
    if (in.op->source == Source::constant && num_elements(t.shape) == 1)
      immediate = &in.attr_tensor("value");
    return {{input(i), 0, ops::broadcast_strides(t.shape, shape)}, t.dtype, immediate};
  }

  void emit_elementwise() {
    const TensorType &out = output_type();
    emit_loop(out.shape, {{contiguous(output(), out.shape), out.dtype}}, elementwise_operands(),
              [&](llvm::IRBuilder<> &b, std::span<V const> v) {
                LlvmScalarBuilder sb(b, m_, *node_);
                return std::vector<V>{node_->op->scalar(sb, v)};
              });
  }

  // A native kernel (kernels/kernels.h) declared for a call with `args` and a task range.
  llvm::Function *native_kernel(std::string_view name, const std::vector<KernelArg> &args) {
    const auto symbols = kernels::kernel_symbols();
    if (std::none_of(symbols.begin(), symbols.end(),
                     [&](const kernels::KernelSymbol &s) { return name == s.name; }))
      fail("{}: the kernel library has no function '{}'", node_->describe(), name);
    llvm::Type *i64 = llvm::Type::getInt64Ty(c_);
    std::vector<llvm::Type *> params;
    for (const KernelArg &a : args)
      params.push_back(a.kind == KernelArg::Kind::buffer ? llvm::PointerType::get(c_, 0) : i64);
    params.insert(params.end(), 2, i64);
    auto *type = llvm::FunctionType::get(llvm::Type::getVoidTy(c_), params, false);
    auto *fn = llvm::dyn_cast<llvm::Function>(
        m_.getOrInsertFunction(llvm::StringRef(name.data(), name.size()), type).getCallee());
    if (!fn || fn->getFunctionType() != type)
      fail("internal error: {} calls '{}' with different arguments", node_->describe(), name);
    return fn;
  }

  // void kernel(ptr args, i64 task_begin, i64 task_end): args holds the
  // buffers the kernel uses, in the order it first asks for them
  // (buffer_pointer), so equal kernels of different nodes are equal code.
  llvm::Function *begin_kernel(llvm::IRBuilder<> &b, int64_t num_tasks, double task_cost) {
    std::string symbol = fmt::format("k{}", unit_.kernels.size());
    auto *type = llvm::FunctionType::get(b.getVoidTy(),
                                         {b.getPtrTy(), b.getInt64Ty(), b.getInt64Ty()}, false);
    auto *fn = llvm::Function::Create(type, llvm::Function::ExternalLinkage, symbol, m_);
    fn->getArg(0)->setName("args");
    fn->getArg(1)->setName("task_begin");
    fn->getArg(2)->setName("task_end");
    b.SetInsertPoint(llvm::BasicBlock::Create(c_, "entry", fn));
    unit_.kernels.push_back(out_.kernels.size());
    out_.kernels.push_back({nullptr, symbol, node_->id, num_tasks, task_cost, {}});
    return fn;
  }

  // The kernel being emitted (the last one begun) reads `buffer` from its args.
  V buffer_pointer(llvm::IRBuilder<> &b, llvm::Function *fn, Buffer buffer) {
    std::vector<int32_t> &slots = out_.kernels.back().buffers;
    auto found = std::find(slots.begin(), slots.end(), buffer.index);
    size_t slot = size_t(found - slots.begin());
    if (found == slots.end()) slots.push_back(buffer.index);
    V at = b.CreateConstInBoundsGEP1_64(b.getPtrTy(), fn->getArg(0), uint64_t(slot));
    return b.CreateLoad(b.getPtrTy(), at, fmt::format("arg{}", slot));
  }

  // dsts = body(srcs) over `shape`. Tasks are (outer index, chunk of the
  // innermost dim) pairs, so large 1-D loops still split across threads.
  void emit_loop(const Shape &shape, const std::vector<Store> &dsts,
                 const std::vector<Operand> &srcs, const LoopBody &body) {
    if (num_elements(shape) == 0) return;
    std::vector<const View *> views;
    for (const Store &d : dsts) views.push_back(&d.view);
    for (const Operand &s : srcs)
      if (!s.immediate && !s.unused) views.push_back(&s.view);
    MergedLoop loop = merge_dims(shape, views);
    int64_t inner = loop.dims.back();
    int64_t chunk = inner <= 16384 ? inner : 8192;
    int64_t chunks = (inner + chunk - 1) / chunk;
    int64_t outer = num_elements(loop.dims) / inner;

    llvm::IRBuilder<> b(c_);
    llvm::Function *fn = begin_kernel(b, outer * chunks, double(chunk));
    std::vector<V> bases;
    for (const View *v : views) bases.push_back(buffer_pointer(b, fn, v->buffer));

    emit_for(b, fn->getArg(1), fn->getArg(2), [&](V task) {
      V row = chunks == 1 ? task : b.CreateUDiv(task, b.getInt64(uint64_t(chunks)));
      V j0 = chunks == 1 ? b.getInt64(0)
                         : b.CreateMul(b.CreateURem(task, b.getInt64(uint64_t(chunks))),
                                       b.getInt64(uint64_t(chunk)));
      V j1 = chunks == 1 ? b.getInt64(uint64_t(inner))
                         : b.CreateBinaryIntrinsic(llvm::Intrinsic::smin,
                                                   b.CreateAdd(j0, b.getInt64(uint64_t(chunk))),
                                                   b.getInt64(uint64_t(inner)));
      // Each view's offset for this row: decompose the row index over the outer dims.
      std::vector<V> offsets;
      for (size_t v = 0; v < views.size(); ++v) {
        V offset = b.getInt64(uint64_t(views[v]->offset));
        V rest = row;
        for (size_t d = loop.dims.size() - 1; d-- > 0;) {
          V index = d == 0 ? rest : b.CreateURem(rest, b.getInt64(uint64_t(loop.dims[d])));
          if (d > 0) rest = b.CreateUDiv(rest, b.getInt64(uint64_t(loop.dims[d])));
          offset =
              b.CreateAdd(offset, b.CreateMul(index, b.getInt64(uint64_t(loop.strides[v][d]))));
        }
        offsets.push_back(offset);
      }
      // Every element is computed from the same index of its operands, so
      // iterations are independent even where the planner has the output
      // overwrite a dying input: the vectorizer needs no overlap check.
      llvm::MDNode *independent = llvm::MDNode::getDistinct(c_, {});
      emit_for(
          b, j0, j1,
          [&](V j) {
            auto address = [&](size_t v, DType t) {
              V at = b.CreateAdd(offsets[v],
                                 b.CreateMul(j, b.getInt64(uint64_t(loop.strides[v].back()))));
              return b.CreateInBoundsGEP(memory_type(c_, t), bases[v], at);
            };
            std::vector<V> values;
            size_t v = dsts.size();
            for (const Operand &s : srcs) {
              if (s.unused) {
                values.push_back(nullptr);
                continue;
              }
              if (s.immediate) {
                values.push_back(immediate_value(b, *s.immediate));
                continue;
              }
              llvm::LoadInst *x = b.CreateLoad(memory_type(c_, s.dtype), address(v++, s.dtype));
              x->setMetadata(llvm::LLVMContext::MD_access_group, independent);
              values.push_back(s.dtype == DType::boolean ? b.CreateICmpNE(x, b.getInt8(0)) : x);
            }
            std::vector<V> results = body(b, values);
            for (size_t d = 0; d < dsts.size(); ++d) {
              V result = results[d];
              if (dsts[d].dtype == DType::boolean) result = b.CreateZExt(result, b.getInt8Ty());
              b.CreateStore(result, address(d, dsts[d].dtype))
                  ->setMetadata(llvm::LLVMContext::MD_access_group, independent);
            }
          },
          independent);
    });
    b.CreateRetVoid();
  }

  llvm::Module &m_;
  llvm::LLVMContext &c_;
  EmittedUnit &unit_;
  const Graph &g_;
  std::span<const TensorType> types_;
  EmittedProgram &out_;
  const Node *node_ = nullptr;
  // Lowering a fused node: its body, and while the anchor of an epilogue
  // lowers, the anchor, its call and its task box.
  struct PendingCall {
    std::string function;
    std::vector<KernelArg> args;
    int64_t num_tasks = 0;
    double task_cost = 0;
  };
  const Graph *body_ = nullptr;
  const Node *anchor_ = nullptr;
  std::optional<PendingCall> anchor_call_;
  std::optional<TaskBox> anchor_box_;
  TensorType slab_type_; // a reduce fusion's reduced input, bound
};

} // namespace

EmittedProgram emit_program(const Graph &g, std::span<const TensorType> types,
                            std::span<const NodeId> schedule, const llvm::DataLayout &layout,
                            const llvm::Triple &triple) {
  EmittedProgram out;
  for (const Node &n : g.nodes())
    out.buffers.push_back(
        {n.id, n.id, types[size_t(n.id)].dtype, num_elements(types[size_t(n.id)].shape)});
  for (NodeId id : schedule) {
    EmittedUnit unit;
    unit.context = std::make_unique<llvm::LLVMContext>();
    unit.module = std::make_unique<llvm::Module>("kiln", *unit.context);
    unit.module->setDataLayout(layout);
    unit.module->setTargetTriple(triple.str());
    ModuleEmitter(unit, g, types, out).emit(id);
    if (!unit.kernels.empty()) out.units.push_back(std::move(unit));
  }
  return out;
}

} // namespace kiln::compiler
