#include "onnx/import.h"

#include "ir/error.h"
#include "ir/serialize.h"
#include "ops/builder.h"

#include "onnx/onnx.pb.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <functional>
#include <map>
#include <set>

namespace kiln {

namespace {

using AttrMap = std::map<std::string, const onnx::AttributeProto *>;

// One ONNX node with its attributes by name.
struct OnnxNode {
  const onnx::NodeProto &proto;
  AttrMap attrs;
  int64_t opset;

  int64_t i(const std::string &name, int64_t fallback) const {
    auto it = attrs.find(name);
    return it == attrs.end() ? fallback : it->second->i();
  }
  double f(const std::string &name, double fallback) const {
    auto it = attrs.find(name);
    return it == attrs.end() ? fallback : it->second->f();
  }
  std::string s(const std::string &name, const std::string &fallback) const {
    auto it = attrs.find(name);
    return it == attrs.end() ? fallback : it->second->s();
  }
  std::vector<int64_t> ints(const std::string &name, std::vector<int64_t> fallback = {}) const {
    auto it = attrs.find(name);
    if (it == attrs.end()) return fallback;
    return {it->second->ints().begin(), it->second->ints().end()};
  }
};

// What building a node sees: the values of its inputs (absent for an
// omitted optional input) and the constants among them.
struct Inputs {
  std::vector<std::optional<Value>> values;
  std::vector<const Tensor *> constants;
  Value at(size_t k) const { return *values.at(k); }
  bool has(size_t k) const { return k < values.size() && values[k].has_value(); }
};

struct Converter {
  std::set<std::string> attributes; // those it reads; any other is reported
  // "" or why these attribute values (or this many outputs) cannot be imported.
  std::function<std::string(const OnnxNode &)> check = [](const OnnxNode &) { return ""; };
  std::function<Value(Graph &, const OnnxNode &, const Inputs &, const std::string &name)> build;
};

std::string only_first_output(const OnnxNode &n) {
  for (int k = 1; k < n.proto.output_size(); ++k)
    if (!n.proto.output(k).empty()) return fmt::format("output {} is not supported", k);
  return "";
}

// auto_pad NOTSET (explicit pads) or VALID; ceil_mode 0; unit dilations for pooling.
std::string check_window(const OnnxNode &n, bool pool) {
  std::string pad = n.s("auto_pad", "NOTSET");
  if (pad != "NOTSET" && pad != "VALID") return fmt::format("auto_pad={} is not supported", pad);
  if (n.i("ceil_mode", 0) != 0) return "ceil_mode=1 is not supported";
  std::vector<int64_t> kernel = n.ints("kernel_shape");
  if (!kernel.empty() && kernel.size() != 2)
    return fmt::format("kernel_shape {} is not 2-D (kiln has conv2d and pool2d)", kernel);
  if (pool)
    for (int64_t d : n.ints("dilations"))
      if (d != 1) return "dilations other than 1 are not supported in pooling";
  if (pool && n.i("storage_order", 0) != 0) return "storage_order=1 is not supported";
  return only_first_output(n);
}

// ONNX pads are [top, left, bottom, right]; kiln's [top, bottom, left, right].
std::vector<int64_t> kiln_pads(const OnnxNode &n) {
  std::vector<int64_t> p = n.ints("pads", {0, 0, 0, 0});
  if (p.size() != 4) fail("node '{}': pads {} are not 2-D", n.proto.name(), p);
  return {p[0], p[2], p[1], p[3]};
}

// A per-channel vector [C] shaped to broadcast over axis 1 of a rank-`rank` value.
Value per_channel(Value v, int64_t rank) {
  Shape shape(size_t(std::max<int64_t>(rank - 1, 1)), 1);
  shape[0] = v.shape().at(0);
  return reshape(v, shape);
}

Converter unary(const char *op) {
  return {.build = [op](Graph &g, const OnnxNode &, const Inputs &in, const std::string &name) {
    return apply(g, op, {in.at(0)}, {}, name);
  }};
}

Converter binary(const char *op) {
  return {.build = [op](Graph &g, const OnnxNode &, const Inputs &in, const std::string &name) {
    return apply(g, op, {in.at(0), in.at(1)}, {}, name);
  }};
}

Converter softmax_like(bool log) {
  return {.attributes = {"axis"},
          .build = [log](Graph &, const OnnxNode &n, const Inputs &in, const std::string &name) {
            Value x = in.at(0);
            int64_t axis = n.i("axis", n.opset < 13 ? 1 : -1);
            if (axis < 0) axis += x.rank();
            // Before opset 13 the input is coerced to 2-D at `axis`: the same
            // as a softmax over the last axis only when that is `axis`.
            if (n.opset < 13 && axis != x.rank() - 1)
              fail("node '{}' ({}, opset {}): axis {} of a rank-{} input is not supported",
                   n.proto.name(), n.proto.op_type(), n.opset, axis, x.rank());
            return log ? log_softmax(x, axis, name) : softmax(x, axis, name);
          }};
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

Value conv(Graph &, const OnnxNode &n, const Inputs &in, const std::string &name) {
  Conv2dOptions o{.strides = n.ints("strides", {1, 1}),
                  .dilations = n.ints("dilations", {1, 1}),
                  .padding = "explicit",
                  .pads = kiln_pads(n),
                  .groups = n.i("group", 1)};
  if (n.s("auto_pad", "NOTSET") == "VALID") o.pads = {0, 0, 0, 0};
  if (!in.has(2)) return conv2d(in.at(0), in.at(1), o, name);
  return add(conv2d(in.at(0), in.at(1), o), per_channel(in.at(2), 4), name);
}

Converter pool(bool max) {
  Converter c;
  c.attributes = {"kernel_shape", "strides", "pads", "auto_pad", "ceil_mode"};
  if (max)
    c.attributes.insert({"dilations", "storage_order"});
  else
    c.attributes.insert("count_include_pad");
  c.check = [max](const OnnxNode &n) {
    std::string why = check_window(n, true);
    if (!why.empty()) return why;
    bool padded = false;
    for (int64_t p : n.ints("pads")) padded = padded || p != 0;
    if (!max && padded && n.i("count_include_pad", 0) != 0)
      return std::string("count_include_pad=1 with padding is not supported");
    return std::string();
  };
  c.build = [max](Graph &, const OnnxNode &n, const Inputs &in, const std::string &name) {
    Pool2dOptions o{.kernel = n.ints("kernel_shape"),
                    .strides = n.ints("strides", n.ints("kernel_shape")),
                    .padding = "explicit",
                    .pads = kiln_pads(n)};
    if (n.s("auto_pad", "NOTSET") == "VALID") o.pads = {0, 0, 0, 0};
    return max ? max_pool2d(in.at(0), o, name) : avg_pool2d(in.at(0), o, name);
  };
  return c;
}

// Inference: (x - mean) * scale / sqrt(var + epsilon) + bias, per channel.
Value batch_norm(Graph &, const OnnxNode &n, const Inputs &in, const std::string &name) {
  Value x = in.at(0), scale = in.at(1), bias = in.at(2), mean = in.at(3), var = in.at(4);
  Value factor = scale * rsqrt(var + n.f("epsilon", 1e-5));
  int64_t r = x.rank();
  return add((x - per_channel(mean, r)) * per_channel(factor, r), per_channel(bias, r), name);
}

// ONNX's 0 copies the input's dim; kiln allows one -1, standing for the batch
// dim when the input has it, so another -1 is computed from the item dims.
Value onnx_reshape(Graph &, const OnnxNode &n, const Inputs &in, const std::string &name) {
  Value x = in.at(0);
  const Tensor *target = in.constants.at(1);
  Shape in_shape = x.shape(), shape;
  for (int64_t k = 0; k < target->size(); ++k) {
    auto d = int64_t(target->get(k));
    shape.push_back(d == 0 ? in_shape.at(size_t(k)) : d);
  }
  if (has_batch(in_shape) && !shape.empty() && is_batch(shape[0])) {
    int64_t items = 1, known = 1;
    for (int64_t d : in_shape) items *= is_batch(d) ? 1 : d;
    for (size_t k = 1; k < shape.size(); ++k) known *= shape[k] == -1 ? 1 : shape[k];
    for (size_t k = 1; k < shape.size(); ++k)
      if (shape[k] == -1) shape[k] = items / known;
  }
  return reshape(x, shape, name);
}

const std::map<std::string, Converter> &converters() {
  auto identity = [](Graph &, const OnnxNode &, const Inputs &in, const std::string &) {
    return in.at(0);
  };
  static const std::map<std::string, Converter> kConverters = {
      {"Add", binary("add")},
      {"Sub", binary("sub")},
      {"Mul", binary("mul")},
      {"Div", binary("div")},
      {"Relu", unary("relu")},
      {"Tanh", unary("tanh")},
      {"Sigmoid", unary("sigmoid")},
      {"Exp", unary("exp")},
      {"Log", unary("log")},
      {"Sqrt", unary("sqrt")},
      {"Neg", unary("neg")},
      {"Abs", unary("abs")},
      {"Softmax", softmax_like(false)},
      {"LogSoftmax", softmax_like(true)},
      {"MatMul", binary("matmul")},
      {"Gemm", {.attributes = {"alpha", "beta", "transA", "transB"}, .build = gemm}},
      {"Conv",
       {.attributes = {"kernel_shape", "strides", "pads", "dilations", "group", "auto_pad"},
        .check = [](const OnnxNode &n) { return check_window(n, false); },
        .build = conv}},
      {"MaxPool", pool(true)},
      {"AveragePool", pool(false)},
      {"BatchNormalization",
       {.attributes = {"epsilon", "momentum", "training_mode", "spatial"},
        .check =
            [](const OnnxNode &n) {
              if (n.i("training_mode", 0) != 0) return std::string("training_mode=1");
              if (n.i("spatial", 1) != 1) return std::string("spatial=0 is not supported");
              return only_first_output(n);
            },
        .build = batch_norm}},
      {"Flatten",
       {.attributes = {"axis"},
        .build = [](Graph &, const OnnxNode &n, const Inputs &in,
                    const std::string &name) { return flatten(in.at(0), n.i("axis", 1), name); }}},
      {"Reshape",
       {.attributes = {"allowzero"},
        .check =
            [](const OnnxNode &n) {
              return n.i("allowzero", 0) ? std::string("allowzero=1 is not supported") : "";
            },
        .build = onnx_reshape}},
      {"Transpose",
       {.attributes = {"perm"},
        .build =
            [](Graph &, const OnnxNode &n, const Inputs &in, const std::string &name) {
              return transpose(in.at(0), n.ints("perm"), name);
            }}},
      {"ArgMax",
       {.attributes = {"axis", "keepdims", "select_last_index"},
        .check =
            [](const OnnxNode &n) {
              return n.i("select_last_index", 0) ? std::string("select_last_index=1") : "";
            },
        .build =
            [](Graph &, const OnnxNode &n, const Inputs &in, const std::string &name) {
              return argmax(in.at(0), n.i("axis", 0), n.i("keepdims", 1) != 0, name);
            }}},
      {"Reciprocal",
       {.build = [](Graph &, const OnnxNode &, const Inputs &in,
                    const std::string &name) { return div(1.0, in.at(0), name); }}},
      {"Identity", {.build = identity}},
      // Inference: dropout passes its input through.
      {"Dropout",
       {.attributes = {"ratio", "is_test", "seed"}, .check = only_first_output, .build = identity}},
  };
  return kConverters;
}

// Inputs that must be constants (initializers or Constant nodes), by op.
const std::map<std::string, std::vector<int>> &constant_inputs() {
  static const std::map<std::string, std::vector<int>> kConstant = {{"Reshape", {1}}};
  return kConstant;
}

// How many inputs each op takes (at least, at most); the rest take one.
std::pair<int, int> input_range(const std::string &op) {
  static const std::map<std::string, std::pair<int, int>> kRanges = {
      {"Add", {2, 2}},    {"Sub", {2, 2}},     {"Mul", {2, 2}},
      {"Div", {2, 2}},    {"MatMul", {2, 2}},  {"Gemm", {2, 3}},
      {"Conv", {2, 3}},   {"Reshape", {2, 2}}, {"BatchNormalization", {5, 5}},
      {"Dropout", {1, 3}}};
  auto it = kRanges.find(op);
  return it == kRanges.end() ? std::pair{1, 1} : it->second;
}

// "" or what is wrong with the node's inputs and outputs, counted.
std::string check_arity(const onnx::NodeProto &p) {
  if (p.output_size() == 0 || p.output(0).empty()) return "no output";
  if (p.op_type() == "Constant") return p.input_size() ? "a Constant with inputs" : "";
  if (!converters().count(p.op_type())) return ""; // reported as not supported
  auto [min, max] = input_range(p.op_type());
  int given = p.input_size();
  while (given > 0 && p.input(given - 1).empty()) --given; // omitted optional inputs
  bool missing = false;
  for (int k = 0; k < std::min(min, p.input_size()); ++k) missing = missing || p.input(k).empty();
  if (given < min || given > max || missing)
    return min == max ? fmt::format("takes {} input{}, has {}", min, min == 1 ? "" : "s", given)
                      : fmt::format("takes {} to {} inputs, has {}", min, max, given);
  return "";
}

bool is_constant_input(const onnx::NodeProto &p, size_t k) {
  auto c = constant_inputs().find(p.op_type());
  return c != constant_inputs().end() &&
         std::find(c->second.begin(), c->second.end(), int(k)) != c->second.end();
}

std::optional<DType> dtype_of(int32_t onnx_type) {
  switch (onnx_type) {
  case onnx::TensorProto::FLOAT: return f32;
  case onnx::TensorProto::DOUBLE: return f64;
  case onnx::TensorProto::INT32: return i32;
  case onnx::TensorProto::INT64: return i64;
  case onnx::TensorProto::BOOL: return DType::boolean;
  default: return std::nullopt;
  }
}

std::string onnx_type_name(int32_t t) {
  return onnx::TensorProto::DataType_IsValid(t)
             ? onnx::TensorProto::DataType_Name(onnx::TensorProto::DataType(t))
             : fmt::format("data type {}", t);
}

template <typename T, typename Field> void copy_values(Tensor &t, const Field &field) {
  for (int k = 0; k < field.size(); ++k) t.set(k, double(T(field.Get(k))));
}

Tensor tensor_of(const onnx::TensorProto &p) {
  std::optional<DType> dtype = dtype_of(p.data_type());
  if (!dtype) fail("tensor '{}': {} is not supported", p.name(), onnx_type_name(p.data_type()));
  Shape shape(p.dims().begin(), p.dims().end());
  Tensor t(*dtype, shape);
  if (p.has_raw_data()) {
    if (p.raw_data().size() != t.bytes())
      fail("tensor '{}': {} bytes of data for {}", p.name(), p.raw_data().size(), t.summary());
    std::memcpy(t.raw(), p.raw_data().data(), t.bytes());
    return t;
  }
  int64_t n = 0;
  switch (*dtype) {
  case DType::f32: n = p.float_data_size(); break;
  case DType::f64: n = p.double_data_size(); break;
  case DType::i64: n = p.int64_data_size(); break;
  case DType::i32:
  case DType::boolean: n = p.int32_data_size(); break;
  }
  if (n != t.size()) fail("tensor '{}': {} values for {}", p.name(), n, t.summary());
  switch (*dtype) {
  case DType::f32: copy_values<float>(t, p.float_data()); break;
  case DType::f64: copy_values<double>(t, p.double_data()); break;
  case DType::i64: copy_values<int64_t>(t, p.int64_data()); break;
  case DType::i32:
  case DType::boolean: copy_values<int32_t>(t, p.int32_data()); break;
  }
  return t;
}

// "/fc1/Gemm_output_0" -> "fc1/Gemm_output_0", "onnx::Relu_7" -> "onnx_Relu_7": kiln
// names, where "/" separates scopes.
std::string kiln_name(const std::string &onnx_name) {
  std::string name;
  for (char c : onnx_name) name += c == ':' ? '_' : c;
  while (!name.empty() && name.front() == '/') name.erase(0, 1);
  return name.empty() ? "value" : name;
}

// The whole model, checked before anything is built.
class Importer {
public:
  Importer(const onnx::ModelProto &model, std::string file)
      : model_(model), file_(std::move(file)) {
    for (const onnx::OperatorSetIdProto &o : model.opset_import())
      if (o.domain().empty() || o.domain() == "ai.onnx") opset_ = o.version();
    const onnx::GraphProto &g = model.graph();
    for (const onnx::TensorProto &t : g.initializer()) {
      initializers_[t.name()] = &t;
      types_[t.name()] =
          tensor_type_text(t.data_type(), std::vector<int64_t>(t.dims().begin(), t.dims().end()));
    }
    for (const auto *list : {&g.input(), &g.value_info(), &g.output()})
      for (const onnx::ValueInfoProto &v : *list)
        if (!types_.count(v.name())) types_[v.name()] = value_type_text(v);
  }

  void check() {
    std::vector<std::string> problems;
    if (opset_ < kOnnxMinOpset || opset_ > kOnnxMaxOpset)
      problems.push_back(fmt::format("opset {} of the default domain: kiln imports opsets {}-{}",
                                     opset_, kOnnxMinOpset, kOnnxMaxOpset));
    for (const auto &[name, t] : initializers_)
      if (!dtype_of(t->data_type()))
        problems.push_back(fmt::format("initializer '{}': {} is not supported", name,
                                       onnx_type_name(t->data_type())));
    for (const onnx::ValueInfoProto &v : model_.graph().input())
      if (!initializers_.count(v.name())) check_input(v, problems);
    std::set<std::string> constants;
    for (const auto &[name, t] : initializers_) constants.insert(name);
    for (const onnx::NodeProto &p : model_.graph().node()) {
      check_node(p, constants, problems);
      if (p.op_type() == "Constant")
        for (const std::string &out : p.output()) constants.insert(out);
    }
    if (problems.empty()) return;
    fail("{}: cannot import {} (every problem found, in graph order):\n  {}", file_,
         problems.size() == 1 ? "this model"
                              : fmt::format("this model: {} problems", problems.size()),
         fmt::join(problems, "\n  "));
  }

  OnnxModel build(bool trainable) {
    OnnxModel m;
    Graph &g = m.graph;
    for (const auto &[name, t] : initializers_) {
      Tensor value = tensor_of(*t);
      if (trainable && is_float(value.dtype())) {
        // A variable is its own graph input: its value comes from a checkpoint.
        Value v = variable(g, kiln_name(name), value.dtype(), value.shape());
        m.variables.emplace(v.id, std::move(value));
        values_[name] = v;
        continue;
      }
      constants_[name] = std::move(value); // a node once a node reads it as a value
    }
    for (const onnx::ValueInfoProto &v : model_.graph().input())
      if (!initializers_.count(v.name())) values_[v.name()] = placeholder_of(g, v);
    for (const onnx::NodeProto &p : model_.graph().node()) build_node(g, p);
    for (const onnx::ValueInfoProto &out : model_.graph().output())
      if (!values_.count(out.name())) fail("{}: no node computes output '{}'", file_, out.name());
    return m;
  }

private:
  static std::string tensor_type_text(int32_t type, const std::vector<std::string> &dims) {
    std::optional<DType> d = dtype_of(type);
    return fmt::format("{}[{}]", d ? std::string(to_string(*d)) : onnx_type_name(type),
                       fmt::join(dims, ", "));
  }
  static std::string tensor_type_text(int32_t type, const std::vector<int64_t> &dims) {
    std::vector<std::string> text;
    for (int64_t d : dims) text.push_back(std::to_string(d));
    return tensor_type_text(type, text);
  }
  static std::string value_type_text(const onnx::ValueInfoProto &v) {
    if (!v.type().has_tensor_type()) return "(not a tensor)";
    const onnx::TypeProto::Tensor &t = v.type().tensor_type();
    if (!t.has_shape()) return tensor_type_text(t.elem_type(), std::vector<std::string>{"..."});
    std::vector<std::string> dims;
    for (const onnx::TensorShapeProto::Dimension &d : t.shape().dim())
      dims.push_back(d.has_dim_value()   ? std::to_string(d.dim_value())
                     : d.has_dim_param() ? d.dim_param()
                                         : "?");
    return tensor_type_text(t.elem_type(), dims);
  }
  std::string type_of(const std::string &value) const {
    if (value.empty()) return "(omitted)";
    auto it = types_.find(value);
    return it == types_.end() ? "?" : it->second;
  }

  void check_input(const onnx::ValueInfoProto &v, std::vector<std::string> &problems) const {
    std::string where = fmt::format("input '{}' ({})", v.name(), type_of(v.name()));
    if (!v.type().has_tensor_type()) return problems.push_back(where + ": not a tensor");
    const onnx::TypeProto::Tensor &t = v.type().tensor_type();
    if (!dtype_of(t.elem_type()))
      problems.push_back(
          fmt::format("{}: {} is not supported", where, onnx_type_name(t.elem_type())));
    if (!t.has_shape()) return problems.push_back(where + ": no shape (unknown rank)");
    for (int k = 0; k < t.shape().dim_size(); ++k) {
      const onnx::TensorShapeProto::Dimension &d = t.shape().dim(k);
      if (d.has_dim_value()) continue;
      if (k == 0) continue; // the batch
      problems.push_back(fmt::format("{}: dynamic dimension '{}' at axis {} (only the first may "
                                     "be dynamic: kiln's batch)",
                                     where, d.dim_param(), k));
    }
  }

  void check_node(const onnx::NodeProto &p, const std::set<std::string> &constants,
                  std::vector<std::string> &problems) const {
    std::vector<std::string> inputs;
    for (const std::string &in : p.input()) inputs.push_back(type_of(in));
    std::string where =
        fmt::format("node '{}' ({}, opset {}; inputs {})", p.name(), p.op_type(), opset_,
                    inputs.empty() ? "none" : fmt::format("{}", fmt::join(inputs, ", ")));
    if (!p.domain().empty() && p.domain() != "ai.onnx")
      return problems.push_back(fmt::format("{}: domain '{}' is not supported", where, p.domain()));
    if (std::string why = check_arity(p); !why.empty())
      return problems.push_back(fmt::format("{}: {}", where, why));
    if (p.op_type() == "Constant") {
      if (p.attribute_size() == 0)
        problems.push_back(fmt::format("{}: a Constant without its 'value'", where));
      for (const onnx::AttributeProto &a : p.attribute())
        if (a.name() != "value")
          problems.push_back(fmt::format("{}: attribute '{}' is not supported", where, a.name()));
        else if (!dtype_of(a.t().data_type()))
          problems.push_back(
              fmt::format("{}: a {} constant", where, onnx_type_name(a.t().data_type())));
      return;
    }
    auto it = converters().find(p.op_type());
    if (it == converters().end())
      return problems.push_back(fmt::format("{}: op not supported", where));
    OnnxNode n = view(p);
    for (const onnx::AttributeProto &a : p.attribute())
      if (!it->second.attributes.count(a.name()))
        problems.push_back(fmt::format("{}: attribute '{}' is not supported", where, a.name()));
    if (std::string why = it->second.check(n); !why.empty())
      problems.push_back(fmt::format("{}: {}", where, why));
    if (auto c = constant_inputs().find(p.op_type()); c != constant_inputs().end())
      for (int k : c->second)
        if (k < p.input_size() && !constants.count(p.input(k)))
          problems.push_back(
              fmt::format("{}: input {} ('{}') must be a constant", where, k, p.input(k)));
  }

  OnnxNode view(const onnx::NodeProto &p) const {
    OnnxNode n{p, {}, opset_};
    for (const onnx::AttributeProto &a : p.attribute()) n.attrs[a.name()] = &a;
    return n;
  }

  Value placeholder_of(Graph &g, const onnx::ValueInfoProto &v) const {
    const onnx::TypeProto::Tensor &t = v.type().tensor_type();
    Shape shape;
    for (int k = 0; k < t.shape().dim_size(); ++k) {
      const onnx::TensorShapeProto::Dimension &d = t.shape().dim(k);
      shape.push_back(d.has_dim_value() ? d.dim_value() : batch);
    }
    return placeholder(g, kiln_name(v.name()), *dtype_of(t.elem_type()), shape);
  }

  void build_node(Graph &g, const onnx::NodeProto &p) {
    std::string name = kiln_name(p.output(0));
    if (p.op_type() == "Constant") {
      constants_[p.output(0)] = tensor_of(p.attribute(0).t());
      return;
    }
    Inputs in;
    for (const std::string &input : p.input()) {
      if (input.empty()) {
        in.values.push_back(std::nullopt);
        in.constants.push_back(nullptr);
        continue;
      }
      auto c = constants_.find(input);
      in.constants.push_back(c == constants_.end() ? nullptr : &c->second);
      if (c != constants_.end() && is_constant_input(p, in.values.size())) {
        in.values.push_back(std::nullopt); // read for its values only
        continue;
      }
      if (c != constants_.end() && !values_.count(input))
        values_[input] = constant(g, c->second, g.unique_name(kiln_name(input)));
      auto it = values_.find(input);
      if (it == values_.end())
        fail("{}: node '{}' ({}) reads '{}', which no node before it computes", file_, p.name(),
             p.op_type(), input);
      in.values.push_back(it->second);
    }
    try {
      values_[p.output(0)] =
          converters().at(p.op_type()).build(g, view(p), in, g.unique_name(name));
    } catch (const Error &e) {
      fail("{}: node '{}' ({}): {}", file_, p.name(), p.op_type(), e.what());
    }
  }

  const onnx::ModelProto &model_;
  std::string file_;
  int64_t opset_ = 0;
  std::map<std::string, const onnx::TensorProto *> initializers_;
  std::map<std::string, std::string> types_; // value name -> "f32[batch, 784]"
  std::map<std::string, Value> values_;
  std::map<std::string, Tensor> constants_;
};

} // namespace

OnnxModel import_onnx(const std::filesystem::path &model, const OnnxImportOptions &options) {
  onnx::ModelProto proto;
  if (!proto.ParseFromString(read_file(model)))
    fail("{}: not an ONNX model (the protobuf does not parse)", model.string());
  Importer importer(proto, model.string());
  importer.check();
  return importer.build(options.trainable);
}

} // namespace kiln
