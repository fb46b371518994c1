#include "ir/serialize.h"

#include "ir/error.h"
#include "ir/kiln.pb.h"
#include "ir/suggest.h"
#include "ir/tensor_proto.h"
#include "ir/utf8.h"
#include "ir/warning.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/tokenizer.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/stubs/logging.h>
#include <google/protobuf/text_format.h>
#include <zlib.h>

#include <algorithm>
#include <climits>
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
      if (!index_.emplace(name, i).second)
        fail("{}: duplicate node name '{}'", origin, escaped(name));
    }
    state_.assign(static_cast<size_t>(def.nodes_size()), State::todo);
    graph_.reserve(size_t(def.nodes_size()));
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
          fail("{}: node '{}' ({}): input '{}' does not exist", origin_, escaped(n.name()),
               escaped(n.op()), escaped(in));
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
      for (auto it = from; it != stack_.end(); ++it)
        cycle += escaped(def_.nodes(it->node).name()) + " -> ";
      std::string name = escaped(def_.nodes(i).name());
      fail("{}: node '{}' is part of a cycle: {}{}", origin_, name, cycle, name);
    }
    state_[size_t(i)] = State::active;
    stack_.push_back({i, 0});
  }

  void add(const proto::NodeDef &n) {
    std::vector<NodeId> inputs;
    for (const std::string &in : n.inputs()) inputs.push_back(graph_.at(in));
    std::string who =
        fmt::format("{}: node '{}' ({})", origin_, escaped(n.name()), escaped(n.op()));
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

namespace {

// The checksum field (15, fixed32) as the binary format ends with it: a tag
// byte, then the CRC-32 in little-endian order.
constexpr unsigned char kChecksumTag = (15 << 3) | 5;
constexpr size_t kChecksumBytes = 5;

uint32_t crc32_of(std::string_view bytes) {
  return uint32_t(crc32_z(0, reinterpret_cast<const Bytef *>(bytes.data()), bytes.size()));
}

// Deterministic: attribute maps in key order, so equal graphs give equal bytes.
std::string serialize_binary(const proto::GraphDef &def) {
  std::string out;
  {
    google::protobuf::io::StringOutputStream stream(&out);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    if (!def.SerializeToCodedStream(&coded)) fail("could not serialize the graph");
  }
  // The same bytes as serializing with `checksum` set: it is the last field.
  uint32_t crc = crc32_of(out);
  out.push_back(char(kChecksumTag));
  for (int i = 0; i < 4; ++i) out.push_back(char((crc >> (8 * i)) & 0xff));
  return out;
}

void check_checksum(std::string_view bytes, const proto::GraphDef &def, const std::string &origin) {
  if (!def.has_checksum())
    fail("{}: truncated: the checksum that ends a format {} graph is missing", origin,
         def.format_version());
  size_t body = bytes.size() - kChecksumBytes; // parsing found the field: it fits
  uint32_t stored = 0;
  for (int i = 0; i < 4; ++i)
    stored |= uint32_t(static_cast<unsigned char>(bytes[body + 1 + size_t(i)])) << (8 * i);
  bool at_end = static_cast<unsigned char>(bytes[body]) == kChecksumTag && stored == def.checksum();
  if (!at_end || crc32_of(bytes.substr(0, body)) != stored)
    fail("{}: damaged: the contents do not match the checksum", origin);
}

proto::GraphDef parse_binary(std::string_view bytes, const std::string &origin) {
  proto::GraphDef def;
  google::protobuf::LogSilencer quiet; // the error below says it, naming the file
  if (bytes.size() > size_t(INT_MAX) || !def.ParseFromArray(bytes.data(), int(bytes.size())))
    fail("{}: not a valid binary kiln graph (truncated or corrupt protobuf)", origin);
  return def;
}

proto::GraphDef parse_text(std::string_view text, const std::string &origin) {
  if (text.size() > kMaxTextGraphBytes)
    fail("{}: {} bytes is too large for a text graph (the limit is {} MiB; save it in binary "
         "form)",
         origin, text.size(), kMaxTextGraphBytes >> 20);
  // Collect the parser's message instead of letting protobuf log it.
  struct Collector : google::protobuf::io::ErrorCollector {
    std::string message;
    void AddError(int line, int column, const std::string &m) override {
      if (message.empty()) message = fmt::format("line {}, column {}: {}", line + 1, column + 1, m);
    }
  } errors;
  google::protobuf::TextFormat::Parser parser;
  parser.RecordErrorsTo(&errors);
  parser.SetRecursionLimit(kMaxGraphNesting);
  proto::GraphDef def;
  google::protobuf::LogSilencer quiet;
  if (!parser.ParseFromString(std::string(text), &def))
    fail("{}: not a valid text kiln graph: {}", origin, errors.message);
  return def;
}

} // namespace

std::string serialize(const Graph &g, GraphFormat format) {
  proto::GraphDef def = to_proto(g);
  if (format == GraphFormat::binary) return serialize_binary(def);
  std::string out;
  if (!google::protobuf::TextFormat::PrintToString(def, &out)) fail("could not print the graph");
  return out;
}

namespace {

proto::GraphDef parse(std::string_view bytes, GraphFormat format, const std::string &origin) {
  proto::GraphDef def =
      format == GraphFormat::binary ? parse_binary(bytes, origin) : parse_text(bytes, origin);
  if (def.format_version() == 0) fail("{}: not a kiln graph (it has no format version)", origin);
  if (def.format_version() < kOldestFormatVersion || def.format_version() > kFormatVersion)
    fail("{}: format version {} is not supported (this kiln reads versions {} to {})", origin,
         def.format_version(), kOldestFormatVersion, kFormatVersion);
  if (format == GraphFormat::binary && def.format_version() >= 2)
    check_checksum(bytes, def, origin);
  return def;
}

} // namespace

Graph deserialize(std::string_view bytes, GraphFormat format, const std::string &origin) {
  return from_proto(parse(bytes, format, origin), origin);
}

GraphFormat format_for(const std::filesystem::path &path) {
  return path.extension() == ".txt" || path.extension() == ".pbtxt" ? GraphFormat::text
                                                                    : GraphFormat::binary;
}

void save_graph(const Graph &g, const std::filesystem::path &path) {
  write_file_atomically(path, serialize(g, format_for(path)));
}

Graph load_graph(const std::filesystem::path &path) {
  GraphFormat format = format_for(path);
  proto::GraphDef def = parse(read_file(path), format, path.string());
  Graph g = from_proto(def, path.string());
  // Text graphs carry no checksum in any version: they are edited by hand.
  if (format == GraphFormat::binary && def.format_version() < 2)
    warn("{}: a format {} graph carries no checksum, so damage to it goes unnoticed; re-save "
         "it with 'kiln dump -f proto -o {} {}'",
         path.string(), def.format_version(), path.string(), path.string());
  return g;
}

} // namespace kiln
