#include "onnx/export.h"

#include "ir/error.h"
#include "ops/window.h"

#include "onnx/onnx.pb.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <set>

namespace kiln {

namespace {

// kiln ops whose ONNX op takes the same inputs and attributes (none, or the axis).
const std::map<std::string, std::string> &same_ops() {
  static const std::map<std::string, std::string> kOps = {
      {"add", "Add"},
      {"sub", "Sub"},
      {"mul", "Mul"},
      {"div", "Div"},
      {"pow", "Pow"},
      {"maximum", "Max"},
      {"minimum", "Min"},
      {"relu", "Relu"},
      {"tanh", "Tanh"},
      {"sigmoid", "Sigmoid"},
      {"softplus", "Softplus"},
      {"exp", "Exp"},
      {"log", "Log"},
      {"sqrt", "Sqrt"},
      {"erf", "Erf"},
      {"sin", "Sin"},
      {"cos", "Cos"},
      {"sign", "Sign"},
      {"neg", "Neg"},
      {"abs", "Abs"},
      {"equal", "Equal"},
      {"less", "Less"},
      {"greater", "Greater"},
      {"less_equal", "LessOrEqual"},
      {"greater_equal", "GreaterOrEqual"},
      {"logical_and", "And"},
      {"logical_or", "Or"},
      {"logical_not", "Not"},
      {"select", "Where"},
      {"gather", "Gather"},
      {"concat", "Concat"},
      {"flatten", "Flatten"},
      {"softmax", "Softmax"},
      {"log_softmax", "LogSoftmax"},
  };
  return kOps;
}

// kiln's reductions as ONNX's (ReduceSum takes its axes as an input from opset 13).
const std::map<std::string, std::string> &reductions() {
  static const std::map<std::string, std::string> kOps = {
      {"sum", "ReduceSum"}, {"mean", "ReduceMean"}, {"max", "ReduceMax"}, {"min", "ReduceMin"}};
  return kOps;
}

// A uniform draw over [v, v] is a fill of v (how the importer makes a
// constant over the batch dim): ConstantOfShape.
bool is_fill(const Node &n) {
  return n.op->name == "random_uniform" && n.attr_float("lo") == n.attr_float("hi");
}

bool exportable(const Node &n) {
  static const std::set<std::string> kOthers = {
      "rsqrt",   "square",    "matmul", "conv2d", "max_pool2d",  "avg_pool2d",
      "reshape", "transpose", "argmax", "clip",   "leaky_relu",  "elu",
      "gelu",    "pad",       "slice",  "cast",   "broadcast_to"};
  return n.op->source != Source::none || same_ops().count(n.op->name) ||
         reductions().count(n.op->name) || kOthers.count(n.op->name) || is_fill(n);
}

int32_t onnx_dtype(DType d) {
  switch (d) {
  case DType::f32: return onnx::TensorProto::FLOAT;
  case DType::f64: return onnx::TensorProto::DOUBLE;
  case DType::i32: return onnx::TensorProto::INT32;
  case DType::i64: return onnx::TensorProto::INT64;
  case DType::boolean: return onnx::TensorProto::BOOL;
  }
  return onnx::TensorProto::UNDEFINED;
}

void set_tensor(onnx::TensorProto *p, const std::string &name, const Tensor &t) {
  p->set_name(name);
  p->set_data_type(onnx_dtype(t.dtype()));
  for (int64_t d : t.shape()) p->add_dims(d);
  p->set_raw_data(t.raw(), t.bytes());
}

void set_value_info(onnx::ValueInfoProto *v, const Node &n) {
  v->set_name(n.name);
  onnx::TypeProto::Tensor *t = v->mutable_type()->mutable_tensor_type();
  t->set_elem_type(onnx_dtype(n.type.dtype));
  onnx::TensorShapeProto *shape = t->mutable_shape();
  for (int64_t d : n.type.shape) {
    if (is_batch(d))
      shape->add_dim()->set_dim_param("batch");
    else
      shape->add_dim()->set_dim_value(d);
  }
}

class Exporter {
public:
  // `needed`: the nodes the fetches need, which the model will hold.
  Exporter(const Graph &g, std::vector<bool> needed) : g_(g), needed_(std::move(needed)) {}

