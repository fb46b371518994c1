// matmul(a, b): [..., M, K] x [..., K, N] -> [..., M, N], with transpose
// flags on the last two dims and batch dims that match or broadcast as a
// whole (an operand's batch dims are either the result's or all 1). With
// sum_batch, the products summed over equal batch dims: [M, N].
#include "ops/matmul.h"

#include "ir/error.h"
#include "kernels/kernel_abi.h"
#include "ops/grad.h"
#include "ops/lowering.h"
#include "ops/op_util.h"

#include <algorithm>
#include <vector>

namespace kiln::ops {

namespace {

struct MatmulDims {
  int64_t m, n, k;
  Shape batch; // the result's batch dims (with sum_batch, those summed over)
};

MatmulDims matmul_dims(const Node &node, const TensorType &a, const TensorType &b) {
  if (a.shape.size() < 2 || b.shape.size() < 2)
    fail("operands must have rank >= 2, got {} and {}", to_string(a), to_string(b));
  bool ta = node.attr_bool("transpose_a"), tb = node.attr_bool("transpose_b");
  size_t ra = a.shape.size(), rb = b.shape.size();
  int64_t m = a.shape[ra - (ta ? 1 : 2)], ka = a.shape[ra - (ta ? 2 : 1)];
  int64_t kb = b.shape[rb - (tb ? 1 : 2)], n = b.shape[rb - (tb ? 2 : 1)];
  if (ka != kb)
    fail("inner dimensions differ: {}{} x {}{}", to_string(a.shape), ta ? "^T" : "",
         to_string(b.shape), tb ? "^T" : "");
  Shape batch_a(a.shape.begin(), a.shape.end() - 2), batch_b(b.shape.begin(), b.shape.end() - 2);
  if (node.attr_bool("sum_batch")) {
    if (!ta || tb)
      fail("sum_batch needs transpose_a and not transpose_b (A^T B summed over the batch dims)");
    if (batch_a != batch_b)
      fail("sum_batch needs equal batch dims, got {} and {}", to_string(batch_a),
           to_string(batch_b));
    return {m, n, ka, batch_a};
  }
  return {m, n, ka, broadcast_shapes(batch_a, batch_b)};
}

// Batch stride (elements) of an operand: its matrix size when its batch dims
// are the result's, 0 when they are all 1.
int64_t batch_stride(const Shape &operand, const Shape &batch) {
  Shape own(operand.begin(), operand.end() - 2);
  int64_t matrix = operand[operand.size() - 1] * operand[operand.size() - 2];
  if (std::all_of(own.begin(), own.end(), [](int64_t d) { return d == 1; }))
    return num_elements(batch) == 1 ? matrix : 0;
  Shape padded(batch.size() - own.size(), 1);
  padded.insert(padded.end(), own.begin(), own.end());
  if (padded != batch)
    fail("batch dims {} must equal the result's {} or be all 1", to_string(own), to_string(batch));
  return matrix;
}

void reference_matmul(const Node &node, const Tensor &a, const Tensor &b, Tensor &out) {
  MatmulDims d = matmul_dims(node, {a.dtype(), a.shape()}, {b.dtype(), b.shape()});
  bool ta = node.attr_bool("transpose_a"), tb = node.attr_bool("transpose_b");
  bool sum_batch = node.attr_bool("sum_batch");
  int64_t sa = batch_stride(a.shape(), d.batch), sb = batch_stride(b.shape(), d.batch);
  int64_t batches = num_elements(d.batch);
  std::vector<double> sums(size_t(sum_batch ? d.m * d.n : 0), 0.0);
  for (int64_t z = 0; z < batches; ++z)
    for (int64_t i = 0; i < d.m; ++i)
      for (int64_t j = 0; j < d.n; ++j) {
        double acc = 0;
        for (int64_t k = 0; k < d.k; ++k)
          acc += a.get(z * sa + (ta ? k * d.m + i : i * d.k + k)) *
                 b.get(z * sb + (tb ? j * d.k + k : k * d.n + j));
        if (sum_batch)
          sums[size_t(i * d.n + j)] += acc;
        else
          out.set((z * d.m + i) * d.n + j, acc);
      }
  for (size_t e = 0; e < sums.size(); ++e) out.set(int64_t(e), sums[e]);
}

void lower_matmul(compiler::Lowering &l) {
  const Node &node = l.node();
  const TensorType &a = l.input_type(0), &b = l.input_type(1);
  MatmulDims d = matmul_dims(node, a, b);
  bool ta = node.attr_bool("transpose_a"), tb = node.attr_bool("transpose_b");
  int64_t batches = num_elements(d.batch);
  int64_t a_stride = batch_stride(a.shape, d.batch), b_stride = batch_stride(b.shape, d.batch);
  // With sum_batch (A^T B) the batches' rows of K follow one another in both
  // operands: the sum over the batches is one product with K * batches rows.
  // A B shared by every batch (x W, x [N, L, D]) and an untransposed A: the
  // batches' rows of A and C follow one another, one product of M * batches
  // rows (taller tiles, each panel of B packed for more rows).
  size_t rank = l.output_type().shape.size();
  size_t first_row_dim = rank - 2;
  if (node.attr_bool("sum_batch")) {
    d.k *= batches;
    batches = 1;
  } else if (batches > 1 && b_stride == 0 && !ta) {
    d.m *= batches;
    batches = 1;
    first_row_dim = 0;
  }
  using compiler::KernelArg;
  std::vector<KernelArg> args = {
      KernelArg::buf(l.input(0)), KernelArg::buf(l.input(1)), KernelArg::buf(l.output()),
      KernelArg::int64(d.m), KernelArg::int64(d.n), KernelArg::int64(d.k),
      // Row and column strides of A and B: a transpose swaps them.
      KernelArg::int64(ta ? 1 : d.k), KernelArg::int64(ta ? d.m : 1),
      KernelArg::int64(tb ? 1 : d.n), KernelArg::int64(tb ? d.k : 1), KernelArg::int64(batches),
      KernelArg::int64(a_stride), KernelArg::int64(b_stride), KernelArg::int64(d.m * d.n)};
  l.call("kiln_matmul_" + compiler::kernel_suffix(a.dtype), std::move(args),
         abi::kiln_matmul_tasks(batches, d.m, d.n), abi::kiln_matmul_task_cost(d.m, d.n, d.k));
  l.task_box({.kind = compiler::TaskBox::Kind::matrix_tiles,
              .first_row_dim = first_row_dim,
              .row_dim = rank - 2});
}

} // namespace

void register_matmul_ops(OpRegistry &registry) {
  OpDef def;
  def.name = "matmul";
  def.min_inputs = def.max_inputs = 2;
  def.attrs = {{"transpose_a", AttrKind::b, false},
               {"transpose_b", AttrKind::b, false},
               {"sum_batch", AttrKind::b, false}};
  def.infer = [](const Node &node, std::span<const TensorType> in) {
    DType t = check_same_dtype(in, DTypes::floats);
    MatmulDims d = matmul_dims(node, in[0], in[1]);
    batch_stride(in[0].shape, d.batch);
    batch_stride(in[1].shape, d.batch);
    Shape out = node.attr_bool("sum_batch") ? Shape{} : d.batch;
    out.push_back(d.m);
    out.push_back(d.n);
    return TensorType{t, out};
  };
  def.reference = [](const Node &node, std::span<const Tensor> in, Tensor &out) {
    reference_matmul(node, in[0], in[1], out);
  };
  def.lower = lower_matmul;
  def.takes_epilogue = [](const Node &) { return true; };
  def.grad = [](const GradContext &c, size_t i) {
    bool ta = c.node().attr_bool("transpose_a"), tb = c.node().attr_bool("transpose_b");
    Value a = c.x(0), b = c.x(1), dc = c.dy;
    // A weight shared by every batch (x W with x [N, L, D], W [D, E]): its
    // gradient, A^T dC summed over the batches, is one GEMM with sum_batch
    // rather than a product per batch and a sum.
    const Shape sa = a.shape(), sc = dc.shape();
    if (i == 1 && !ta && !tb && b.rank() == 2 && sa.size() > 2 &&
        std::equal(sa.begin(), sa.end() - 2, sc.begin(), sc.end() - 2))
      return matmul(a, dc, {.transpose_a = true, .sum_batch = true});
    // C = op(A) op(B); each case is dC times the other operand, arranged so
    // that the result has the stored (untransposed) layout of the input.
    // With sum_batch, dC is each batch's, broadcast.
    Value grad = i == 0 ? (ta ? matmul(b, dc, {tb, true}) : matmul(dc, b, {false, !tb}))
                        : (tb ? matmul(dc, a, {true, ta}) : matmul(a, dc, {!ta, false}));
    return unbroadcast(grad, c.x(i).shape());
  };
  registry.add(std::move(def));
}

} // namespace kiln::ops
