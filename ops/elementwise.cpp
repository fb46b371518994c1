// Elementwise ops with NumPy broadcasting: arithmetic, math, comparisons,
// logic, select, clip and cast. Each is one row: name, operand types, the
// reference scalar function (in double precision, the oracle) and the scalar
// expression the compiler emits.
#include "ops/elementwise.h"

#include "ir/error.h"
#include "ops/grad.h"
#include "ops/op_util.h"
#include "ops/scalar_builder.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace kiln::ops {

using compiler::ScalarBuilder;
using V = ScalarBuilder::V;
using Cmp = ScalarBuilder::Cmp;

OpDef elementwise_op(const ElementwiseSpec &spec) {
  OpDef def;
  def.name = spec.name;
  def.min_inputs = def.max_inputs = spec.arity;
  def.attrs = spec.attrs;
  def.infer = [spec](const Node &node, std::span<const TensorType> in) {
    DType t = check_same_dtype(in, spec.operands);
    Shape shape = in[0].shape;
    for (size_t i = 1; i < in.size(); ++i) shape = broadcast_shapes(shape, in[i].shape);
    return TensorType{spec.result ? spec.result(node, t) : t, shape};
  };
  def.reference = [spec](const Node &node, std::span<const Tensor> in, Tensor &out) {
    reference_elementwise(in, out, [&](std::span<const double> x) { return spec.ref(node, x); });
  };
  def.scalar = spec.scalar;
  def.grad = spec.grad;
  return def;
}

