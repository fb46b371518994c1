// kiln info: what a model contains, at a glance: its ops, its inputs, its
// parameters and its outputs; with --memory, what its compiled program
// needs for intermediate buffers.
#include "tools/commands.h"

#include "ir/serialize.h"
#include "ops/builder.h"
#include "passes/pass.h"
#include "session/compiled_graph.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

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

// Trainable variables are the parameters; the rest (optimizer slots, the
// step count, running statistics) is state saved with them.
std::string variable_totals(const Graph &g) {
  int64_t count[2] = {0, 0}, bytes[2] = {0, 0};
  for (const Node &n : g.nodes()) {
    if (n.op->source != Source::variable) continue;
    int trainable = is_trainable(n) ? 1 : 0;
    count[trainable] += num_elements(n.type.shape);
    bytes[trainable] += num_elements(n.type.shape) * int64_t(byte_size(n.type.dtype));
  }
  std::string text = fmt::format("{} parameters ({})", count[1], human_bytes(bytes[1]));
  if (count[0] > 0)
    text += fmt::format(", plus {} values of state ({})", count[0], human_bytes(bytes[0]));
  return text;
}

// What a user can fetch for a result: the nodes that no other node consumes.
Rows outputs(const Graph &g) {
  Rows rows;
  for (NodeId id : sink_nodes(g)) rows.emplace_back(g.node(id).name, to_string(g.node(id).type));
  return rows;
}

// The placeholders that `roots` depend on: what a run fetching them must feed.
std::vector<NodeId> feeds_needed(const Graph &g, const std::vector<NodeId> &roots) {
  std::vector<bool> needed(g.size(), false);
  for (NodeId r : roots) needed[size_t(r)] = true;
  std::vector<NodeId> feeds;
  for (size_t i = g.size(); i-- > 0;) {
    if (!needed[i]) continue;
    const Node &n = g.node(NodeId(i));
    for (NodeId in : n.inputs) needed[size_t(in)] = true;
    if (n.op->source == Source::placeholder) feeds.insert(feeds.begin(), n.id);
  }
  return feeds;
}

std::string names(const Graph &g, const std::vector<NodeId> &ids) {
  std::string text;
  for (NodeId id : ids) text += (text.empty() ? "" : ", ") + g.node(id).name;
  return text.empty() ? "(nothing)" : text;
}

// Per output, the feeds it needs.
Rows output_feeds(const Graph &g) {
  Rows rows;
  for (NodeId id : sink_nodes(g))
    rows.emplace_back(g.node(id).name, names(g, feeds_needed(g, {id})));
  return rows;
}

// The feeds a run of `fetches` needs, with their types.
Rows fetch_feeds(const Graph &g, const std::vector<std::string> &fetches) {
  std::vector<NodeId> roots;
  for (const std::string &f : fetches) roots.push_back(g.at(f));
  Rows rows;
  for (NodeId id : feeds_needed(g, roots))
    rows.emplace_back(g.node(id).name, to_string(g.node(id).type));
  return rows;
}

struct InfoOptions {
  std::string model;
  std::vector<std::string> fetches;
  bool memory = false;
  int64_t batch = 64;
  bool no_fusion = false;
};

// The program that computes every output at the batch size, and its memory plan.
Rows memory(const Graph &g, const InfoOptions &o) {
  compiler::Compiler compiler;
  CompiledGraph c = compile_outputs(compiler, g, o.batch, !o.no_fusion);
  const compiler::MemoryPlan &plan = *c.memory;
  auto ratio = [](size_t a, size_t b) { return b ? fmt::format("{:.2f}", double(a) / b) : "-"; };
  return {
      {"kernels", std::to_string(c.program.kernels.size())},
      {"arena", human_bytes(plan.arena_bytes)},
      {"intermediate buffers", human_bytes(plan.total_bytes) + " (summed)"},
      {"largest live set", human_bytes(plan.peak_live_bytes) + " (at one kernel)"},
      {"arena / buffers", ratio(plan.arena_bytes, plan.total_bytes)},
      {"arena / largest live set", ratio(plan.arena_bytes, plan.peak_live_bytes)},
  };
}

void info(const InfoOptions &o) {
  Graph g = load_graph(o.model);
  fmt::print("{}: {} nodes\n", o.model, g.size());
  print_section("ops", op_counts(g));
  print_section("placeholders", nodes_of(g, Source::placeholder));
  print_section("variables", nodes_of(g, Source::variable));
  fmt::print("  total: {}\n", variable_totals(g));
  print_section("outputs (consumed by no node)", outputs(g));
  print_section("feeds each output needs", output_feeds(g));
  if (!o.fetches.empty())
    print_section(fmt::format("feeds to fetch {}", fmt::join(o.fetches, ", ")),
                  fetch_feeds(g, o.fetches));
  if (o.memory)
    print_section(fmt::format("memory (batch {}{})", o.batch, o.no_fusion ? ", no fusion" : ""),
                  memory(g, o));
}

} // namespace

CompiledGraph compile_outputs(compiler::Compiler &compiler, const Graph &g, int64_t batch_size,
                              bool fusion) {
  return compile_graph(compiler, optimize({g, sink_nodes(g)}, {.fusion = fusion}), batch_size,
                       true);
}

// Parameter memory at a glance.
void add_info_command(CLI::App &app) {
  auto options = std::make_shared<InfoOptions>();
  CLI::App *cmd = app.add_subcommand(
      "info", "Summarize a model: ops, placeholders, variables, parameter count, outputs");
  cmd->add_option("MODEL", options->model, "Model file (.kiln binary or .kiln.txt text)")
      ->required();
  cmd->add_option("--fetch", options->fetches,
                  "List the placeholders that fetching NAME needs fed (repeatable)")
      ->type_name("NAME")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  cmd->add_flag("--memory", options->memory,
                "Compile the outputs and report the memory plan of their intermediate buffers");
  cmd->add_option("--batch", options->batch, "With --memory: the batch size to compile for")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_flag("--no-fusion", options->no_fusion, "With --memory: skip the fusion passes");
  cmd->footer("Outputs are the nodes that nothing consumes: the usual fetches for 'kiln run'.\n"
              "The memory report compiles them as 'kiln run' would: the arena holds every\n"
              "intermediate buffer, the sum is what one allocation per buffer would take, and\n"
              "the largest live set (the most bytes live during one kernel) is what any\n"
              "placement needs.\n"
              "Examples:\n"
              "  kiln info mlp.kiln\n"
              "  kiln info mlp.kiln --fetch loss --fetch predicted\n"
              "  kiln info mlp.kiln --memory --batch 128");
  cmd->callback([options] { info(*options); });
}

} // namespace kiln::tools
