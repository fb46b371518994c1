#include "onnx/converter.h"

#include "ir/error.h"

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
  return *values[k];
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
  std::vector<int64_t> values;
  for (int64_t i = 0; i < t.size(); ++i) values.push_back(int64_t(t.get(i)));
  return values;
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
    return t;
  }();
  return kTable;
}

Value per_channel(Value v, int64_t rank) {
  Shape shape(size_t(std::max<int64_t>(rank - 1, 1)), 1);
  shape[0] = v.shape().at(0);
  return reshape(v, shape);
}

int64_t normalized_axis(int64_t axis, int64_t rank) {
  if (axis < -rank || axis >= rank) fail("axis {} is out of range for rank {}", axis, rank);
  return axis < 0 ? axis + rank : axis;
}

} // namespace kiln::onnx_import
