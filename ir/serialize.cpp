#include "ir/serialize.h"

#include "ir/error.h"
#include "ir/kiln.pb.h"
#include "ir/tensor_proto.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/tokenizer.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/text_format.h>

#include <algorithm>
#include <unordered_map>

namespace kiln {

namespace {

// The tensor overloads live in ir/tensor_proto.h; these add to them.
using kiln::from_proto;
using kiln::to_proto;

// Graphs nest: a fused node's body is a graph attribute.
proto::GraphDef to_proto(const Graph &g);
Graph from_proto(const proto::GraphDef &def, const std::string &origin);

void to_proto(const AttrValue &v, proto::AttrValue &p) {
  struct Writer {
    proto::AttrValue &p;
    void operator()(int64_t x) { p.set_i(x); }
    void operator()(double x) { p.set_f(x); }
    void operator()(bool x) { p.set_b(x); }
    void operator()(const std::string &x) { p.set_s(x); }
    void operator()(const std::vector<int64_t> &x) {
      *p.mutable_ints()->mutable_values() = {x.begin(), x.end()};
    }
    void operator()(const std::vector<double> &x) {
      *p.mutable_floats()->mutable_values() = {x.begin(), x.end()};
    }
    void operator()(DType x) { p.set_dtype(to_proto(x)); }
    void operator()(const Tensor &x) { to_proto(x, *p.mutable_tensor()); }
    void operator()(const std::shared_ptr<const Graph> &x) { *p.mutable_graph() = to_proto(*x); }
  };
  std::visit(Writer{p}, v);
}

AttrValue from_proto(const proto::AttrValue &p, const std::string &who) {
  switch (p.value_case()) {
  case proto::AttrValue::kI: return p.i();
  case proto::AttrValue::kF: return p.f();
  case proto::AttrValue::kB: return p.b();
  case proto::AttrValue::kS: return p.s();
  case proto::AttrValue::kInts:
    return std::vector<int64_t>(p.ints().values().begin(), p.ints().values().end());
  case proto::AttrValue::kFloats:
    return std::vector<double>(p.floats().values().begin(), p.floats().values().end());
  case proto::AttrValue::kDtype: return from_proto(p.dtype(), who);
  case proto::AttrValue::kTensor: return from_proto(p.tensor(), who);
  case proto::AttrValue::kGraph:
    return std::make_shared<const Graph>(from_proto(p.graph(), who + ": body"));
  case proto::AttrValue::VALUE_NOT_SET: break;
  }
  fail("{}: attribute has no value", who);
}

proto::GraphDef to_proto(const Graph &g) {
  proto::GraphDef def;
  def.set_format_version(kFormatVersion);
  for (const Node &n : g.nodes()) {
    proto::NodeDef *p = def.add_nodes();
    p->set_name(n.name);
    p->set_op(n.op->name);
    for (NodeId in : n.inputs) p->add_inputs(g.node(in).name);
    for (const auto &[key, value] : n.attrs) to_proto(value, (*p->mutable_attrs())[key]);
  }
  return def;
}

// Adds nodes in an order where inputs come first (depth-first from each node
// in file order, with an explicit stack: a deep chain must not overflow the
// call stack), reporting unknown inputs and cycles by name.
class GraphLoader {
public:
  GraphLoader(const proto::GraphDef &def, const std::string &origin) : def_(def), origin_(origin) {
    for (int i = 0; i < def.nodes_size(); ++i) {
      const std::string &name = def.nodes(i).name();
      if (!index_.emplace(name, i).second) fail("{}: duplicate node name '{}'", origin, name);
    }
    state_.assign(static_cast<size_t>(def.nodes_size()), State::todo);
  }

  Graph load() {
    for (int i = 0; i < def_.nodes_size(); ++i) visit(i);
    return std::move(graph_);
  }

private:
  enum class State { todo, active, done };
  struct Frame {
    int node;
    int next_input;
  };

