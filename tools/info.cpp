// kiln info: what a model contains, at a glance: its ops, its inputs, its
// parameters and its outputs.
#include "tools/commands.h"

#include "ir/serialize.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <map>

namespace kiln::tools {

namespace {

using Rows = std::vector<std::pair<std::string, std::string>>;

// One section: a title and two aligned columns.
void print_section(const std::string &title, const Rows &rows) {
  fmt::print("{}:\n", title);
  size_t width = 0;
  for (const auto &[left, right] : rows) width = std::max(width, left.size());
  for (const auto &[left, right] : rows) fmt::print("  {:<{}}  {}\n", left, width, right);
  if (rows.empty()) fmt::print("  (none)\n");
}

// Most frequent first; ties by name, so the output is stable.
Rows op_counts(const Graph &g) {
  std::map<std::string, int> counts;
  for (const Node &n : g.nodes()) ++counts[n.op->name];
  std::vector<std::pair<std::string, int>> sorted(counts.begin(), counts.end());
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const auto &a, const auto &b) { return a.second > b.second; });
  Rows rows;
  for (const auto &[op, count] : sorted) rows.emplace_back(op, std::to_string(count));
  return rows;
}

Rows nodes_of(const Graph &g, Source source) {
  Rows rows;
  for (const Node &n : g.nodes()) {
    if (n.op->source != source) continue;
    std::string type = to_string(n.type);
    if (source == Source::variable) type += "  " + n.attr_string("initializer");
    rows.emplace_back(n.name, type);
  }
  return rows;
}

// 1628160 -> "1.6 MiB": parameter memory at a glance.
std::string human_bytes(int64_t bytes) {
  constexpr std::array<std::string_view, 4> kUnits = {"bytes", "KiB", "MiB", "GiB"};
  double value = double(bytes);
  size_t unit = 0;
  for (; value >= 1024 && unit + 1 < kUnits.size(); ++unit) value /= 1024;
  if (unit == 0) return fmt::format("{} bytes", bytes);
  return fmt::format("{:.1f} {}", value, kUnits[unit]);
}

std::string parameter_total(const Graph &g) {
  int64_t count = 0, bytes = 0;
  for (const Node &n : g.nodes()) {
    if (n.op->source != Source::variable) continue;
    count += num_elements(n.type.shape);
    bytes += num_elements(n.type.shape) * int64_t(byte_size(n.type.dtype));
  }
  return fmt::format("{} parameters ({})", count, human_bytes(bytes));
}

// What a user can fetch for a result: the nodes that no other node consumes.
Rows outputs(const Graph &g) {
  std::vector<bool> consumed(g.size(), false);
  for (const Node &n : g.nodes())
    for (NodeId in : n.inputs) consumed[size_t(in)] = true;
  Rows rows;
  for (const Node &n : g.nodes())
    if (!consumed[size_t(n.id)]) rows.emplace_back(n.name, to_string(n.type));
  return rows;
}

void info(const std::string &model) {
  Graph g = load_graph(model);
  fmt::print("{}: {} nodes\n", model, g.size());
  print_section("ops", op_counts(g));
  print_section("placeholders", nodes_of(g, Source::placeholder));
  print_section("variables", nodes_of(g, Source::variable));
  fmt::print("  total: {}\n", parameter_total(g));
  print_section("outputs (consumed by no node)", outputs(g));
}

} // namespace

void add_info_command(CLI::App &app) {
  auto model = std::make_shared<std::string>();
  CLI::App *cmd = app.add_subcommand(
      "info", "Summarize a model: ops, placeholders, variables, parameter count, outputs");
  cmd->add_option("MODEL", *model, "Model file (.kiln binary or .kiln.txt text)")->required();
  cmd->footer("Outputs are the nodes that nothing consumes: the usual fetches for 'kiln run'.\n"
              "Example:\n"
              "  kiln info mlp.kiln");
  cmd->callback([model] { info(*model); });
}

} // namespace kiln::tools
