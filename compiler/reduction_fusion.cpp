#include "compiler/reduction_fusion.h"

#include "compiler/elementwise.h"
#include "compiler/llvm_types.h"
#include "compiler/loops.h"
#include "ir/error.h"
#include "kernels/kernel_abi.h"

namespace kiln::compiler {

namespace {

using V = llvm::Value *;

// The batch size the fused node's types are bound to, read off its inputs.
int64_t body_batch(const ModuleEmitter &e, const Graph &body) {
  for (const Node &n : body.nodes()) {
    if (n.op->source == Source::none) continue;
    const Shape &s = n.type.shape;
    for (size_t d = 0; d < s.size(); ++d)
      if (is_batch(s[d])) return e.input_type(size_t(n.attr_int("index"))).shape[d];
  }
  return 1;
}

} // namespace

void emit_reduction(ModuleEmitter &e, const Graph &body, const Node &reduction) {
  const Node &producer = body.node(reduction.inputs[0]);
  const TensorType slab_type = {producer.type.dtype,
                                bind_batch(producer.type.shape, body_batch(e, body))};
  std::optional<PendingCall> lowered = e.lower_anchor(reduction, body, slab_type).call;
  if (!lowered || lowered->args.size() != 5 || lowered->args[0].value != ModuleEmitter::kSlab ||
      lowered->args[1].value != e.output().index)
    fail("internal error: {} is not one row reduction of its input", reduction.describe());
  PendingCall call = *lowered;
  const Shape &shape = slab_type.shape;
  std::vector<Operand> operands = e.operands(shape, &body);
  auto producer_value = [&](llvm::IRBuilder<> &b, std::span<V const> inputs) {
    return std::vector<V>{evaluate(b, e.module(), body, inputs)[size_t(producer.id)]};
  };
  int64_t reduce = call.args[3].value, inner = call.args[4].value;
  int64_t block = std::min(inner, abi::kRowTileInner);
  constexpr int64_t kMaxSlabBytes = 256 << 10; // worker threads have a few MiB of stack
  if (reduce * block * int64_t(byte_size(slab_type.dtype)) > kMaxSlabBytes) {
    Buffer whole = e.scratch(slab_type.dtype, num_elements(shape));
    emit_loop(e, shape, {{contiguous(whole, shape), slab_type.dtype}}, operands, producer_value);
    call.args[0] = KernelArg::buf(whole);
    return e.call(call.function, call.args, call.num_tasks, call.task_cost);
  }
  if (call.num_tasks == 0) return;

  llvm::LLVMContext &c = e.context();
  llvm::IRBuilder<> b(c);
  llvm::Function *fn = e.begin_kernel(b, call.num_tasks, call.task_cost);
  llvm::Type *type = memory_type(c, slab_type.dtype);
  V slab = b.CreateAlloca(type, b.getInt64(uint64_t(reduce * block)), "slab");
  std::vector<V> bases;
  for (const Operand &o : operands) bases.push_back(e.buffer_pointer(b, fn, o.view.buffer));
  V out = e.buffer_pointer(b, fn, e.output());
  auto constant = [&](int64_t x) { return b.getInt64(uint64_t(x)); };
  V blocks = constant(abi::ceil_div(inner, abi::kRowTileInner));
  emit_for(b, fn->getArg(1), fn->getArg(2), [&](V task) {
    V o = b.CreateUDiv(task, blocks);
    V i0 = b.CreateMul(b.CreateURem(task, blocks), constant(abi::kRowTileInner));
    V i1 = b.CreateBinaryIntrinsic(llvm::Intrinsic::smin,
                                   b.CreateAdd(i0, constant(abi::kRowTileInner)), constant(inner));
    V width = b.CreateSub(i1, i0);
    emit_for(b, constant(0), constant(reduce), [&](V r) {
      V row = b.CreateMul(b.CreateAdd(b.CreateMul(o, constant(reduce)), r), constant(inner));
      emit_for(b, i0, i1, [&](V i) {
        // Inputs have the slab's shape (contiguous) or one element.
        std::vector<V> inputs = load_operands(b, operands, [&](size_t k) {
          V at = num_elements(e.input_type(k).shape) == 1 ? constant(0) : b.CreateAdd(row, i);
          return b.CreateInBoundsGEP(memory_type(c, operands[k].dtype), bases[k], at);
        });
        V at = b.CreateAdd(b.CreateMul(r, width), b.CreateSub(i, i0));
        b.CreateStore(producer_value(b, inputs)[0], b.CreateInBoundsGEP(type, slab, at));
      });
    });
    llvm::Function *callee = e.native_kernel(call.function, call.args);
    V dst = b.CreateInBoundsGEP(type, out, b.CreateAdd(b.CreateMul(o, constant(inner)), i0));
    b.CreateCall(callee,
                 {slab, dst, constant(1), constant(reduce), width, constant(0), constant(1)});
  });
  b.CreateRetVoid();
}

} // namespace kiln::compiler