  void node(const Node &n, const std::function<Tensor(NodeId)> &variable_value) {
    onnx::GraphProto &graph = *model_.mutable_graph();
    switch (n.op->source) {
    case Source::placeholder: return set_value_info(graph.add_input(), n);
    case Source::constant:
      return set_tensor(graph.add_initializer(), n.name, n.attr_tensor("value"));
    case Source::variable: return set_tensor(graph.add_initializer(), n.name, variable_value(n.id));
    case Source::none: break;
    }
    std::vector<std::string> inputs;
    for (NodeId in : n.inputs) inputs.push_back(g_.node(in).name);
    const std::string &op = n.op->name;
    if (auto it = same_ops().find(op); it != same_ops().end()) {
      onnx::NodeProto *p = add(it->second, inputs, n.name);
      if (n.attrs.count("axis")) ints(p, "axis", {n.attr_int("axis")});
    } else if (op == "rsqrt") { // ONNX has no Rsqrt
      add("Reciprocal", {add("Sqrt", inputs, n.name + "/sqrt")->output(0)}, n.name);
    } else if (op == "matmul") {
      for (int k : {0, 1})
        if (n.attr_bool(k ? "transpose_b" : "transpose_a"))
          inputs[size_t(k)] = swapped_last_dims(g_.node(n.inputs[size_t(k)]));
      if (!n.attr_bool("sum_batch")) {
        add("MatMul", inputs, n.name);
      } else { // the products per batch, then their sum over the batch dims
        std::vector<int64_t> axes(g_.node(n.inputs[0]).type.shape.size() - 2);
        std::iota(axes.begin(), axes.end(), int64_t{0});
        std::string products = add("MatMul", inputs, n.name + "/products")->output(0);
        std::string sum_axes =
            initializer(n.name + "/axes", Tensor::from<int64_t>({int64_t(axes.size())}, axes));
        ints(add("ReduceSum", {products, sum_axes}, n.name), "keepdims", {0});
      }
    } else if (op == "conv2d" || op == "max_pool2d" || op == "avg_pool2d") {
      window(n, inputs);
    } else if (op == "reshape") {
      Shape shape = n.attr_ints("shape");
      for (int64_t &d : shape)
        if (is_batch(d)) d = -1;
      std::string name = n.name + "/shape";
      set_tensor(graph.add_initializer(), name,
                 Tensor::from<int64_t>({int64_t(shape.size())}, shape));
      add("Reshape", {inputs[0], name}, n.name);
    } else if (op == "transpose") {
      onnx::NodeProto *p = add("Transpose", inputs, n.name);
      if (!n.attr_ints("perm").empty()) ints(p, "perm", n.attr_ints("perm"));
    } else if (op == "argmax") {
      onnx::NodeProto *p = add("ArgMax", inputs, n.name);
      ints(p, "axis", {n.attr_int("axis")});
      ints(p, "keepdims", {n.attr_bool("keepdims") ? 1 : 0});
    } else if (auto r = reductions().find(op); r != reductions().end()) {
      const std::vector<int64_t> &axes = n.attr_ints("axes");
      if (op == "sum" && !axes.empty())
        inputs.push_back(
            initializer(n.name + "/axes", Tensor::from<int64_t>({int64_t(axes.size())}, axes)));
      onnx::NodeProto *p = add(r->second, inputs, n.name);
      if (op != "sum" && !axes.empty()) ints(p, "axes", axes, true);
      ints(p, "keepdims", {n.attr_bool("keepdims") ? 1 : 0});
    } else {
      other(n, inputs);
    }
  }

