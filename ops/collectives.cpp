// Ops of data-parallel training: the mean of a value over the job's ranks,
// and the pieces the data-parallel pass (passes/data_parallel.cpp) cuts it
// into so that one collective averages a bucket of gradients while the
// backward pass goes on:
//
//   b = gradient_bucket(g1, g2)       the gradients, flattened, end to end
//   s = allreduce_mean_start(b)       starts the bucket's mean, in place
//   r = allreduce_mean_finish(s)      waits for it, where it is first needed
//   g1' = bucket_part(r) {offset, shape}
//
// The interpreter is a job of one: a mean over one rank is the value itself.
#include "ops/collectives.h"

#include "ir/error.h"
#include "kernels/kernels.h"
#include "ops/collective_step.h"
#include "ops/grad.h"
#include "ops/lowering.h"
#include "ops/op_util.h"

#include <cstring>

namespace kiln::ops {

namespace {

// dst[dst_offset, + bytes) = src[src_offset, + bytes), skipped at run time
// where the memory plan put both in the same bytes (kernels/copy.cpp).
void copy_bytes(compiler::Lowering &l, compiler::Buffer src, int64_t src_offset,
                compiler::Buffer dst, int64_t dst_offset, int64_t bytes) {
  using compiler::KernelArg;
  l.call("kiln_copy_bytes",
         {KernelArg::buf(src), KernelArg::buf(dst), KernelArg::int64(src_offset),
          KernelArg::int64(dst_offset), KernelArg::int64(bytes)},
         (bytes + KILN_COPY_CHUNK - 1) / KILN_COPY_CHUNK, KILN_COPY_CHUNK);
}

void copy_reference(const Node &, std::span<const Tensor> in, Tensor &out) {
  std::memcpy(out.raw(), in[0].raw(), in[0].bytes());
}

TensorType infer_float_same(const Node &, std::span<const TensorType> in) {
  check_same_dtype(in, DTypes::floats);
  return in[0];
}

// The mean over the ranks of x, of x's type. Written on gradients by the
// optimizers; the data-parallel pass removes it in a job of one and buckets
// it otherwise. Lowered alone, it is a collective of its own.
OpDef allreduce_mean_op() {
  OpDef def = fixed_arity_op("allreduce_mean", 1);
  def.infer = [](const Node &node, std::span<const TensorType> in) {
    TensorType t = infer_float_same(node, in);
    for (int64_t d : t.shape)
      if (is_batch(d)) fail("the mean over the ranks needs a shape without the batch dim");
    return t;
  };
  def.reference = copy_reference;
  def.lower = [](compiler::Lowering &l) {
    l.collective(CollectiveStep::start_allreduce_mean, l.input(0), l.output());
    l.collective(CollectiveStep::finish_allreduce_mean, l.output(), l.output());
  };
  // Every rank's x reaches every rank's output with weight 1/ranks.
  def.grad = [](const GradContext &c, size_t) { return allreduce_mean(c.dy); };
  return def;
}

// The inputs, flattened and laid end to end: one buffer for one collective.
OpDef gradient_bucket_op() {
  OpDef def = fixed_arity_op("gradient_bucket", 1);
  def.max_inputs = -1;
  def.infer = [](const Node &, std::span<const TensorType> in) {
    DType t = check_same_dtype(in, DTypes::floats);
    int64_t total = 0;
    for (const TensorType &x : in) {
      for (int64_t d : x.shape)
        if (is_batch(d)) fail("a gradient bucket holds no tensor with the batch dim");
      total += num_elements(x.shape);
    }
    return TensorType{t, {total}};
  };
  def.reference = [](const Node &, std::span<const Tensor> in, Tensor &out) {
    auto *at = static_cast<std::byte *>(out.raw());
    for (const Tensor &x : in)
      at = static_cast<std::byte *>(std::memcpy(at, x.raw(), x.bytes())) + x.bytes();
  };
  def.lower = [](compiler::Lowering &l) {
    int64_t offset = 0, element = int64_t(byte_size(l.output_type().dtype));
    for (size_t i = 0; i < l.node().inputs.size(); ++i) {
      int64_t bytes = num_elements(l.input_type(i).shape) * element;
      copy_bytes(l, l.input(i), 0, l.output(), offset, bytes);
      offset += bytes;
    }
  };
  return def;
}

// Elements [offset, offset + size) of a bucket, as a tensor of `shape`.
OpDef bucket_part_op() {
  OpDef def = fixed_arity_op(
      "bucket_part", 1,
      {{"offset", AttrKind::i, std::nullopt}, {"shape", AttrKind::ints, std::nullopt}});
  def.infer = [](const Node &node, std::span<const TensorType> in) {
    if (in[0].shape.size() != 1) fail("expected a bucket (rank 1), got {}", to_string(in[0].shape));
    Shape shape = node.attr_ints("shape");
    int64_t offset = node.attr_int("offset");
    check_dims(shape, /*allow_batch=*/false);
    if (offset < 0 || offset > in[0].shape[0] || num_elements(shape) > in[0].shape[0] - offset)
      fail("{} elements from offset {} lie outside the bucket's {}", num_elements(shape), offset,
           in[0].shape[0]);
    return TensorType{in[0].dtype, shape};
  };
  def.reference = [](const Node &node, std::span<const Tensor> in, Tensor &out) {
    size_t offset = size_t(node.attr_int("offset")) * byte_size(in[0].dtype());
    std::memcpy(out.raw(), static_cast<const std::byte *>(in[0].raw()) + offset, out.bytes());
  };
  def.lower = [](compiler::Lowering &l) {
    const TensorType &t = l.output_type();
    int64_t element = int64_t(byte_size(t.dtype));
    copy_bytes(l, l.input(0), l.node().attr_int("offset") * element, l.output(), 0,
               num_elements(t.shape) * element);
  };
  return def;
}

// One half of a bucket's collective: stateful, so never merged or folded;
// the output may take over the input's storage, so the mean runs in place.
OpDef collective_op(std::string name, CollectiveStep step) {
  OpDef def = fixed_arity_op(std::move(name), 1);
  def.stateful = true;
  def.output_reuses_input = true;
  def.infer = [](const Node &node, std::span<const TensorType> in) {
    TensorType t = infer_float_same(node, in);
    if (t.shape.size() != 1) fail("expected a bucket (rank 1), got {}", to_string(t.shape));
    return t;
  };
  def.reference = copy_reference;
  def.lower = [step](compiler::Lowering &l) { l.collective(step, l.input(0), l.output()); };
  return def;
}

} // namespace

void register_collective_ops(OpRegistry &registry) {
  registry.add(allreduce_mean_op());
  registry.add(gradient_bucket_op());
  registry.add(bucket_part_op());
  registry.add(collective_op("allreduce_mean_start", CollectiveStep::start_allreduce_mean));
  registry.add(collective_op("allreduce_mean_finish", CollectiveStep::finish_allreduce_mean));
}

} // namespace kiln::ops
