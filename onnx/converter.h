// The importer's op table: for each ONNX op, the attributes it reads (with
// their types), how many inputs it takes, which must be known at import time,
// a check of its attribute values and a builder from kiln ops. Adding an op
// is one entry in one of the converters_*.cpp files.
#pragma once

#include "ops/builder.h"

#include "onnx/onnx.pb.h"

#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace kiln::onnx_import {

// A shape computed at import time (Shape -> Gather -> Concat -> Reshape)
// holds this where the dim is kiln's symbolic batch: no real dim is negative.
inline constexpr int64_t kShapeBatch = std::numeric_limits<int64_t>::min();
// Values computed at import time hold at most this many elements.
inline constexpr int64_t kMaxFoldedElements = int64_t{1} << 24;

using AttrType = onnx::AttributeProto::AttributeType;
inline constexpr AttrType kInt = onnx::AttributeProto::INT, kFloat = onnx::AttributeProto::FLOAT,
                          kString = onnx::AttributeProto::STRING,
                          kInts = onnx::AttributeProto::INTS,
                          kTensor = onnx::AttributeProto::TENSOR;

// One ONNX node with its attributes by name. The importer has checked every
// attribute's type against the converter's before a builder reads it.
struct OnnxNode {
  const onnx::NodeProto &proto;
  std::map<std::string, const onnx::AttributeProto *> attrs;
  int64_t opset;

  bool has(const std::string &name) const { return attrs.count(name) != 0; }
  int64_t i(const std::string &name, int64_t fallback) const;
  double f(const std::string &name, double fallback) const;
  std::string s(const std::string &name, const std::string &fallback) const;
  std::vector<int64_t> ints(const std::string &name, std::vector<int64_t> fallback = {}) const;
};

// What building a node sees: the values of its inputs (absent for an omitted
// optional input, or one read for its value only) and, for those known at
// import time, their values.
struct Inputs {
  std::vector<std::optional<Value>> values; // an empty Value: known, a node once read
  std::vector<const Tensor *> constants;
  std::function<Value(size_t)> materialize; // the node of known input k

  Value at(size_t k) const;
  bool has(size_t k) const { return k < values.size() && values[k].has_value(); }
  // The value of constant input k; fails when the input is omitted.
  const Tensor &constant(size_t k) const;
  bool has_constant(size_t k) const { return k < constants.size() && constants[k] != nullptr; }
  // Constant input k as integers (an axes or pads list), or `fallback` when omitted.
  std::vector<int64_t> ints(size_t k, std::vector<int64_t> fallback = {}) const;
  // Constant input k, one number (a bound, a padding value), or `fallback` when omitted.
  double scalar(size_t k, double fallback) const;
};

using Builder = std::function<std::vector<Value>(Graph &, const OnnxNode &, const Inputs &,
                                                 const std::vector<std::string> &names)>;

struct Converter {
  std::map<std::string, AttrType> attributes = {}; // those it reads; any other is reported
  int min_inputs = 1, max_inputs = 1;
  int max_outputs = 1;                    // -1: any number
  std::vector<int> constant_inputs = {};  // read for their values at import time
  std::vector<int> statistic_inputs = {}; // with --trainable, variables that do not train
  // "" or why these attribute values cannot be imported.
  std::function<std::string(const OnnxNode &)> check = [](const OnnxNode &) { return ""; };
  // Builds the node's outputs, named names[k].
  Builder build = {};
  // Or, for ops whose value is known at import time (Shape, Constant): the value.
  std::function<Tensor(const OnnxNode &, const Inputs &)> fold = {};
};

using ConverterTable = std::map<std::string, Converter>;

// Builders of single-output ops.
using Builder1 =
    std::function<Value(Graph &, const OnnxNode &, const Inputs &, const std::string &name)>;
Builder one(Builder1 build);

const ConverterTable &converters();
void add_math_converters(ConverterTable &table);
void add_nn_converters(ConverterTable &table);
void add_shape_converters(ConverterTable &table);
void add_rnn_converters(ConverterTable &table);

// The elements of `shape`; fails when they are more than kiln can hold.
int64_t checked_elements(const std::vector<int64_t> &shape);

// A per-channel vector [C] shaped to broadcast over axis 1 of a rank-`rank` value.
Value per_channel(Value v, int64_t rank);
// `axis` of a rank-`rank` value counted from the front; fails naming it when out of range.
int64_t normalized_axis(int64_t axis, int64_t rank);

} // namespace kiln::onnx_import
