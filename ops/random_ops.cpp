// random_uniform and random_normal: tensors of counter-based random numbers.
// Element i is a pure function of (seed, counter, i) (kernel_abi.h), where
// the counter is the op's one input, an i64 scalar: feeding a training loop's
// step draws new numbers each step, the same counter reproduces them, and no
// state lives in the session. Stateful, so never merged or folded.
#include "ops/random_ops.h"

#include "ir/error.h"
#include "ir/graph.h"
#include "kernels/kernel_abi.h"
#include "ops/lowering.h"

#include <cmath>

namespace kiln::ops {

namespace {

using compiler::KernelArg;

// Work per element relative to a copy: a hash of a dozen integer operations.
constexpr double kCostPerElement = 8;

// A distribution's two parameters, (lo, hi) or (mean, stddev), and its kernels.
struct Distribution {
  std::string name; // "uniform", "normal"
  const char *a, *b;
};

void check_parameters(const Distribution &d, double a, double b) {
  if (d.name == "uniform" && !(std::isfinite(a) && std::isfinite(b) && a <= b))
    fail("lo and hi must be finite with lo <= hi, got {} and {}", a, b);
  if (d.name == "normal" && !(std::isfinite(a) && std::isfinite(b) && b >= 0))
    fail("mean and stddev must be finite with stddev >= 0, got {} and {}", a, b);
}

OpDef random_op(const Distribution &d) {
  OpDef def;
  def.name = "random_" + d.name;
  def.min_inputs = def.max_inputs = 1;
  def.stateful = true;
  def.attrs = {{"shape", AttrKind::ints, std::nullopt},
               {"dtype", AttrKind::dtype, DType::f32},
               {d.a, AttrKind::f, 0.0},
               {d.b, AttrKind::f, 1.0},
               {"seed", AttrKind::i, std::nullopt}};
  def.infer = [d](const Node &node, std::span<const TensorType> in) {
    if (in[0].dtype != DType::i64 || !in[0].shape.empty())
      fail("the counter must be an i64 scalar, got {}", to_string(in[0]));
    DType dtype = node.attr_dtype("dtype");
    if (!is_float(dtype)) fail("dtype must be f32 or f64, got {}", to_string(dtype));
    check_parameters(d, node.attr_float(d.a), node.attr_float(d.b));
    const Shape &shape = node.attr_ints("shape");
    check_dims(shape, /*allow_batch=*/true);
    return TensorType{dtype, shape};
  };
  def.lower = [d](compiler::Lowering &l) {
    const TensorType &t = l.output_type();
    const Node &node = l.node();
    int64_t n = num_elements(t.shape);
    l.call("kiln_random_" + d.name + "_" + compiler::kernel_suffix(t.dtype),
           {KernelArg::buf(l.input(0)), KernelArg::buf(l.output()), KernelArg::int64(n),
            KernelArg::int64(node.attr_int("seed")),
            KernelArg::int64(abi::kiln_f64_bits(node.attr_float(d.a))),
            KernelArg::int64(abi::kiln_f64_bits(node.attr_float(d.b)))},
           abi::kiln_block_tasks(n), double(abi::kElementBlock) * kCostPerElement);
  };
  return def;
}

uint64_t key_of(const Node &node, const Tensor &counter) {
  return abi::kiln_random_key(node.attr_int("seed"), counter.data<int64_t>()[0]);
}

OpDef random_uniform_op() {
  OpDef def = random_op({"uniform", "lo", "hi"});
  def.reference = [](const Node &node, std::span<const Tensor> in, Tensor &out) {
    uint64_t key = key_of(node, in[0]);
    double lo = node.attr_float("lo"), hi = node.attr_float("hi");
    for (int64_t i = 0; i < out.size(); ++i) {
      uint64_t bits = abi::kiln_random_bits(key, i);
      if (out.dtype() == DType::f32)
        out.set(i, abi::kiln_scale_uniform<float>(abi::kiln_unit_f32(bits), lo, hi));
      else
        out.set(i, abi::kiln_scale_uniform<double>(abi::kiln_unit_f64(bits), lo, hi));
    }
  };
  return def;
}

// Box-Muller in double on draws 2i and 2i + 1, at the output type's precision.
OpDef random_normal_op() {
  OpDef def = random_op({"normal", "mean", "stddev"});
  def.reference = [](const Node &node, std::span<const Tensor> in, Tensor &out) {
    uint64_t key = key_of(node, in[0]);
    double mean = node.attr_float("mean"), stddev = node.attr_float("stddev");
    bool f32 = out.dtype() == DType::f32;
    for (int64_t i = 0; i < out.size(); ++i) {
      uint64_t bits1 = abi::kiln_random_bits(key, 2 * i),
               bits2 = abi::kiln_random_bits(key, 2 * i + 1);
      double u1 = f32 ? abi::kiln_unit_open_f32(bits1) : abi::kiln_unit_open_f64(bits1);
      double u2 = f32 ? abi::kiln_unit_f32(bits2) : abi::kiln_unit_f64(bits2);
      double z = std::sqrt(-2.0 * std::log(u1)) * std::cos(2 * M_PI * u2);
      out.set(i, mean + stddev * z);
    }
  };
  return def;
}

} // namespace

void register_random_ops(OpRegistry &registry) {
  registry.add(random_uniform_op());
  registry.add(random_normal_op());
}

} // namespace kiln::ops
