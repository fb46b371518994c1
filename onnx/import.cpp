#include "onnx/import.h"

#include "ir/error.h"
#include "ir/serialize.h"
#include "onnx/converter.h"
#include "onnx/names.h"
#include "onnx/onnx_tensor.h"

#include "onnx/onnx.pb.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <map>
#include <set>

namespace kiln {

using namespace onnx_import;

namespace {

bool contains(const std::vector<int> &list, int k) {
  return std::find(list.begin(), list.end(), k) != list.end();
}

// How to import a model whose shapes compute with the batch size.
constexpr std::string_view kFixBatch = " (a fixed batch size imports it: kiln import --batch N)";

bool holds_batch(const Tensor &t) {
  if (t.dtype() != i64) return false;
  auto v = t.data<int64_t>();
  return std::find(v.begin(), v.end(), kShapeBatch) != v.end();
}

// Ops that move a shape's dims without computing with them, or make a value
// of that shape: the only ones that may read the batch dim of a shape
// computed at import time.
bool moves_dims(const std::string &op) {
  static const std::set<std::string> kOps = {"Gather",  "Unsqueeze", "Squeeze",
                                             "Concat",  "Slice",     "Identity",
                                             "Reshape", "Expand",    "ConstantOfShape"};
  return kOps.count(op) != 0;
}

std::string attr_type_name(AttrType t) { return onnx::AttributeProto::AttributeType_Name(t); }

// Values of `scratch`'s nodes with the ops' reference kernels, or nullopt when
// a node has none or is too large to compute at import time.
std::optional<std::vector<Tensor>> evaluate(const Graph &scratch) {
  std::vector<Tensor> values;
  for (const Node &n : scratch.nodes()) {
    if (n.op->source == Source::constant) {
      values.push_back(n.attr_tensor("value"));
      continue;
    }
    if (n.op->source != Source::none || n.op->stateful || !n.op->reference ||
        has_batch(n.type.shape) || num_elements(n.type.shape) > kMaxFoldedElements)
      return std::nullopt;
    std::vector<Tensor> inputs;
    for (NodeId in : n.inputs) inputs.push_back(values[size_t(in)]);
    Tensor out(n.type.dtype, n.type.shape);
    n.op->reference(n, inputs, out);
    values.push_back(std::move(out));
  }
  return values;
}

class Importer {
public:
  Importer(const onnx::ModelProto &model, std::string file, OnnxImportOptions options)
      : model_(model), graph_(model.graph()), file_(std::move(file)), options_(options),
        names_(io_names(graph_), other_names(graph_)) {
    for (const onnx::OperatorSetIdProto &o : model.opset_import())
      if (o.domain().empty() || o.domain() == "ai.onnx") opset_ = o.version();
    for (const onnx::TensorProto &t : graph_.initializer())
      types_[t.name()] =
          type_text(t.data_type(), std::vector<int64_t>(t.dims().begin(), t.dims().end()));
    for (const auto *list : {&graph_.input(), &graph_.value_info(), &graph_.output()})
      for (const onnx::ValueInfoProto &v : *list)
        if (!types_.count(v.name())) types_[v.name()] = value_type_text(v);
  }

  OnnxModel run() {
    check();
    report();
    OnnxModel m = build();
    report();
    m.notes = names_.collisions();
    return m;
  }

private:
  static std::vector<std::string> io_names(const onnx::GraphProto &g) {
    std::vector<std::string> names;
    for (const auto *list : {&g.input(), &g.output()})
      for (const onnx::ValueInfoProto &v : *list) names.push_back(v.name());
    return names;
  }
  static std::vector<std::string> other_names(const onnx::GraphProto &g) {
    std::vector<std::string> names;
    for (const onnx::TensorProto &t : g.initializer()) names.push_back(t.name());
    for (const onnx::NodeProto &p : g.node())
      for (const std::string &out : p.output()) names.push_back(out);
    return names;
  }

  // ---- Types as the messages show them ----

