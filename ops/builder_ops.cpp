// One thin wrapper per op: the op's name, its inputs and its attributes.
// Type and shape checks live in the op definitions (ops/), reached through
// Graph::add_node, so errors name the node.
#include "ops/builder.h"

#include "ir/error.h"

namespace kiln {

namespace {

Value unary(std::string_view op, Value x, std::string name, Attrs attrs = {}) {
  return apply(op, {x}, std::move(attrs), std::move(name));
}

// The Value whose dtype a scalar operand takes: a scalar needs a Value beside it.
Value value_operand(std::string_view op, const Operand &a, const Operand &b) {
  const std::optional<Value> &v = a.value ? a.value : b.value;
  if (!v || !v->graph) fail("op '{}' needs at least one Value operand", op);
  return *v;
}

Value binary(std::string_view op, const Operand &a, const Operand &b, std::string name) {
  Value like = value_operand(op, a, b);
  return apply(op, {a.to_value(like), b.to_value(like)}, {}, std::move(name));
}

Value reduce(std::string_view op, Value x, std::vector<int64_t> axes, bool keepdims,
             std::string name) {
  return unary(op, x, std::move(name), {{"axes", std::move(axes)}, {"keepdims", keepdims}});
}

Value arg_reduce(std::string_view op, Value x, int64_t axis, bool keepdims, std::string name) {
  return unary(op, x, std::move(name), {{"axis", axis}, {"keepdims", keepdims}});
}

} // namespace

// The function is named like its op, by construction.
#define KILN_UNARY(op)                                                                             \
  Value op(Value x, std::string name) { return unary(#op, x, std::move(name)); }
#define KILN_BINARY(op)                                                                            \
  Value op(Operand a, Operand b, std::string name) { return binary(#op, a, b, std::move(name)); }

KILN_BINARY(add)
KILN_BINARY(sub)
KILN_BINARY(mul)
KILN_BINARY(div)
KILN_BINARY(maximum)
KILN_BINARY(minimum)
KILN_BINARY(pow)
KILN_BINARY(equal)
KILN_BINARY(not_equal)
KILN_BINARY(less)
KILN_BINARY(less_equal)
KILN_BINARY(greater)
KILN_BINARY(greater_equal)

KILN_UNARY(neg)
KILN_UNARY(abs)
KILN_UNARY(square)
KILN_UNARY(sign)
KILN_UNARY(exp)
KILN_UNARY(log)
KILN_UNARY(sqrt)
KILN_UNARY(rsqrt)
KILN_UNARY(erf)
KILN_UNARY(sin)
KILN_UNARY(cos)
KILN_UNARY(logical_not)
KILN_UNARY(sigmoid)
KILN_UNARY(tanh)
KILN_UNARY(relu)
KILN_UNARY(softplus)
KILN_UNARY(gelu)

#undef KILN_UNARY
#undef KILN_BINARY

Value operator+(Operand a, Operand b) { return add(a, b); }
Value operator-(Operand a, Operand b) { return sub(a, b); }
Value operator*(Operand a, Operand b) { return mul(a, b); }
Value operator/(Operand a, Operand b) { return div(a, b); }
Value operator-(Value x) { return neg(x); }

Value logical_and(Value a, Value b, std::string name) {
  return apply("logical_and", {a, b}, {}, std::move(name));
}

Value logical_or(Value a, Value b, std::string name) {
  return apply("logical_or", {a, b}, {}, std::move(name));
}

Value clip(Value x, double lo, double hi, std::string name) {
  return unary("clip", x, std::move(name), {{"min", lo}, {"max", hi}});
}

Value select(Value cond, Operand a, Operand b, std::string name) {
  Value like = value_operand("select", a, b);
  return apply("select", {cond, a.to_value(like), b.to_value(like)}, {}, std::move(name));
}

Value cast(Value x, DType dtype, std::string name) {
  return unary("cast", x, std::move(name), {{"dtype", dtype}});
}

Value leaky_relu(Value x, double alpha, std::string name) {
  return unary("leaky_relu", x, std::move(name), {{"alpha", alpha}});
}

Value elu(Value x, double alpha, std::string name) {
  return unary("elu", x, std::move(name), {{"alpha", alpha}});
}

Value softmax(Value x, int64_t axis, std::string name) {
  return unary("softmax", x, std::move(name), {{"axis", axis}});
}

Value log_softmax(Value x, int64_t axis, std::string name) {
  return unary("log_softmax", x, std::move(name), {{"axis", axis}});
}

Value sum(Value x, std::vector<int64_t> axes, bool keepdims, std::string name) {
  return reduce("sum", x, std::move(axes), keepdims, std::move(name));
}

Value mean(Value x, std::vector<int64_t> axes, bool keepdims, std::string name) {
  return reduce("mean", x, std::move(axes), keepdims, std::move(name));
}

Value max(Value x, std::vector<int64_t> axes, bool keepdims, std::string name) {
  return reduce("max", x, std::move(axes), keepdims, std::move(name));
}

Value min(Value x, std::vector<int64_t> axes, bool keepdims, std::string name) {
  return reduce("min", x, std::move(axes), keepdims, std::move(name));
}

Value size(Value x, std::vector<int64_t> axes, DType dtype, std::string name) {
  return unary("size", x, std::move(name), {{"axes", std::move(axes)}, {"dtype", dtype}});
}

Value argmax(Value x, int64_t axis, bool keepdims, std::string name) {
  return arg_reduce("argmax", x, axis, keepdims, std::move(name));
}

Value argmin(Value x, int64_t axis, bool keepdims, std::string name) {
  return arg_reduce("argmin", x, axis, keepdims, std::move(name));
}

Value matmul(Value a, Value b, MatmulOptions options, std::string name) {
  Attrs attrs = {{"transpose_a", options.transpose_a}, {"transpose_b", options.transpose_b}};
  if (options.sum_batch) attrs.emplace("sum_batch", true);
  return apply("matmul", {a, b}, std::move(attrs), std::move(name));
}

Value reshape(Value x, Shape shape, std::string name) {
  return unary("reshape", x, std::move(name), {{"shape", std::move(shape)}});
}

Value flatten(Value x, int64_t axis, std::string name) {
  return unary("flatten", x, std::move(name), {{"axis", axis}});
}

Value transpose(Value x, std::vector<int64_t> perm, std::string name) {
  return unary("transpose", x, std::move(name), {{"perm", std::move(perm)}});
}

Value concat(const std::vector<Value> &values, int64_t axis, std::string name) {
  return apply("concat", values, {{"axis", axis}}, std::move(name));
}

Value slice(Value x, std::vector<int64_t> begin, std::vector<int64_t> end,
            std::vector<int64_t> steps, std::string name) {
  Attrs attrs = {{"begin", std::move(begin)}, {"end", std::move(end)}, {"steps", std::move(steps)}};
  return unary("slice", x, std::move(name), std::move(attrs));
}

Value broadcast_to(Value x, Shape shape, std::string name) {
  return unary("broadcast_to", x, std::move(name), {{"shape", std::move(shape)}});
}

Value broadcast_like(Value x, Value like, std::string name) {
  return apply("broadcast_like", {x, like}, {}, std::move(name));
}

Value assign(Value var, Value value, std::string name) {
  return apply("assign", {var, value}, {}, std::move(name));
}

Value assign_add(Value var, Operand value, std::string name) {
  return apply("assign_add", {var, value.to_value(var)}, {}, std::move(name));
}

Value assign_sub(Value var, Operand value, std::string name) {
  return apply("assign_sub", {var, value.to_value(var)}, {}, std::move(name));
}

Value moving_average(Value var, Value x, double decay, bool squared, std::string name) {
  return apply("moving_average", {var, x}, {{"decay", decay}, {"squared", squared}},
               std::move(name));
}

Value group(Graph &g, const std::vector<Value> &updates, std::string name) {
  return apply(g, "group", updates, {}, std::move(name));
}

Value allreduce_mean(Value x, std::string name) {
  return unary("allreduce_mean", x, std::move(name));
}

namespace {

// Pads imply explicit padding.
std::string padding_mode(const std::string &padding, const std::vector<int64_t> &pads) {
  return !pads.empty() && padding == "valid" ? "explicit" : padding;
}

Value pool2d(std::string_view op, Value x, Pool2dOptions o, std::string name) {
  std::vector<int64_t> strides = o.strides.empty() ? o.kernel : o.strides;
  Attrs attrs = {{"kernel", std::move(o.kernel)},
                 {"strides", std::move(strides)},
                 {"padding", padding_mode(o.padding, o.pads)},
                 {"pads", std::move(o.pads)}};
  return unary(op, x, std::move(name), std::move(attrs));
}

} // namespace

Value conv2d(Value x, Value w, Conv2dOptions o, std::string name) {
  Attrs attrs = {{"strides", std::move(o.strides)},
                 {"dilations", std::move(o.dilations)},
                 {"padding", padding_mode(o.padding, o.pads)},
                 {"pads", std::move(o.pads)},
                 {"groups", o.groups}};
  return apply("conv2d", {x, w}, std::move(attrs), std::move(name));
}

Value max_pool2d(Value x, Pool2dOptions options, std::string name) {
  return pool2d("max_pool2d", x, std::move(options), std::move(name));
}

Value avg_pool2d(Value x, Pool2dOptions options, std::string name) {
  return pool2d("avg_pool2d", x, std::move(options), std::move(name));
}

} // namespace kiln