  // The ops that take more than their inputs or one attribute.
  void other(const Node &n, std::vector<std::string> inputs) {
    const std::string &op = n.op->name;
    DType dtype = g_.node(n.inputs[0]).type.dtype;
    auto scalar = [&](const std::string &name, double value) {
      Tensor t(dtype, {});
      t.set(0, value);
      return initializer(n.name + "/" + name, t);
    };
    auto ints_tensor = [&](const std::string &name, const std::vector<int64_t> &values) {
      return initializer(n.name + "/" + name,
                         Tensor::from<int64_t>({int64_t(values.size())}, values));
    };
    if (op == "square") {
      add("Mul", {inputs[0], inputs[0]}, n.name);
    } else if (op == "clip") {
      add("Clip",
          {inputs[0], scalar("min", n.attr_float("min")), scalar("max", n.attr_float("max"))},
          n.name);
    } else if (op == "leaky_relu" || op == "elu") {
      float_attr(add(op == "elu" ? "Elu" : "LeakyRelu", inputs, n.name), "alpha",
                 n.attr_float("alpha"));
    } else if (op == "gelu") { // x/2 (1 + erf(x / sqrt 2)), as kiln's
      std::string scaled =
          add("Mul", {inputs[0], scalar("rsqrt2", M_SQRT1_2)}, n.name + "/scaled")->output(0);
      std::string erf = add("Erf", {scaled}, n.name + "/erf")->output(0);
      std::string one_plus = add("Add", {erf, scalar("one", 1)}, n.name + "/one_plus")->output(0);
      std::string half = add("Mul", {inputs[0], scalar("half", 0.5)}, n.name + "/half")->output(0);
      add("Mul", {half, one_plus}, n.name);
    } else if (op == "pad") { // kiln: (before, after) per dim; ONNX: all befores, then all afters
      const std::vector<int64_t> &pads = n.attr_ints("pads");
      std::vector<int64_t> onnx_pads(pads.size());
      for (size_t d = 0; d < pads.size() / 2; ++d) {
        onnx_pads[d] = pads[2 * d];
        onnx_pads[d + pads.size() / 2] = pads[2 * d + 1];
      }
      add("Pad",
          {inputs[0], ints_tensor("pads", onnx_pads), scalar("value", n.attr_float("value"))},
          n.name);
    } else if (op == "slice") {
      const std::vector<int64_t> &begin = n.attr_ints("begin");
      std::vector<int64_t> axes(begin.size()), steps = n.attr_ints("steps");
      for (size_t d = 0; d < axes.size(); ++d) axes[d] = int64_t(d);
      if (steps.empty()) steps.assign(begin.size(), 1);
      add("Slice",
          {inputs[0], ints_tensor("starts", begin), ints_tensor("ends", n.attr_ints("end")),
           ints_tensor("axes", axes), ints_tensor("steps", steps)},
          n.name);
    } else if (op == "cast") {
      ints(add("Cast", inputs, n.name), "to", {onnx_dtype(n.attr_dtype("dtype"))});
    } else if (is_fill(n)) {
      fill(n);
    } else if (op == "broadcast_to") { // the batch dim comes from the input: 1 broadcasts it
      std::vector<int64_t> shape = n.attr_ints("shape");
      for (int64_t &d : shape) d = is_batch(d) ? 1 : d;
      add("Expand", {inputs[0], ints_tensor("shape", shape)}, n.name);
    }
  }

  std::string finish(const std::vector<NodeId> &fetches) {
    for (NodeId id : fetches) set_value_info(model_.mutable_graph()->add_output(), g_.node(id));
    model_.set_ir_version(8);
    model_.set_producer_name("kiln");
    model_.mutable_graph()->set_name("kiln");
    onnx::OperatorSetIdProto *opset = model_.add_opset_import();
    opset->set_domain("");
    opset->set_version(kOnnxExportOpset);
    return model_.SerializeAsString();
  }

private:
  onnx::NodeProto *add(const std::string &op, const std::vector<std::string> &inputs,
                       const std::string &output) {
    onnx::NodeProto *p = model_.mutable_graph()->add_node();
    p->set_op_type(op);
    p->set_name(output);
    for (const std::string &in : inputs) p->add_input(in);
    p->add_output(output);
    return p;
  }
  std::string initializer(const std::string &name, const Tensor &value) {
    set_tensor(model_.mutable_graph()->add_initializer(), name, value);
    return name;
  }
  static void float_attr(onnx::NodeProto *p, const std::string &name, double value) {
    onnx::AttributeProto *a = p->add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::FLOAT);
    a->set_f(float(value));
  }
  // One int (a scalar attribute) or a list.
  static void ints(onnx::NodeProto *p, const std::string &name, const std::vector<int64_t> &values,
                   bool list = false) {
    onnx::AttributeProto *a = p->add_attribute();
    a->set_name(name);
    if (values.size() == 1 && !list) {
      a->set_type(onnx::AttributeProto::INT);
      a->set_i(values[0]);
      return;
    }
    a->set_type(onnx::AttributeProto::INTS);
    for (int64_t v : values) a->add_ints(v);
  }
  std::string swapped_last_dims(const Node &input) {
    std::vector<int64_t> perm;
    for (size_t k = 0; k < input.type.shape.size(); ++k) perm.push_back(int64_t(k));
    std::swap(perm[perm.size() - 1], perm[perm.size() - 2]);
    std::string name = input.name + "/transposed";
    ints(add("Transpose", {input.name}, name), "perm", perm, true);
    return name;
  }
  // conv2d and pooling: the window's pads as kiln computed them, ONNX's order.
  void window(const Node &n, const std::vector<std::string> &inputs) {
    const Shape &x = g_.node(n.inputs[0]).type.shape;
    bool conv = n.op->name == "conv2d";
    std::vector<int64_t> kernel = conv ? std::vector<int64_t>{g_.node(n.inputs[1]).type.shape[2],
                                                              g_.node(n.inputs[1]).type.shape[3]}
                                       : n.attr_ints("kernel");
    ops::Window2d w = ops::window2d(n, x[2], x[3], kernel[0], kernel[1]);
    onnx::NodeProto *p = add(conv                         ? "Conv"
                             : n.op->name == "max_pool2d" ? "MaxPool"
                                                          : "AveragePool",
                             inputs, n.name);
    ints(p, "kernel_shape", kernel, true);
    ints(p, "strides", {w.h.stride, w.w.stride}, true);
    ints(p, "pads", {w.h.pad_before, w.w.pad_before, w.h.pad_after, w.w.pad_after}, true);
    if (conv) {
      ints(p, "dilations", {w.h.dilation, w.w.dilation}, true);
      ints(p, "group", {n.attr_int("groups")});
    }
  }