  void visit(int root) {
    push(root);
    while (!stack_.empty()) {
      Frame &top = stack_.back();
      const proto::NodeDef &n = def_.nodes(top.node);
      if (top.next_input < n.inputs_size()) {
        const std::string &in = n.inputs(top.next_input++);
        auto it = index_.find(in);
        if (it == index_.end())
          fail("{}: node '{}' ({}): input '{}' does not exist", origin_, n.name(), n.op(), in);
        push(it->second);
        continue;
      }
      add(n);
      state_[size_t(top.node)] = State::done;
      stack_.pop_back();
    }
  }

  void push(int i) {
    if (state_[size_t(i)] == State::done) return;
    if (state_[size_t(i)] == State::active) {
      auto from = std::find_if(stack_.begin(), stack_.end(), [&](Frame f) { return f.node == i; });
      std::string cycle;
      for (auto it = from; it != stack_.end(); ++it) cycle += def_.nodes(it->node).name() + " -> ";
      fail("{}: node '{}' is part of a cycle: {}{}", origin_, def_.nodes(i).name(), cycle,
           def_.nodes(i).name());
    }
    state_[size_t(i)] = State::active;
    stack_.push_back({i, 0});
  }

  void add(const proto::NodeDef &n) {
    std::vector<NodeId> inputs;
    for (const std::string &in : n.inputs()) inputs.push_back(graph_.at(in));
    std::string who = fmt::format("{}: node '{}' ({})", origin_, n.name(), n.op());
    Attrs attrs;
    for (const auto &[key, value] : n.attrs()) attrs.emplace(key, from_proto(value, who));
    try {
      graph_.add_node(n.op(), n.name(), std::move(inputs), std::move(attrs));
    } catch (const Error &e) {
      fail("{}: {}", origin_, e.what());
    }
  }

  const proto::GraphDef &def_;
  const std::string &origin_;
  std::unordered_map<std::string, int> index_;
  std::vector<State> state_;
  std::vector<Frame> stack_;
  Graph graph_;
};

Graph from_proto(const proto::GraphDef &def, const std::string &origin) {
  return GraphLoader(def, origin).load();
}

} // namespace

std::string serialize(const Graph &g, GraphFormat format) {
  proto::GraphDef def = to_proto(g);
  std::string out;
  if (format == GraphFormat::text) {
    if (!google::protobuf::TextFormat::PrintToString(def, &out)) fail("could not print the graph");
    return out;
  }
  {
    // Deterministic: attribute maps in key order, so equal graphs give equal bytes.
    google::protobuf::io::StringOutputStream stream(&out);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    if (!def.SerializeToCodedStream(&coded)) fail("could not serialize the graph");
  }
  return out;
}

Graph deserialize(std::string_view bytes, GraphFormat format, const std::string &origin) {
  proto::GraphDef def;
  if (format == GraphFormat::binary) {
    if (!def.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())))
      fail("{}: not a valid binary kiln graph (truncated or corrupt protobuf)", origin);
  } else {
    // Collect the parser's message instead of letting protobuf log it.
    struct Collector : google::protobuf::io::ErrorCollector {
      std::string message;
      void AddError(int line, int column, const std::string &m) override {
        if (message.empty())
          message = fmt::format("line {}, column {}: {}", line + 1, column + 1, m);
      }
    } errors;
    google::protobuf::TextFormat::Parser parser;
    parser.RecordErrorsTo(&errors);
    if (!parser.ParseFromString(std::string(bytes), &def))
      fail("{}: not a valid text kiln graph: {}", origin, errors.message);
  }
  if (def.format_version() != kFormatVersion)
    fail("{}: format version {} is not supported (this kiln reads version {})", origin,
         def.format_version(), kFormatVersion);
  return from_proto(def, origin);
}

GraphFormat format_for(const std::filesystem::path &path) {
  return path.extension() == ".txt" || path.extension() == ".pbtxt" ? GraphFormat::text
                                                                    : GraphFormat::binary;
}

void save_graph(const Graph &g, const std::filesystem::path &path) {
  write_file_atomically(path, serialize(g, format_for(path)));
}

Graph load_graph(const std::filesystem::path &path) {
  return deserialize(read_file(path), format_for(path), path.string());
}

} // namespace kiln
