#include "ir/listing.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace kiln {

namespace {

std::string node_line(const Graph &g, const Node &n) {
  std::vector<std::string> inputs, attrs;
  for (NodeId in : n.inputs) inputs.push_back("%" + g.node(in).name);
  for (const auto &[key, value] : n.attrs)
    attrs.push_back(fmt::format("{}={}", key, to_string(value)));
  std::string attr_text = attrs.empty() ? "" : fmt::format(" {{{}}}", fmt::join(attrs, ", "));
  return fmt::format("%{} = {}({}){} : {}\n", n.name, n.op->name, fmt::join(inputs, ", "),
                     attr_text, to_string(n.type));
}

} // namespace

std::string to_listing(const Graph &g) {
  std::string out;
  for (const Node &n : g.nodes()) out += node_line(g, n);
  return out;
}

} // namespace kiln
