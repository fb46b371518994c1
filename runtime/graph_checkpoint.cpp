// The graph's side of runtime/checkpoint_file.h: a graph's variables saved
// and restored through the graph-free encoding in checkpoint_file.cpp, which
// ahead-of-time binaries link without the graph and its ops.
#include "runtime/checkpoint_file.h"

#include "ir/error.h"
#include "ir/serialize.h"
#include "ir/utf8.h"

#include <fmt/format.h>

namespace kiln {

namespace {

std::vector<const Node *> graph_variables(const Graph &g) {
  std::vector<const Node *> out;
  for (const Node &n : g.nodes())
    if (n.op->source == Source::variable) out.push_back(&n);
  return out;
}

std::vector<VariableSpec> specs_of(std::span<const Node *const> variables) {
  std::vector<VariableSpec> specs;
  for (const Node *n : variables) specs.push_back({n->name, n->type.dtype, n->type.shape});
  return specs;
}

} // namespace

void write_checkpoint(const Graph &g, const std::function<Tensor(NodeId)> &value,
                      const std::filesystem::path &path) {
  std::string origin = fmt::format("checkpoint '{}'", path.string());
  std::vector<const Node *> variables = graph_variables(g);
  std::string bytes = encode_checkpoint(
      specs_of(variables), [&](size_t i) { return value(variables[i]->id); }, origin);
  try {
    write_file_atomically(path, bytes);
  } catch (const Error &e) {
    fail("{}: {}", origin, e.what());
  }
}

std::vector<std::pair<NodeId, Tensor>>
read_checkpoint(const Graph &g, const std::filesystem::path &path, CheckpointReadOptions options) {
  return parse_checkpoint(g, read_file(path), fmt::format("checkpoint '{}'", path.string()),
                          options);
}

std::vector<std::pair<NodeId, Tensor>> parse_checkpoint(const Graph &g, std::string_view bytes,
                                                        const std::string &origin,
                                                        CheckpointReadOptions options) {
  std::vector<const Node *> variables = graph_variables(g);
  auto describe_extra = [&](const std::string &name) {
    std::optional<NodeId> node = g.find(name);
    return node ? fmt::format("variable '{}' in the file: {} in the graph is not a variable",
                              escaped(name), g.node(*node).describe())
                : fmt::format("variable '{}' in the file is not in the graph", escaped(name));
  };
  std::vector<Tensor> values =
      decode_checkpoint(specs_of(variables), bytes, origin, options, describe_extra);
  std::vector<std::pair<NodeId, Tensor>> out;
  for (size_t i = 0; i < values.size(); ++i)
    out.emplace_back(variables[i]->id, std::move(values[i]));
  return out;
}

} // namespace kiln