  static std::string type_text(int32_t type, const std::vector<std::string> &dims) {
    std::optional<DType> d = dtype_of(type);
    return fmt::format("{}[{}]", d ? std::string(to_string(*d)) : onnx_type_name(type),
                       fmt::join(dims, ", "));
  }
  static std::string type_text(int32_t type, const std::vector<int64_t> &dims) {
    std::vector<std::string> text;
    for (int64_t d : dims) text.push_back(std::to_string(d));
    return type_text(type, text);
  }
  static std::string value_type_text(const onnx::ValueInfoProto &v) {
    if (!v.type().has_tensor_type()) return "(not a tensor)";
    const onnx::TypeProto::Tensor &t = v.type().tensor_type();
    if (!t.has_shape()) return type_text(t.elem_type(), std::vector<std::string>{"..."});
    std::vector<std::string> dims;
    for (const onnx::TensorShapeProto::Dimension &d : t.shape().dim())
      dims.push_back(d.has_dim_value()   ? std::to_string(d.dim_value())
                     : d.has_dim_param() ? d.dim_param()
                                         : "?");
    return type_text(t.elem_type(), dims);
  }
  std::string type_of(const std::string &value) const {
    if (value.empty()) return "(omitted)";
    auto it = types_.find(value);
    return it == types_.end() ? "?" : it->second;
  }
  std::string where(const onnx::NodeProto &p) const {
    std::vector<std::string> inputs;
    for (const std::string &in : p.input()) inputs.push_back(type_of(in));
    return fmt::format("node '{}' ({}, opset {}; inputs {})", p.name(), p.op_type(), opset_,
                       inputs.empty() ? "none" : fmt::format("{}", fmt::join(inputs, ", ")));
  }
  template <typename... Args> void problem(fmt::format_string<Args...> format, Args &&...args) {
    problems_.push_back(fmt::format(format, std::forward<Args>(args)...));
  }
  void report() const {
    if (problems_.empty()) return;
    fail("{}: cannot import {} (every problem found, in graph order):\n  {}", file_,
         problems_.size() == 1 ? "this model"
                               : fmt::format("this model: {} problems", problems_.size()),
         fmt::join(problems_, "\n  "));
  }

  // ---- The check: everything that the model says without building it ----

  void check() {
    if (opset_ < kOnnxMinOpset || opset_ > kOnnxMaxOpset)
      problem("opset {} of the default domain: kiln imports opsets {}-{}", opset_, kOnnxMinOpset,
              kOnnxMaxOpset);
    if (graph_.sparse_initializer_size() > 0) problem("sparse initializers are not supported");
    std::map<std::string, std::string> writer; // value -> what defines it
    // `what` names the definition in a message, `as` in a later one.
    auto define = [&](const std::string &name, const std::string &what, const std::string &as) {
      if (name.empty()) return problem("{}: an empty name", what);
      auto [it, added] = writer.emplace(name, as);
      if (!added) problem("{}: '{}' is already {}", what, name, it->second);
    };
    for (const onnx::TensorProto &t : graph_.initializer()) {
      if (std::string why = tensor_problem(t); !why.empty())
        problem("initializer '{}': {}", t.name(), why);
      define(t.name(), fmt::format("initializer '{}'", t.name()), "an initializer");
    }
    for (const onnx::ValueInfoProto &v : graph_.input())
      if (!writer.count(v.name()) || v.name().empty()) {
        check_input(v);
        define(v.name(), fmt::format("input '{}'", v.name()), "a graph input");
      }
    for (const onnx::NodeProto &p : graph_.node()) {
      check_node(p, writer);
      for (const std::string &out : p.output())
        if (!out.empty())
          define(out, where(p), fmt::format("written by node '{}' ({})", p.name(), p.op_type()));
    }
    for (const onnx::ValueInfoProto &out : graph_.output())
      if (!writer.count(out.name())) problem("output '{}': no node computes it", out.name());
  }