  // ConstantOfShape of v; a batch dim's size read from an input that has it.
  void fill(const Node &n) {
    Shape shape = n.attr_ints("shape");
    auto ints_tensor = [&](const std::string &name, const std::vector<int64_t> &values) {
      return initializer(n.name + "/" + name,
                         Tensor::from<int64_t>({int64_t(values.size())}, values));
    };
    std::string dims;
    auto at = std::find(shape.begin(), shape.end(), batch);
    if (at == shape.end()) {
      dims = ints_tensor("shape", shape);
    } else {
      auto source = std::find_if(g_.nodes().begin(), g_.nodes().end(), [&](const Node &p) {
        return needed_[size_t(p.id)] && p.op->source == Source::placeholder &&
               has_batch(p.type.shape);
      });
      if (source == g_.nodes().end())
        fail("{}: a value over the batch dim, but no input of the model has the batch dim",
             n.describe());
      const Shape &s = source->type.shape;
      auto axis = int64_t(std::find(s.begin(), s.end(), batch) - s.begin());
      std::string input_shape = add("Shape", {source->name}, n.name + "/input_shape")->output(0);
      std::vector<std::string> parts;
      if (at != shape.begin()) parts.push_back(ints_tensor("before", {shape.begin(), at}));
      parts.push_back(
          add("Gather", {input_shape, ints_tensor("batch_axis", {axis})}, n.name + "/batch")
              ->output(0));
      if (at + 1 != shape.end()) parts.push_back(ints_tensor("after", {at + 1, shape.end()}));
      onnx::NodeProto *concat = add("Concat", parts, n.name + "/shape");
      ints(concat, "axis", {0});
      dims = concat->output(0);
    }
    onnx::AttributeProto *value = add("ConstantOfShape", {dims}, n.name)->add_attribute();
    value->set_name("value");
    value->set_type(onnx::AttributeProto::TENSOR);
    Tensor v(n.attr_dtype("dtype"), {1});
    v.set(0, n.attr_float("lo"));
    set_tensor(value->mutable_t(), "", v);
  }

  const Graph &g_;
  std::vector<bool> needed_;
  onnx::ModelProto model_;
};

} // namespace

std::string export_onnx(const Graph &g, const std::vector<NodeId> &fetches,
                        const std::function<Tensor(NodeId)> &variable_value) {
  std::vector<bool> needed(g.size(), false);
  for (NodeId f : fetches) needed[size_t(f)] = true;
  for (size_t i = g.size(); i-- > 0;)
    if (needed[i] && !is_fill(g.node(NodeId(i)))) // a fill's counter input draws nothing
      for (NodeId in : g.node(NodeId(i)).inputs) needed[size_t(in)] = true;
  std::vector<std::string> problems;
  for (const Node &n : g.nodes())
    if (needed[size_t(n.id)] && !exportable(n)) problems.push_back(n.describe());
  if (!problems.empty())
    fail("cannot export to ONNX: {} node{} with no ONNX form (export an inference graph: name "
         "its outputs with --fetch):\n  {}",
         problems.size(), problems.size() == 1 ? "" : "s", fmt::join(problems, "\n  "));
  Exporter e(g, needed);
  for (const Node &n : g.nodes())
    if (needed[size_t(n.id)]) e.node(n, variable_value);
  return e.finish(fetches);
}

} // namespace kiln
