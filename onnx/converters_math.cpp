// Elementwise ops, activations, reductions and matrix products.
#include "onnx/converter.h"
#include "onnx/onnx_tensor.h"

#include "ir/error.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <limits>

namespace kiln::onnx_import {

namespace {

Converter unary(const char *op) {
  return {.build = one([op](Graph &g, const OnnxNode &, const Inputs &in, const std::string &name) {
            return apply(g, op, {in.at(0)}, {}, name);
          })};
}

Converter binary(const char *op) {
  return {.min_inputs = 2,
          .max_inputs = 2,
          .build = one([op](Graph &g, const OnnxNode &, const Inputs &in, const std::string &name) {
            return apply(g, op, {in.at(0), in.at(1)}, {}, name);
          })};
}

// Max, Min, Sum, Mean of one or more inputs, with broadcasting.
Converter variadic(const char *op, bool mean) {
  return {.min_inputs = 1,
          .max_inputs = std::numeric_limits<int>::max(),
          .build = one(
              [op, mean](Graph &g, const OnnxNode &n, const Inputs &in, const std::string &name) {
                int count = n.proto.input_size();
                if (count == 1) return reshape(in.at(0), in.at(0).shape(), name);
                Value y = in.at(0);
                for (int k = 1; k < count; ++k)
                  y = apply(g, op, {y, in.at(size_t(k))}, {}, k + 1 == count && !mean ? name : "");
                return mean ? div(y, double(count), name) : y;
              })};
}

// ONNX's Pow takes an exponent of any numeric type; kiln's pow one of the base's.
Value onnx_pow(Graph &, const OnnxNode &, const Inputs &in, const std::string &name) {
  Value base = in.at(0), exponent = in.at(1);
  if (exponent.dtype() != base.dtype()) exponent = cast(exponent, base.dtype());
  return pow(base, exponent, name);
}

// Clip's bounds: attributes before opset 11, optional constant inputs after.
Value onnx_clip(Graph &, const OnnxNode &n, const Inputs &in, const std::string &name) {
  double lo = -std::numeric_limits<double>::infinity(), hi = -lo;
  if (n.opset < 11) {
    lo = n.f("min", lo);
    hi = n.f("max", hi);
  } else {
    lo = in.scalar(1, lo);
    hi = in.scalar(2, hi);
  }
  return clip(in.at(0), lo, hi, name);
}

Converter softmax_like(bool log) {
  return {
      .attributes = {{"axis", kInt}},
      .build = one([log](Graph &, const OnnxNode &n, const Inputs &in, const std::string &name) {
        Value x = in.at(0);
        int64_t axis = normalized_axis(n.i("axis", n.opset < 13 ? 1 : -1), x.rank());
        // Before opset 13 the input is coerced to 2-D at `axis`: the same
        // as a softmax over the last axis only when that is `axis`.
        if (n.opset < 13 && axis != x.rank() - 1)
          fail("axis {} of a rank-{} input is not supported before opset 13", axis, x.rank());
        return log ? log_softmax(x, axis, name) : softmax(x, axis, name);
      })};
}

Value gemm(Graph &, const OnnxNode &n, const Inputs &in, const std::string &name) {
  double alpha = n.f("alpha", 1), beta = n.f("beta", 1);
  bool has_c = in.has(2);
  Value y = matmul(in.at(0), in.at(1),
                   {.transpose_a = n.i("transA", 0) != 0, .transpose_b = n.i("transB", 0) != 0},
                   has_c || alpha != 1 ? std::string() : name);
  if (alpha != 1) y = mul(y, alpha, has_c ? std::string() : name);
  if (!has_c) return y;
  Value c = beta != 1 ? mul(in.at(2), beta) : in.at(2);
  return add(y, c, name);
}

// ReduceX: axes an attribute, or (ReduceSum from opset 13) a constant input;
// none means all, unless noop_with_empty_axes.
Converter reduction(Value (*reduce)(Value, std::vector<int64_t>, bool, std::string),
                    bool axes_input_from_13) {
  Converter c{.attributes = {{"axes", kInts}, {"keepdims", kInt}, {"noop_with_empty_axes", kInt}},
              .max_inputs = axes_input_from_13 ? 2 : 1,
              .constant_inputs = {1}};
  c.build = one([reduce](Graph &, const OnnxNode &n, const Inputs &in, const std::string &name) {
    Value x = in.at(0);
    std::vector<int64_t> axes = in.has_constant(1) ? in.ints(1) : n.ints("axes");
    if (axes.empty() && n.i("noop_with_empty_axes", 0)) return reshape(x, x.shape(), name);
    for (int64_t &a : axes) a = normalized_axis(a, x.rank());
    return reduce(x, axes, n.i("keepdims", 1) != 0, name);
  });
  return c;
}

Converter arg_reduction(bool is_max) {
  return {
      .attributes = {{"axis", kInt}, {"keepdims", kInt}, {"select_last_index", kInt}},
      .check =
          [](const OnnxNode &n) {
            return n.i("select_last_index", 0) ? std::string("select_last_index=1 is not supported")
                                               : "";
          },
      .build = one([is_max](Graph &, const OnnxNode &n, const Inputs &in, const std::string &name) {
        Value x = in.at(0);
        int64_t axis = normalized_axis(n.i("axis", 0), x.rank());
        bool keep = n.i("keepdims", 1) != 0;
        return is_max ? argmax(x, axis, keep, name) : argmin(x, axis, keep, name);
      })};
}

// log(sum(exp(x))) without overflow: m + log(sum(exp(x - m))), m the max.
Value log_sum_exp(Value x, std::vector<int64_t> axes, bool keepdims, std::string name) {
  Value m = max(x, axes, true);
  Value y = log(sum(exp(x - m), axes, true)) + m;
  return keepdims ? reshape(y, y.shape(), name) : reshape(y, max(x, axes, false).shape(), name);
}

// A copy named after the output: kiln names a value by its node, and an
// Identity's output may be what the model's user fetches.
Value named_copy(Graph &, const OnnxNode &, const Inputs &in, const std::string &name) {
  return reshape(in.at(0), in.at(0).shape(), name);
}

} // namespace

void add_math_converters(ConverterTable &t) {
  for (auto [onnx, op] : {std::pair{"Add", "add"},
                          {"Sub", "sub"},
                          {"Mul", "mul"},
                          {"Div", "div"},
                          {"Equal", "equal"},
                          {"Less", "less"},
                          {"Greater", "greater"},
                          {"LessOrEqual", "less_equal"},
                          {"GreaterOrEqual", "greater_equal"},
                          {"And", "logical_and"},
                          {"Or", "logical_or"},
                          {"MatMul", "matmul"}})
    t[onnx] = binary(op);
  for (auto [onnx, op] : {std::pair{"Relu", "relu"},
                          {"Tanh", "tanh"},
                          {"Sigmoid", "sigmoid"},
                          {"Exp", "exp"},
                          {"Log", "log"},
                          {"Sqrt", "sqrt"},
                          {"Neg", "neg"},
                          {"Abs", "abs"},
                          {"Erf", "erf"},
                          {"Sin", "sin"},
                          {"Cos", "cos"},
                          {"Sign", "sign"},
                          {"Not", "logical_not"},
                          {"Softplus", "softplus"}})
    t[onnx] = unary(op);
  t["Max"] = variadic("maximum", false);
  t["Min"] = variadic("minimum", false);
  t["Sum"] = variadic("add", false);
  t["Mean"] = variadic("add", true);
  t["Pow"] = {.min_inputs = 2, .max_inputs = 2, .build = one(onnx_pow)};
  t["Reciprocal"] = {.build =
                         one([](Graph &, const OnnxNode &, const Inputs &in,
                                const std::string &name) { return div(1.0, in.at(0), name); })};
  t["LeakyRelu"] = {
      .attributes = {{"alpha", kFloat}},
      .build = one([](Graph &, const OnnxNode &n, const Inputs &in, const std::string &name) {
        return leaky_relu(in.at(0), n.f("alpha", 0.01), name);
      })};
  t["Elu"] = {.attributes = {{"alpha", kFloat}},
              .build =
                  one([](Graph &, const OnnxNode &n, const Inputs &in, const std::string &name) {
                    return elu(in.at(0), n.f("alpha", 1), name);
                  })};
  // HardSigmoid: clip(alpha x + beta, 0, 1); HardSwish: x HardSigmoid(x) with 1/6 and 1/2.
  t["HardSigmoid"] = {
      .attributes = {{"alpha", kFloat}, {"beta", kFloat}},
      .build = one([](Graph &, const OnnxNode &n, const Inputs &in, const std::string &name) {
        return clip(in.at(0) * n.f("alpha", 0.2) + n.f("beta", 0.5), 0, 1, name);
      })};
  t["HardSwish"] = {
      .build = one([](Graph &, const OnnxNode &, const Inputs &in, const std::string &name) {
        Value x = in.at(0);
        return mul(x, clip(x * (1.0 / 6) + 0.5, 0, 1), name);
      })};
  t["PRelu"] = {.min_inputs = 2,
                .max_inputs = 2,
                .build =
                    one([](Graph &, const OnnxNode &, const Inputs &in, const std::string &name) {
                      Value x = in.at(0);
                      return add(maximum(x, 0.0), in.at(1) * minimum(x, 0.0), name);
                    })};
  t["Selu"] = {.attributes = {{"alpha", kFloat}, {"gamma", kFloat}},
               .build =
                   one([](Graph &, const OnnxNode &n, const Inputs &in, const std::string &name) {
                     return mul(elu(in.at(0), n.f("alpha", 1.67326319217681884765625)),
                                n.f("gamma", 1.05070102214813232421875), name);
                   })};
  t["Celu"] = {.attributes = {{"alpha", kFloat}},
               .build =
                   one([](Graph &, const OnnxNode &n, const Inputs &in, const std::string &name) {
                     double alpha = n.f("alpha", 1);
                     return mul(elu(in.at(0) / alpha, 1), alpha, name);
                   })};
  t["Softsign"] = {
      .build = one([](Graph &, const OnnxNode &, const Inputs &in, const std::string &name) {
        return div(in.at(0), abs(in.at(0)) + 1.0, name);
      })};
  t["ThresholdedRelu"] = {
      .attributes = {{"alpha", kFloat}},
      .build = one([](Graph &, const OnnxNode &n, const Inputs &in, const std::string &name) {
        Value x = in.at(0);
        return select(greater(x, n.f("alpha", 1)), x, 0.0, name);
      })};
  t["CastLike"] = {
      .min_inputs = 2,
      .max_inputs = 2,
      .build = one([](Graph &, const OnnxNode &, const Inputs &in, const std::string &name) {
        return cast(in.at(0), in.at(1).dtype(), name);
      })};
  t["Clip"] = {.attributes = {{"min", kFloat}, {"max", kFloat}},
               .max_inputs = 3,
               .constant_inputs = {1, 2},
               .build = one(onnx_clip)};
  t["Where"] = {.min_inputs = 3,
                .max_inputs = 3,
                .build =
                    one([](Graph &, const OnnxNode &, const Inputs &in, const std::string &name) {
                      return select(in.at(0), in.at(1), in.at(2), name);
                    })};
  t["Cast"] = {.attributes = {{"to", kInt}},
               .check =
                   [](const OnnxNode &n) {
                     return dtype_of(int32_t(n.i("to", 0)))
                                ? std::string()
                                : fmt::format("to={} is not supported",
                                              onnx_type_name(int32_t(n.i("to", 0))));
                   },
               .build =
                   one([](Graph &, const OnnxNode &n, const Inputs &in, const std::string &name) {
                     return cast(in.at(0), *dtype_of(int32_t(n.i("to", 0))), name);
                   })};
  t["Softmax"] = softmax_like(false);
  t["LogSoftmax"] = softmax_like(true);
  t["Gemm"] = {
      .attributes = {{"alpha", kFloat}, {"beta", kFloat}, {"transA", kInt}, {"transB", kInt}},
      .min_inputs = 2,
      .max_inputs = 3,
      .build = one(gemm)};
  t["ReduceMean"] = reduction(mean, false);
  t["ReduceMax"] = reduction(max, false);
  t["ReduceMin"] = reduction(min, false);
  t["ReduceSum"] = reduction(sum, true);
  t["ReduceL1"] = reduction([](Value x, std::vector<int64_t> axes, bool keep,
                               std::string name) { return sum(abs(x), axes, keep, name); },
                            false);
  t["ReduceL2"] = reduction([](Value x, std::vector<int64_t> axes, bool keep,
                               std::string name) { return sqrt(sum(square(x), axes, keep), name); },
                            false);
  t["ReduceSumSquare"] =
      reduction([](Value x, std::vector<int64_t> axes, bool keep,
                   std::string name) { return sum(square(x), axes, keep, name); },
                false);
  t["ReduceLogSum"] = reduction([](Value x, std::vector<int64_t> axes, bool keep,
                                   std::string name) { return log(sum(x, axes, keep), name); },
                                false);
  t["ReduceLogSumExp"] = reduction(log_sum_exp, false);
  t["ArgMax"] = arg_reduction(true);
  t["ArgMin"] = arg_reduction(false);
  t["Identity"] = {.build = one(named_copy)};
  // Inference: dropout passes its input through.
  t["Dropout"] = {
      .attributes = {{"ratio", kFloat}, {"is_test", kInt}, {"seed", kInt}},
      .max_inputs = 3,
      .constant_inputs = {1, 2},
      .build = one([](Graph &g, const OnnxNode &n, const Inputs &in, const std::string &name) {
        if (in.scalar(2, 0) != 0)
          fail("training_mode=true is not supported (kiln imports for inference)");
        return named_copy(g, n, in, name);
      })};
}

} // namespace kiln::onnx_import