  void check_input(const onnx::ValueInfoProto &v) {
    std::string what = fmt::format("input '{}' ({})", v.name(), type_of(v.name()));
    if (!v.type().has_tensor_type()) return problem("{}: not a tensor", what);
    const onnx::TypeProto::Tensor &t = v.type().tensor_type();
    if (!dtype_of(t.elem_type()))
      problem("{}: {} is not supported", what, onnx_type_name(t.elem_type()));
    if (!t.has_shape()) return problem("{}: no shape (unknown rank)", what);
    for (int k = 0; k < t.shape().dim_size(); ++k) {
      const onnx::TensorShapeProto::Dimension &d = t.shape().dim(k);
      if (d.has_dim_value() && d.dim_value() < 0)
        problem("{}: dim {} at axis {} (a size is >= 0; a dynamic dim has a dim_param)", what,
                d.dim_value(), k);
      else if (!d.has_dim_value() && k > 0)
        problem(
            "{}: dynamic dimension '{}' at axis {} (only the first may be dynamic: kiln's batch)",
            what, d.dim_param(), k);
    }
  }

  void check_node(const onnx::NodeProto &p, const std::map<std::string, std::string> &defined) {
    std::string what = where(p);
    if (!p.domain().empty() && p.domain() != "ai.onnx")
      return problem("{}: domain '{}' is not supported", what, p.domain());
    if (p.output_size() == 0 || p.output(0).empty()) return problem("{}: no output", what);
    auto it = converters().find(p.op_type());
    if (it == converters().end()) return problem("{}: op not supported", what);
    for (const std::string &in : p.input())
      if (!in.empty() && !defined.count(in))
        return problem("{}: reads '{}', which no node before it computes", what, in);
    const Converter &c = it->second;
    if (std::string why = check_arity(p, c); !why.empty()) return problem("{}: {}", what, why);
    bool typed = true;
    for (const onnx::AttributeProto &a : p.attribute()) {
      auto spec = c.attributes.find(a.name());
      if (spec == c.attributes.end()) {
        problem("{}: attribute '{}' is not supported", what, a.name());
      } else if (a.type() != spec->second) {
        problem("{}: attribute '{}' is {}, expected {}", what, a.name(), attr_type_name(a.type()),
                attr_type_name(spec->second));
        typed = false;
      }
    }
    if (!typed) return; // the check below reads attributes by their type
    if (std::string why = c.check(view(p)); !why.empty()) problem("{}: {}", what, why);
  }

  static std::string check_arity(const onnx::NodeProto &p, const Converter &c) {
    int given = p.input_size();
    while (given > 0 && p.input(given - 1).empty()) --given; // omitted optional inputs
    bool missing = false;
    for (int k = 0; k < std::min(c.min_inputs, given); ++k) missing = missing || p.input(k).empty();
    if (given < c.min_inputs || given > c.max_inputs || missing) {
      if (c.min_inputs == c.max_inputs)
        return fmt::format("takes {} input{}, has {}", c.min_inputs, c.min_inputs == 1 ? "" : "s",
                           given);
      if (c.max_inputs == std::numeric_limits<int>::max())
        return fmt::format("takes at least {} input, has {}", c.min_inputs, given);
      return fmt::format("takes {} to {} inputs, has {}", c.min_inputs, c.max_inputs, given);
    }
    if (c.max_outputs >= 0)
      for (int k = c.max_outputs; k < p.output_size(); ++k)
        if (!p.output(k).empty()) return fmt::format("output {} is not supported", k);
    return "";
  }

  OnnxNode view(const onnx::NodeProto &p) const {
    OnnxNode n{p, {}, opset_};
    for (const onnx::AttributeProto &a : p.attribute()) n.attrs[a.name()] = &a;
    return n;
  }

  // ---- The build ----

  OnnxModel build() {
    OnnxModel m;
    Graph &g = m.graph;
    for (const onnx::TensorProto &t : graph_.initializer()) {
      Tensor value = tensor_of(t);
      Role role = role_of(t.name());
      if (options_.trainable && is_float(value.dtype()) && role != Role::read_at_import) {
        // A variable is its own graph input: its value comes from a checkpoint.
        // Statistics (batch norm's) are variables that optimizers leave alone.
        Value v = variable(g, names_[t.name()], value.dtype(), value.shape(), {},
                           role == Role::parameter);
        m.variables.emplace(v.id, std::move(value));
        values_[t.name()] = v;
      } else {
        constants_[t.name()] = std::move(value); // a node once a node reads it as a value
      }
    }
    for (const onnx::ValueInfoProto &v : graph_.input())
      if (!values_.count(v.name()) && !constants_.count(v.name()))
        values_[v.name()] = placeholder_of(g, v);
    for (const onnx::NodeProto &p : graph_.node()) build_node(g, p);
    for (const onnx::ValueInfoProto &out : graph_.output()) finish_output(g, out);
    for (const onnx::ValueInfoProto &v : graph_.value_info())
      if (values_.count(v.name())) check_declared(v, "value", values_.at(v.name()).type());
    return m;
  }

