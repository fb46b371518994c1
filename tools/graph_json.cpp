#include "tools/graph_json.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <regex>

namespace kiln::tools {

namespace {

using Json = nlohmann::json;

// Values of a tensor shown before "...": enough to recognize a constant.
constexpr int64_t kShownValues = 8;

// Floats attributes are stored as doubles; one that a float holds exactly
// was written as a float, and prints as the shortest text that gives it back.
std::string short_float(double x) {
  if (double(float(x)) == x) return fmt::format("{}", float(x));
  return fmt::format("{}", x);
}

std::string short_tensor(const Tensor &t) {
  std::vector<std::string> values;
  bool floating = is_float(t.dtype());
  for (int64_t i = 0; i < std::min(t.size(), kShownValues); ++i)
    values.push_back(floating ? short_float(t.get(i)) : fmt::format("{}", t.get(i)));
  if (t.size() > kShownValues) values.push_back("...");
  return fmt::format("{} {{{}}}", t.summary(), fmt::join(values, ", "));
}

// gradients() opens a scope "gradients" (then "gradients_1", ...) where it is
// called: at the top, or inside an optimizer's scope ("adam/gradients/...").
bool in_gradient_scope(const Node &n) {
  static const std::regex kGradientScope("(^|.*/)gradients(_[0-9]+)?/.*");
  return std::regex_match(n.name, kGradientScope);
}

// Variable updates (assign, the optimizers' update ops, moving averages,
// fused updates), what only updates consume (optimizer slots, learning
// rates) and the groups of updates that make a training target are the
// optimizer's. Walking the graph backwards sees a node's consumers first.
std::vector<std::string> roles(const Graph &g) {
  std::vector<std::vector<NodeId>> consumers(g.size());
  for (const Node &n : g.nodes())
    for (NodeId in : n.inputs) consumers[size_t(in)].push_back(n.id);
  std::vector<std::string> role(g.size(), "forward");
  for (size_t i = g.size(); i-- > 0;) {
    const Node &n = g.node(NodeId(i));
    if (in_gradient_scope(n)) {
      role[i] = "gradient";
      continue;
    }
    bool only_updates = !consumers[i].empty();
    for (NodeId c : consumers[i]) only_updates = only_updates && role[size_t(c)] == "update";
    if (n.op->updates_variable || only_updates) role[i] = "update";
  }
  for (const Node &n : g.nodes()) {
    bool all_updates = n.op->name == "group" && !n.inputs.empty();
    for (NodeId in : n.inputs) all_updates = all_updates && role[size_t(in)] == "update";
    if (all_updates) role[size_t(n.id)] = "update";
  }
  return role;
}

std::string_view source_name(Source s) {
  switch (s) {
  case Source::placeholder: return "placeholder";
  case Source::variable: return "variable";
  case Source::constant: return "constant";
  case Source::none: break;
  }
  return "";
}

Json attrs_json(const Node &n) {
  Json attrs = Json::object();
  for (const auto &[key, value] : n.attrs)
    if (key != "body") attrs[key] = short_value(value);
  return attrs;
}

// Members in body order, parameters left out: an input is a member's index,
// or -(k + 1) for the fused node's input k.
Json body_json(const Graph &body) {
  std::vector<int> member(body.size(), -1);
  Json members = Json::array();
  for (const Node &n : body.nodes()) {
    if (n.op->name == "parameter") continue;
    Json inputs = Json::array();
    for (NodeId in : n.inputs) {
      const Node &i = body.node(in);
      inputs.push_back(i.op->name == "parameter" ? -(i.attr_int("index") + 1) : member[size_t(in)]);
    }
    member[size_t(n.id)] = int(members.size());
    members.push_back({{"name", n.name},
                       {"op", n.op->name},
                       {"type", to_string(n.type)},
                       {"attrs", attrs_json(n)},
                       {"inputs", std::move(inputs)}});
  }
  return members;
}

} // namespace

std::string short_value(const AttrValue &v) {
  if (const auto *x = std::get_if<double>(&v)) return short_float(*x);
  if (const auto *xs = std::get_if<std::vector<double>>(&v)) {
    std::vector<std::string> parts;
    for (double x : *xs) parts.push_back(short_float(x));
    return fmt::format("[{}]", fmt::join(parts, ", "));
  }
  if (const auto *t = std::get_if<Tensor>(&v)) return short_tensor(*t);
  return to_string(v);
}

nlohmann::json graph_json(const Graph &g, const std::string &title) {
  std::vector<std::string> role = roles(g);
  Json nodes = Json::array();
  for (const Node &n : g.nodes()) {
    Json node = {{"name", n.name},
                 {"op", n.op->name},
                 {"type", to_string(n.type)},
                 {"inputs", n.inputs},
                 {"attrs", attrs_json(n)},
                 {"role", role[size_t(n.id)]},
                 {"source", source_name(n.op->source)}};
    if (auto it = n.attrs.find("body"); it != n.attrs.end()) {
      node["body"] = body_json(*std::get<std::shared_ptr<const Graph>>(it->second));
      if (auto kind = n.attrs.find("kind"); kind != n.attrs.end())
        node["fusion_kind"] = std::get<std::string>(kind->second);
    }
    nodes.push_back(std::move(node));
  }
  return {{"title", title}, {"nodes", std::move(nodes)}};
}

} // namespace kiln::tools
