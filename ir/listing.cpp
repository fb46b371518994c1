#include "ir/listing.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cctype>
#include <cstring>

namespace kiln {

bool is_bare_name_char(char c) {
  auto u = static_cast<unsigned char>(c);
  return std::isalnum(u) || u >= 0x80 || (c != '\0' && std::strchr("_./-:@", c));
}

namespace {

std::string quoted(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\')
      out += {'\\', c};
    else if (c == '\n')
      out += "\\n";
    else if (c == '\t')
      out += "\\t";
    else if (u < 0x20 || u == 0x7f)
      out += fmt::format("\\x{:02x}", u);
    else
      out += c;
  }
  return out + "\"";
}

std::string name_text(std::string_view name) {
  bool bare = std::all_of(name.begin(), name.end(), is_bare_name_char);
  return "%" + (bare ? std::string(name) : quoted(name));
}

// Each value in its own dtype, so that f32 prints its shortest form (0.1,
// not 0.10000000149011612) and i64 keeps all its digits; one value when all
// are the same bits; "..." for more than `max_values` values.
std::string tensor_text(const Tensor &t, int64_t max_values) {
  std::vector<std::string> values;
  visit_dtype(t.dtype(), [&](auto zero) {
    using T = decltype(zero);
    auto data = t.data<T>();
    bool splat = data.size() > 1 && std::all_of(data.begin(), data.end(), [&](const T &x) {
                   return std::memcmp(&x, &data[0], sizeof(T)) == 0;
                 });
    if (!splat && t.size() > max_values) {
      values.push_back("...");
      return;
    }
    for (const T &x : splat ? data.first(1) : data) {
      if constexpr (std::is_same_v<T, uint8_t>)
        values.push_back(std::to_string(int(x)));
      else
        values.push_back(fmt::format("{}", x));
    }
  });
  return fmt::format("{}{{{}}}", t.summary(), fmt::join(values, ", "));
}

std::string value_text(const AttrValue &v, int64_t max_values) {
  if (auto *s = std::get_if<std::string>(&v)) return quoted(*s);
  if (auto *t = std::get_if<Tensor>(&v)) return tensor_text(*t, max_values);
  return to_string(v);
}

void print_graph(const Graph &g, const std::string &indent, int64_t max_values, std::string &out) {
  for (const Node &n : g.nodes()) {
    std::vector<std::string> inputs, attrs;
    for (NodeId in : n.inputs) inputs.push_back(name_text(g.node(in).name));
    for (const auto &[key, value] : n.attrs)
      if (kind_of(value) != AttrKind::graph)
        attrs.push_back(fmt::format("{}={}", key, value_text(value, max_values)));
    out += fmt::format("{}{} = {}({})", indent, name_text(n.name), n.op->name,
                       fmt::join(inputs, ", "));
    if (!attrs.empty()) out += fmt::format(" {{{}}}", fmt::join(attrs, ", "));
    out += " : " + to_string(n.type);
    for (const auto &[key, value] : n.attrs) {
      if (kind_of(value) != AttrKind::graph) continue;
      out += fmt::format(" {} {{\n", key);
      print_graph(*std::get<std::shared_ptr<const Graph>>(value), indent + "  ", max_values, out);
      out += indent + "}";
    }
    out += "\n";
  }
}

} // namespace

std::string to_listing(const Graph &g, int64_t max_values) {
  std::string out;
  print_graph(g, "", max_values, out);
  return out;
}

} // namespace kiln