  // What an initializer is to the nodes that read it: a value they need at
  // import time (a shape, a bound), a statistic, or (else) a parameter.
  enum class Role { parameter, statistic, read_at_import };
  Role role_of(const std::string &name) const {
    Role role = Role::parameter;
    for (const onnx::NodeProto &p : graph_.node()) {
      const Converter &c = converters().at(p.op_type());
      for (int k = 0; k < p.input_size(); ++k) {
        if (p.input(k) != name) continue;
        if (contains(c.constant_inputs, k)) return Role::read_at_import;
        if (contains(c.statistic_inputs, k)) role = Role::statistic;
      }
    }
    return role;
  }

  Value placeholder_of(Graph &g, const onnx::ValueInfoProto &v) const {
    const onnx::TypeProto::Tensor &t = v.type().tensor_type();
    Shape shape;
    for (const onnx::TensorShapeProto::Dimension &d : t.shape().dim())
      shape.push_back(d.has_dim_value()    ? d.dim_value()
                      : options_.batch > 0 ? options_.batch
                                           : batch);
    return placeholder(g, names_[v.name()], *dtype_of(t.elem_type()), shape);
  }

  // The value of `name` as a node of g: a constant becomes one when first read.
  Value value_of(Graph &g, const std::string &name) {
    if (auto it = values_.find(name); it != values_.end()) return it->second;
    auto known = constants_.find(name);
    if (known == constants_.end()) fail("'{}' has no value", name);
    const Tensor &t = known->second;
    if (holds_batch(t))
      fail("'{}' holds the batch size, which kiln knows only at run time{}", name, kFixBatch);
    return values_[name] = constant(g, t, names_[name]);
  }

  void build_node(Graph &g, const onnx::NodeProto &p) {
    for (const std::string &in : p.input())
      if (failed_.count(in)) return fail_outputs(p); // its problem is listed already
    const Converter &c = converters().at(p.op_type());
    OnnxNode n = view(p);
    std::vector<std::string> names;
    for (const std::string &out : p.output()) names.push_back(out.empty() ? "" : names_[out]);
    try {
      Inputs in;
      bool batch_dims = false;
      std::vector<size_t> known; // value inputs known at import time
      for (int k = 0; k < p.input_size(); ++k) {
        const std::string &input = p.input(k);
        auto constant = input.empty() ? constants_.end() : constants_.find(input);
        const Tensor *value = constant == constants_.end() ? nullptr : &constant->second;
        in.constants.push_back(value);
        batch_dims = batch_dims || (value && holds_batch(*value));
        if (contains(c.constant_inputs, k)) {
          if (!input.empty() && !value)
            fail("input {} ('{}') must be known at import time (a constant, or computed from "
                 "constants and static shapes)",
                 k, input);
          in.values.push_back(std::nullopt); // read for its value only
        } else if (input.empty()) {
          in.values.push_back(std::nullopt);
        } else if (value) {
          in.values.push_back(Value{}); // a node of its own only if the node is not folded
          known.push_back(size_t(k));
        } else {
          in.values.push_back(value_of(g, input));
        }
      }
      if (batch_dims && !moves_dims(p.op_type()))
        fail("computes with the batch size, which kiln knows only at run time{}", kFixBatch);
      if (c.fold) return set_constant(p.output(0), c.fold(n, in));
      bool all_known = std::count_if(in.values.begin(), in.values.end(), [](const auto &v) {
                         return v.has_value();
                       }) == ptrdiff_t(known.size());
      if (all_known && fold(c, n, in)) return;
      // Known inputs become nodes when the builder reads them as values.
      in.materialize = [&](size_t k) { return value_of(g, p.input(int(k))); };
      std::vector<Value> outs = c.build(g, n, in, names);
      for (size_t k = 0; k < outs.size(); ++k) set_value(p.output(int(k)), outs[k]);
    } catch (const Error &e) {
      problem("{}: {}", where(p), e.what());
      fail_outputs(p);
    }
  }

