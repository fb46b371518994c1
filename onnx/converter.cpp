#include "onnx/converter.h"

#include "ir/error.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace kiln::onnx_import {

int64_t OnnxNode::i(const std::string &name, int64_t fallback) const {
  auto it = attrs.find(name);
  return it == attrs.end() ? fallback : it->second->i();
}

double OnnxNode::f(const std::string &name, double fallback) const {
  auto it = attrs.find(name);
  return it == attrs.end() ? fallback : it->second->f();
}

std::string OnnxNode::s(const std::string &name, const std::string &fallback) const {
  auto it = attrs.find(name);
  return it == attrs.end() ? fallback : it->second->s();
}

std::vector<int64_t> OnnxNode::ints(const std::string &name, std::vector<int64_t> fallback) const {
  auto it = attrs.find(name);
  if (it == attrs.end()) return fallback;
  return {it->second->ints().begin(), it->second->ints().end()};
}

Value Inputs::at(size_t k) const {
  if (!has(k)) fail("input {} is missing", k);
  return values[k]->graph ? *values[k] : materialize(k);
}

const Tensor &Inputs::constant(size_t k) const {
  if (!has_constant(k)) fail("input {} must be known at import time (a constant)", k);
  return *constants[k];
}

std::vector<int64_t> Inputs::ints(size_t k, std::vector<int64_t> fallback) const {
  if (!has_constant(k)) return fallback;
  const Tensor &t = constant(k);
  if (!is_int(t.dtype()) || t.rank() > 1)
    fail("input {} is {}, expected a list of integers", k, t.summary());
  // Read as integers: through double, 2^63 - 1 ("to the end") would overflow.
  if (t.dtype() == i64) return {t.data<int64_t>().begin(), t.data<int64_t>().end()};
  return {t.data<int32_t>().begin(), t.data<int32_t>().end()};
}

double Inputs::scalar(size_t k, double fallback) const {
  if (!has_constant(k)) return fallback;
  const Tensor &t = constant(k);
  if (t.size() != 1) fail("input {} is {}, expected one number", k, t.summary());
  return t.get(0);
}

int64_t checked_elements(const std::vector<int64_t> &shape) {
  int64_t n = 1;
  for (int64_t d : shape)
    if (d < 0 || __builtin_mul_overflow(n, d, &n) || n > kMaxElements)
      fail("shape {} is not one kiln can hold", shape);
  return n;
}

Builder one(Builder1 build) {
  return [build = std::move(build)](Graph &g, const OnnxNode &n, const Inputs &in,
                                    const std::vector<std::string> &names) {
    return std::vector<Value>{build(g, n, in, names.at(0))};
  };
}

const ConverterTable &converters() {
  static const ConverterTable kTable = [] {
    ConverterTable t;
    add_math_converters(t);
    add_nn_converters(t);
    add_shape_converters(t);
    add_rnn_converters(t);
    return t;
  }();
  return kTable;
}

Value per_channel(Value v, int64_t rank) {
  if (v.rank() != 1)
    fail("'{}' is {}, expected a vector, one value per channel", v.name(), to_string(v.type()));
  Shape shape(size_t(std::max<int64_t>(rank - 1, 1)), 1);
  shape[0] = v.shape().at(0);
  return reshape(v, shape);
}

int64_t normalized_axis(int64_t axis, int64_t rank) {
  if (axis < -rank || axis >= rank) fail("axis {} is out of range for rank {}", axis, rank);
  return axis < 0 ? axis + rank : axis;
}

} // namespace kiln::onnx_import