namespace {

double sign(double x) { return std::isnan(x) ? x : double((x > 0) - (x < 0)); }

// Integer division truncates like C, and gives 0 for a zero divisor.
double int_div(const Node &node, double a, double b) {
  if (!is_int(node.type.dtype)) return a / b;
  return b == 0 ? 0 : std::trunc(a / b); // INT_MIN / -1 wraps in Tensor::set
}

DType to_bool(const Node &, DType) { return DType::boolean; }

using Grad = decltype(OpDef::grad);

// A binary op's gradient for input i: `partial` is the gradient at the
// broadcast shape, summed back over the axes input i was broadcast along.
Grad broadcasting(Value (*partial)(const GradContext &c, size_t i)) {
  return [partial](const GradContext &c, size_t i) {
    return unbroadcast(partial(c, i), c.x(i).shape());
  };
}

ElementwiseSpec binary(std::string name, DTypes operands, double (*ref)(double, double),
                       V (*emit)(ScalarBuilder &, V, V), Grad grad = {}) {
  return {name,
          2,
          operands,
          {},
          [ref](const Node &, std::span<const double> x) { return ref(x[0], x[1]); },
          [emit](ScalarBuilder &b, std::span<V const> a) { return emit(b, a[0], a[1]); },
          nullptr,
          std::move(grad)};
}

// A unary op with gradient dy * derivative(c).
ElementwiseSpec unary(std::string name, DTypes operands, double (*ref)(double),
                      V (*emit)(ScalarBuilder &, V),
                      Value (*derivative)(const GradContext &c) = nullptr) {
  Grad grad;
  if (derivative)
    grad = [derivative](const GradContext &c, size_t) { return c.dy * derivative(c); };
  return {name,
          1,
          operands,
          {},
          [ref](const Node &, std::span<const double> x) { return ref(x[0]); },
          [emit](ScalarBuilder &b, std::span<V const> a) { return emit(b, a[0]); },
          nullptr,
          std::move(grad)};
}

ElementwiseSpec comparison(std::string name, DTypes operands, Cmp pred,
                           bool (*ref)(double, double)) {
  ElementwiseSpec s{
      name,
      2,
      operands,
      {},
      [ref](const Node &, std::span<const double> x) { return double(ref(x[0], x[1])); },
      [pred](ScalarBuilder &b, std::span<V const> a) { return b.compare(pred, a[0], a[1]); },
      to_bool,
      {}};
  return s;
}

std::vector<ElementwiseSpec> arithmetic() {
  return {
      binary(
          "add", DTypes::numeric, [](double a, double b) { return a + b; },
          [](ScalarBuilder &b, V x, V y) { return b.add(x, y); },
          broadcasting([](const GradContext &c, size_t) { return c.dy; })),
      binary(
          "sub", DTypes::numeric, [](double a, double b) { return a - b; },
          [](ScalarBuilder &b, V x, V y) { return b.sub(x, y); },
          broadcasting([](const GradContext &c, size_t i) { return i == 0 ? c.dy : -c.dy; })),
      binary(
          "mul", DTypes::numeric, [](double a, double b) { return a * b; },
          [](ScalarBuilder &b, V x, V y) { return b.mul(x, y); },
          broadcasting([](const GradContext &c, size_t i) { return c.dy * c.x(1 - i); })),
      // Ties send the gradient to the first operand, as TensorFlow does.
      binary(
          "maximum", DTypes::numeric,
          [](double a, double b) { return std::isnan(a) || std::isnan(b) ? NAN : std::max(a, b); },
          [](ScalarBuilder &b, V x, V y) { return b.max(x, y); },
          broadcasting([](const GradContext &c, size_t i) {
            Value first = greater_equal(c.x(0), c.x(1));
            return i == 0 ? select(first, c.dy, 0.0) : select(first, 0.0, c.dy);
          })),
      binary(
          "minimum", DTypes::numeric,
          [](double a, double b) { return std::isnan(a) || std::isnan(b) ? NAN : std::min(a, b); },
          [](ScalarBuilder &b, V x, V y) { return b.min(x, y); },
          broadcasting([](const GradContext &c, size_t i) {
            Value first = less_equal(c.x(0), c.x(1));
            return i == 0 ? select(first, c.dy, 0.0) : select(first, 0.0, c.dy);
          })),
      // d/db a^b = a^b log(a), taken as 0 where a <= 0 (no real logarithm).
      binary(
          "pow", DTypes::floats, [](double a, double b) { return std::pow(a, b); },
          [](ScalarBuilder &b, V x, V y) { return b.math("pow", x, y); },
          broadcasting([](const GradContext &c, size_t i) {
            Value a = c.x(0), b = c.x(1);
            if (i == 0) return c.dy * b * pow(a, b - 1.0);
            Value positive = greater(a, 0.0);
            return c.dy * c.output * select(positive, log(select(positive, a, 1.0)), 0.0);
          })),
      unary(
          "neg", DTypes::numeric, [](double a) { return -a; },
          [](ScalarBuilder &b, V x) { return b.neg(x); },
          [](const GradContext &c) { return constant(*c.dy.graph, -1.0, c.dy.dtype()); }),
      unary(
          "abs", DTypes::numeric, [](double a) { return std::abs(a); },
          [](ScalarBuilder &b, V x) { return b.abs(x); },
          [](const GradContext &c) { return sign(c.x(0)); }),
      unary(
          "square", DTypes::numeric, [](double a) { return a * a; },
          [](ScalarBuilder &b, V x) { return b.mul(x, x); },
          [](const GradContext &c) { return c.x(0) * 2.0; }),
      // Piecewise constant: a zero gradient, as in TensorFlow and PyTorch.
      unary(
          "sign", DTypes::numeric, sign,
          [](ScalarBuilder &b, V x) {
            V zero = b.constant(0, x);
            V s = b.select(b.compare(Cmp::gt, x, zero), b.constant(1, x),
                           b.select(b.compare(Cmp::lt, x, zero), b.constant(-1, x), zero));
            // NaN stays NaN: only NaN differs from itself.
            return b.select(b.compare(Cmp::ne, x, x), x, s);
          },
          [](const GradContext &c) { return constant(*c.dy.graph, 0.0, c.dy.dtype()); }),
      unary(
          "exp", DTypes::floats, [](double a) { return std::exp(a); },
          [](ScalarBuilder &b, V x) { return b.math("exp", x); },
          [](const GradContext &c) { return c.output; }),
      unary(
          "log", DTypes::floats, [](double a) { return std::log(a); },
          [](ScalarBuilder &b, V x) { return b.math("log", x); },
          [](const GradContext &c) { return 1.0 / c.x(0); }),
      unary(
          "sqrt", DTypes::floats, [](double a) { return std::sqrt(a); },
          [](ScalarBuilder &b, V x) { return b.sqrt(x); },
          [](const GradContext &c) { return 0.5 / c.output; }),
      unary(
          "rsqrt", DTypes::floats, [](double a) { return 1 / std::sqrt(a); },
          [](ScalarBuilder &b, V x) { return b.div(b.constant(1, x), b.sqrt(x)); },
          [](const GradContext &c) { return c.output / c.x(0) * -0.5; }),
      unary(
          "erf", DTypes::floats, [](double a) { return std::erf(a); },
          [](ScalarBuilder &b, V x) { return b.math("erf", x); },
          [](const GradContext &c) { return exp(-square(c.x(0))) * M_2_SQRTPI; }),
      unary(
          "sin", DTypes::floats, [](double a) { return std::sin(a); },
          [](ScalarBuilder &b, V x) { return b.math("sin", x); },
          [](const GradContext &c) { return cos(c.x(0)); }),
      unary(
          "cos", DTypes::floats, [](double a) { return std::cos(a); },
          [](ScalarBuilder &b, V x) { return b.math("cos", x); },
          [](const GradContext &c) { return -sin(c.x(0)); }),
  };
}

std::vector<ElementwiseSpec> comparisons_and_logic() {
  std::vector<ElementwiseSpec> specs = {
      comparison("equal", DTypes::any, Cmp::eq, [](double a, double b) { return a == b; }),
      comparison("not_equal", DTypes::any, Cmp::ne, [](double a, double b) { return a != b; }),
      comparison("less", DTypes::numeric, Cmp::lt, [](double a, double b) { return a < b; }),
      comparison("less_equal", DTypes::numeric, Cmp::le, [](double a, double b) { return a <= b; }),
      comparison("greater", DTypes::numeric, Cmp::gt, [](double a, double b) { return a > b; }),
      comparison("greater_equal", DTypes::numeric, Cmp::ge,
                 [](double a, double b) { return a >= b; }),
      binary(
          "logical_and", DTypes::boolean, [](double a, double b) { return double(a && b); },
          [](ScalarBuilder &b, V x, V y) { return b.select(x, y, x); }),
      binary(
          "logical_or", DTypes::boolean, [](double a, double b) { return double(a || b); },
          [](ScalarBuilder &b, V x, V y) { return b.select(x, x, y); }),
      unary(
          "logical_not", DTypes::boolean, [](double a) { return double(!a); },
          [](ScalarBuilder &b, V x) { return b.logical_not(x); }),
  };
  return specs;
}

// div: integer division truncates, so its oracle needs the node's dtype.
ElementwiseSpec div_spec() {
  return {"div",
          2,
          DTypes::numeric,
          {},
          [](const Node &n, std::span<const double> x) { return int_div(n, x[0], x[1]); },
          [](ScalarBuilder &b, std::span<V const> a) { return b.div(a[0], a[1]); },
          nullptr,
          broadcasting([](const GradContext &c, size_t i) {
            return i == 0 ? c.dy / c.x(1) : -(c.dy * c.output) / c.x(1);
          })};
}

// clip(x, lo, hi) with scalar attributes.
ElementwiseSpec clip_spec() {
  return {"clip",
          1,
          DTypes::numeric,
          {{"min", AttrKind::f, std::nullopt}, {"max", AttrKind::f, std::nullopt}},
          [](const Node &n, std::span<const double> x) {
            return std::isnan(x[0])
                       ? x[0]
                       : std::min(std::max(x[0], n.attr_float("min")), n.attr_float("max"));
          },
          [](ScalarBuilder &b, std::span<V const> a) {
            const Node &n = b.node();
            return b.min(b.max(a[0], b.constant(n.attr_float("min"), a[0])),
                         b.constant(n.attr_float("max"), a[0]));
          },
          nullptr,
          [](const GradContext &c, size_t) {
            const Node &n = c.node();
            Value x = c.x(0);
            Value inside = logical_and(greater_equal(x, n.attr_float("min")),
                                       less_equal(x, n.attr_float("max")));
            return select(inside, c.dy, 0.0);
          }};
}

// select(cond, a, b): cond is bool, a and b share a dtype.
OpDef select_op() {
  OpDef def;
  def.name = "select";
  def.min_inputs = def.max_inputs = 3;
  def.infer = [](const Node &, std::span<const TensorType> in) {
    if (in[0].dtype != DType::boolean)
      fail("condition (input 0) must be bool, got {}", to_string(in[0].dtype));
    DType t = check_same_dtype(in.subspan(1), DTypes::any);
    return TensorType{t, broadcast_shapes(broadcast_shapes(in[0].shape, in[1].shape), in[2].shape)};
  };
  def.reference = [](const Node &, std::span<const Tensor> in, Tensor &out) {
    reference_elementwise(in, out, [](std::span<const double> x) { return x[0] ? x[1] : x[2]; });
  };
  def.scalar = [](ScalarBuilder &b, std::span<V const> a) { return b.select(a[0], a[1], a[2]); };
  def.grad = [](const GradContext &c, size_t i) {
    if (i == 0) return Value{}; // the condition
    Value taken = i == 1 ? select(c.x(0), c.dy, 0.0) : select(c.x(0), 0.0, c.dy);
    return unbroadcast(taken, c.x(i).shape());
  };
  return def;
}

// cast(x) to the `dtype` attribute: float to int truncates toward zero.
OpDef cast_op() {
  OpDef def;
  def.name = "cast";
  def.min_inputs = def.max_inputs = 1;
  def.attrs = {{"dtype", AttrKind::dtype, std::nullopt}};
  def.infer = [](const Node &node, std::span<const TensorType> in) {
    return TensorType{node.attr_dtype("dtype"), in[0].shape};
  };
  // Float to integer truncates toward zero and saturates; NaN gives 0.
  // Written directly: the i64 extremes do not survive a trip through double.
  def.reference = [](const Node &node, std::span<const Tensor> in, Tensor &out) {
    if (!(is_int(out.dtype()) && is_float(in[0].dtype()))) {
      reference_elementwise(in, out, [](std::span<const double> x) { return x[0]; });
      return;
    }
    visit_dtype(out.dtype(), [&](auto zero) {
      using T = decltype(zero);
      using limits = std::numeric_limits<T>;
      for (int64_t i = 0; i < out.size(); ++i) {
        double x = in[0].get(i);
        T v = std::isnan(x)                 ? 0
              : x >= -double(limits::min()) ? limits::max()
              : x <= double(limits::min())  ? limits::min()
                                            : T(x);
        static_cast<T *>(out.raw())[i] = v;
      }
    });
  };
  def.scalar = [](ScalarBuilder &b, std::span<V const> a) {
    return b.cast(a[0], b.node().attr_dtype("dtype"));
  };
  // Only float-to-float casts carry gradients (autodiff stops at integers).
  def.grad = [](const GradContext &c, size_t) { return cast(c.dy, c.x(0).dtype()); };
  return def;
}

} // namespace

void register_elementwise_ops(OpRegistry &registry) {
  for (const ElementwiseSpec &s : arithmetic()) registry.add(elementwise_op(s));
  for (const ElementwiseSpec &s : comparisons_and_logic()) registry.add(elementwise_op(s));
  registry.add(elementwise_op(div_spec()));
  registry.add(elementwise_op(clip_spec()));
  registry.add(select_op());
  registry.add(cast_op());
}

} // namespace kiln::ops