  // A node whose inputs are all known: its outputs computed now, with the
  // ops' reference kernels on a scratch graph. False when it cannot be.
  bool fold(const Converter &c, const OnnxNode &n, Inputs in) {
    Graph scratch;
    for (size_t k = 0; k < in.values.size(); ++k)
      if (in.values[k])
        in.values[k] = constant(scratch, *in.constants[k], fmt::format("input_{}", k));
    std::vector<std::string> names;
    for (int k = 0; k < n.proto.output_size(); ++k) names.push_back(fmt::format("output_{}", k));
    std::vector<Value> outs = c.build(scratch, n, in, names);
    std::optional<std::vector<Tensor>> values = evaluate(scratch);
    if (!values) return false; // built for real instead
    for (size_t k = 0; k < outs.size(); ++k)
      set_constant(n.proto.output(int(k)), (*values)[size_t(outs[k].id)]);
    return true;
  }

  void set_constant(const std::string &name, Tensor value) {
    types_[name] = value.summary();
    constants_[name] = std::move(value);
  }
  void set_value(const std::string &name, Value v) {
    if (name.empty()) return;
    types_[name] = to_string(v.type());
    values_[name] = v;
  }
  void fail_outputs(const onnx::NodeProto &p) {
    for (const std::string &out : p.output()) failed_.insert(out);
  }

  // A graph output: a node named as the output, of the declared type.
  void finish_output(Graph &g, const onnx::ValueInfoProto &out) {
    if (failed_.count(out.name())) return;
    try {
      Value v = value_of(g, out.name());
      if (v.name() != names_[out.name()]) v = reshape(v, v.shape(), names_[out.name()]);
      values_[out.name()] = v;
      check_declared(out, "output", v.type());
    } catch (const Error &e) {
      problem("output '{}': {}", out.name(), e.what());
    }
  }

  void check_declared(const onnx::ValueInfoProto &v, const char *what, const TensorType &type) {
    if (!v.type().has_tensor_type()) return problem("{} '{}': not a tensor", what, v.name());
    const onnx::TypeProto::Tensor &t = v.type().tensor_type();
    bool same = t.elem_type() == 0 || dtype_of(t.elem_type()) == type.dtype;
    if (t.has_shape()) {
      same = same && size_t(t.shape().dim_size()) == type.shape.size();
      for (int k = 0; same && k < t.shape().dim_size(); ++k)
        same = !t.shape().dim(k).has_dim_value() ||
               t.shape().dim(k).dim_value() == type.shape[size_t(k)];
    }
    if (!same)
      problem("{} '{}': declared {}, kiln computes {}", what, v.name(), value_type_text(v),
              to_string(type));
  }

  const onnx::ModelProto &model_;
  const onnx::GraphProto &graph_;
  std::string file_;
  OnnxImportOptions options_;
  NameTable names_;
  int64_t opset_ = 0;
  std::vector<std::string> problems_;
  std::map<std::string, std::string> types_; // value name -> "f32[batch, 784]"
  std::map<std::string, Value> values_;
  std::map<std::string, Tensor> constants_; // values known at import time
  std::set<std::string> failed_;            // outputs of nodes that could not be built
};

} // namespace

OnnxModel import_onnx(std::string_view bytes, const std::string &file,
                      const OnnxImportOptions &options) {
  onnx::ModelProto proto;
  if (bytes.size() > size_t(std::numeric_limits<int>::max()) ||
      !proto.ParseFromArray(bytes.data(), int(bytes.size())))
    fail("{}: not an ONNX model (the protobuf does not parse)", file);
  return Importer(proto, file, options).run();
}

OnnxModel import_onnx(const std::filesystem::path &model, const OnnxImportOptions &options) {
  return import_onnx(read_file(model), model.string(), options);
}

} // namespace kiln
