#include "ir/dot.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <iterator>
#include <string_view>

namespace kiln {

namespace {

// Attribute values longer than this are cut: a label is a summary, and the
// text dump has the full values.
constexpr size_t kMaxAttrChars = 32;

// A double-quoted DOT string; a newline in `s` becomes a centered line break.
std::string quoted(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + '"';
}

std::string_view leaf_name(std::string_view name) {
  size_t slash = name.rfind('/');
  return slash == std::string_view::npos ? name : name.substr(slash + 1);
}

struct Style {
  std::string_view shape;
  std::string_view fill;
};

// Inputs, state and constants stand out from computation; ops with effects
// (state updates, randomness) are tinted so that they are not mistaken for
// pure ones.
Style style_of(const Node &n) {
  switch (n.op->source) {
  case Source::placeholder: return {"invhouse", "#d0e4f5"};
  case Source::variable: return {"cylinder", "#fdf0c2"};
  case Source::constant: return {"note", "#e8e8e8"};
  case Source::none: break;
  }
  return {"box", n.op->stateful ? "#f6d0cc" : "#ffffff"};
}

// Attributes worth a line in the label: not those at their op's default, and
// not a dtype or shape that the output type already shows.
bool shown(const Node &n, const std::string &key, const AttrValue &value) {
  for (const AttrSpec &spec : n.op->attrs)
    if (spec.name == key && spec.default_value && attr_equal(*spec.default_value, value))
      return false;
  if (key == "dtype") return !attr_equal(value, n.type.dtype);
  if (key == "shape") return !attr_equal(value, n.type.shape);
  return true;
}

std::string attr_line(const std::string &key, const AttrValue &value) {
  std::string text = to_string(value);
  if (text.size() > kMaxAttrChars) text = text.substr(0, kMaxAttrChars - 3) + "...";
  return fmt::format("{}={}", key, text);
}

// "matmul : f32[?, 512]" under the node's own name when that differs from
// its op, then one line per shown attribute.
std::string label_of(const Node &n) {
  std::vector<std::string> lines;
  std::string_view leaf = leaf_name(n.name);
  if (leaf != n.op->name) lines.emplace_back(leaf);
  lines.push_back(fmt::format("{} : {}", n.op->name, to_string(n.type)));
  for (const auto &[key, value] : n.attrs)
    if (shown(n, key, value)) lines.push_back(attr_line(key, value));
  return fmt::format("{}", fmt::join(lines, "\n"));
}

// Name scopes as a tree, children in order of first appearance, so that the
// clusters come out in the order the model was built.
struct ScopeTree {
  std::string path; // "" for the root, else "dense" or "encoder/dense"
  std::vector<NodeId> nodes;
  std::vector<ScopeTree> children;

  ScopeTree &child(std::string_view name) {
    std::string child_path = path.empty() ? std::string(name) : fmt::format("{}/{}", path, name);
    for (ScopeTree &c : children)
      if (c.path == child_path) return c;
    children.push_back({child_path, {}, {}});
    return children.back();
  }
};

ScopeTree scope_tree(const Graph &g) {
  ScopeTree root;
  for (const Node &n : g.nodes()) {
    ScopeTree *scope = &root;
    std::string_view rest = n.name;
    for (size_t slash; (slash = rest.find('/')) != std::string_view::npos;) {
      scope = &scope->child(rest.substr(0, slash));
      rest.remove_prefix(slash + 1);
    }
    scope->nodes.push_back(n.id);
  }
  return root;
}

class DotWriter {
public:
  explicit DotWriter(const Graph &g) : g_(g), consumed_(g.size(), false) {
    for (const Node &n : g.nodes())
      for (NodeId in : n.inputs) consumed_[size_t(in)] = true;
  }

  std::string write() {
    line(0, "digraph kiln {{");
    line(1, "rankdir=TB;");
    line(1, "node [shape=box, style=\"rounded,filled\", fillcolor=\"#ffffff\", "
            "fontname=\"Helvetica\", fontsize=10];");
    line(1, "edge [fontname=\"Helvetica\", fontsize=8, color=\"#666666\", "
            "fontcolor=\"#666666\"];");
    write_scope(scope_tree(g_), 1);
    for (const Node &n : g_.nodes())
      for (NodeId in : n.inputs)
        line(1, "{} -> {} [label={}];", quoted(g_.node(in).name), quoted(n.name),
             quoted(to_string(g_.node(in).type)));
    line(0, "}}");
    return std::move(out_);
  }

private:
  template <typename... Args> void line(int depth, fmt::format_string<Args...> f, Args &&...args) {
    out_.append(2 * size_t(depth), ' ');
    fmt::format_to(std::back_inserter(out_), f, std::forward<Args>(args)...);
    out_ += '\n';
  }

  void write_scope(const ScopeTree &scope, int depth) {
    for (NodeId id : scope.nodes) write_node(g_.node(id), depth);
    for (const ScopeTree &child : scope.children) {
      line(depth, "subgraph {} {{", quoted("cluster_" + child.path));
      line(depth + 1,
           "label={}; style=\"rounded,dashed\"; color=\"#999999\"; "
           "fontname=\"Helvetica\"; fontsize=11;",
           quoted(leaf_name(child.path)));
      write_scope(child, depth + 1);
      line(depth, "}}");
    }
  }

  // Nodes that nothing consumes are the graph's results: drawn with a heavy
  // border so that the eye finds them first.
  void write_node(const Node &n, int depth) {
    Style style = style_of(n);
    bool box = style.shape == "box";
    line(depth, "{} [label={}, shape={}, style=\"{}\", fillcolor=\"{}\"{}];", quoted(n.name),
         quoted(label_of(n)), style.shape, box ? "rounded,filled" : "filled", style.fill,
         consumed_[size_t(n.id)] ? "" : ", penwidth=2");
  }

  const Graph &g_;
  std::vector<bool> consumed_;
  std::string out_;
};

} // namespace

std::string to_dot(const Graph &g) { return DotWriter(g).write(); }

} // namespace kiln
