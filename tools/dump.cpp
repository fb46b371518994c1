// kiln dump: a model as readable text, protobuf text, Graphviz DOT or SVG.
#include "tools/commands.h"
#include "tools/graphviz.h"

#include "ir/dot.h"
#include "ir/error.h"
#include "ir/listing.h"
#include "ir/serialize.h"
#include "passes/pass.h"

#include <fmt/format.h>

#include <cstdio>
#include <functional>
#include <map>

namespace kiln::tools {

namespace {

using Printer = std::function<std::string(const Graph &)>;

// The formats by name: the one list that both the option check and the
// dispatch read.
const std::map<std::string, Printer> &printers() {
  static const std::map<std::string, Printer> kPrinters = {
      {"text", [](const Graph &g) { return to_listing(g); }},
      {"proto", [](const Graph &g) { return serialize(g, GraphFormat::text); }},
      {"dot", [](const Graph &g) { return to_dot(g); }},
      {"svg", [](const Graph &g) { return render_svg(to_dot(g)); }},
  };
  return kPrinters;
}

struct DumpOptions {
  std::string model;
  std::string format = "text";
  std::string output; // empty: stdout
  std::string after;  // a pass name: dump the graph the pipeline made up to it
  bool list_passes = false;
  bool no_fusion = false;
};

void list_passes() {
  for (const Pass &p : pipeline())
    fmt::print("{:<16} {}{}\n", p.name, p.summary, p.fusion ? " (off with --no-fusion)" : "");
}

Graph load(const DumpOptions &o) {
  Graph g = load_graph(o.model);
  if (o.after.empty()) return g;
  // A saved model records no fetches: its sinks are what it computes.
  std::vector<NodeId> roots = sink_nodes(g);
  return optimize({std::move(g), std::move(roots)}, {.fusion = !o.no_fusion}, o.after).graph;
}

void dump(const DumpOptions &o) {
  if (o.list_passes) return list_passes();
  if (o.model.empty()) fail("kiln dump: MODEL is required (or --passes)");
  if (o.format == "proto" && !o.output.empty()) {
    // A model file: binary or text as its name says (format_for), so that
    // `-o m.kiln` loads back as a model.
    save_graph(load(o), o.output);
    return;
  }
  std::string text = printers().at(o.format)(load(o));
  if (o.output.empty())
    std::fwrite(text.data(), 1, text.size(), stdout);
  else
    write_file_atomically(o.output, text);
}

} // namespace

void add_dump_command(CLI::App &app) {
  auto options = std::make_shared<DumpOptions>();
  CLI::App *cmd =
      app.add_subcommand("dump", "Print a model as text, protobuf text, Graphviz DOT or SVG");
  cmd->add_option("MODEL", options->model, "Model file (.kiln binary or .kiln.txt text)");
  std::vector<std::string> names;
  for (const auto &[name, printer] : printers()) names.push_back(name);
  cmd->add_option("-f,--format", options->format, "Output format")
      ->check(CLI::IsMember(names))
      ->capture_default_str();
  cmd->add_option("-o,--output", options->output, "Write to FILE instead of stdout")
      ->type_name("FILE");
  cmd->add_option("--after", options->after,
                  "Dump the graph as the optimizing pipeline leaves it after pass PASS")
      ->type_name("PASS");
  cmd->add_flag("--passes", options->list_passes, "List the passes in pipeline order and exit");
  cmd->add_flag("--no-fusion", options->no_fusion, "With --after: skip the fusion passes");
  cmd->footer("Formats:\n"
              "  text   one node per line: %name = op(%inputs) {attrs} : type\n"
              "  proto  protobuf text form; with -o, a model file in the form its name says\n"
              "         (.kiln binary, .kiln.txt text): converts between the two\n"
              "  dot    Graphviz DOT: name scopes as clusters, edges labeled with types\n"
              "  svg    the DOT rendered by Graphviz's 'dot' program (must be on PATH)\n"
              "Examples:\n"
              "  kiln dump mlp.kiln\n"
              "  kiln dump mlp.kiln --format proto -o mlp.kiln.txt\n"
              "  kiln dump mlp.kiln --format svg -o mlp.svg\n"
              "  kiln dump mlp.kiln --after=dce   (the model's sinks are the roots)\n"
              "  kiln dump --passes");
  cmd->callback([options] { dump(*options); });
}

} // namespace kiln::tools
