// kiln dump: a model as readable text, protobuf text, Graphviz DOT or SVG, or
// an interactive HTML page (tools/html_view.h); with the pipeline's debugging
// flags, each pass verified, printed or timed as it runs (tools/pass_report.h).
#include "tools/commands.h"
#include "tools/graphviz.h"
#include "tools/html_view.h"
#include "tools/pass_report.h"

#include "ir/dot.h"
#include "ir/error.h"
#include "ir/listing.h"
#include "ir/serialize.h"
#include "passes/pass.h"

#include <fmt/format.h>

#include <cstdio>
#include <filesystem>
#include <functional>
#include <limits>
#include <map>

namespace kiln::tools {

namespace {

struct DumpOptions {
  std::string model;
  std::string format = "text";
  std::string output; // empty: stdout
  std::string after;  // a pass name: dump the graph the pipeline made up to it
  bool list_passes = false;
  bool no_fusion = false;
  bool data_parallel = false;
  // Run the pipeline (to --after, or to its end) and report each pass on stderr.
  bool verify_each = false;
  bool print_after_all = false;
  bool time_passes = false;
  bool all_values = false; // text: print every tensor in full
  // html only: overlays
  bool memory = false;
  int64_t batch = 64;
  std::string profile; // a Chrome trace
};

std::string html(const Graph &g, const DumpOptions &o);

// How many values of a tensor the text shows, unless --all-values: a model
// imported with its weights as constants would print millions of numbers.
int64_t shown_values(const DumpOptions &o) {
  return o.all_values ? std::numeric_limits<int64_t>::max() : 64;
}

using Printer = std::function<std::string(const Graph &, const DumpOptions &)>;

// The formats by name: the one list that both the option check and the
// dispatch read.
const std::map<std::string, Printer> &printers() {
  static const std::map<std::string, Printer> kPrinters = {
      {"text", [](const Graph &g, const DumpOptions &o) { return to_listing(g, shown_values(o)); }},
      {"proto",
       [](const Graph &g, const DumpOptions &) { return serialize(g, GraphFormat::text); }},
      {"dot", [](const Graph &g, const DumpOptions &) { return to_dot(g); }},
      {"svg", [](const Graph &g, const DumpOptions &) { return render_svg(to_dot(g)); }},
      {"html", html},
  };
  return kPrinters;
}

void list_passes() {
  for (const Pass &p : pipeline())
    fmt::print("{:<16} {}{}\n", p.name, p.summary, p.fusion ? " (off with --no-fusion)" : "");
}

bool runs_pipeline(const DumpOptions &o) {
  return !o.after.empty() || o.verify_each || o.print_after_all || o.time_passes;
}

Graph load(const DumpOptions &o) {
  Graph g = load_graph(o.model);
  if (!runs_pipeline(o)) return g;
  PassTimes times;
  PipelineOptions options{.fusion = !o.no_fusion,
                          .data_parallel = {.on = o.data_parallel},
                          .verify_each = o.verify_each};
  options.after_pass = [&](const Pass &p, const RootedGraph &before, const RootedGraph &after,
                           double seconds) {
    if (o.print_after_all)
      fmt::print(stderr, "{}", after_pass_text(p, before, after, shown_values(o)));
    times.record(p, before, after, seconds);
  };
  // A saved model records no fetches: its sinks are what it computes.
  std::vector<NodeId> roots = sink_nodes(g);
  Graph out = optimize({std::move(g), std::move(roots)}, options, o.after).graph;
  if (o.time_passes) fmt::print(stderr, "{}", times.table());
  return out;
}

// With --memory, the page shows the compiled program's graph (optimized, with
// every output as a root), whose buffers the plan places.
std::string html(const Graph &g, const DumpOptions &o) {
  PageOverlays overlays;
  if (!o.profile.empty()) overlays.profile = profile_json(o.profile);
  std::string title = std::filesystem::path(o.model).filename().string();
  if (!o.after.empty()) title += " after " + o.after;
  if (!o.memory) return graph_page(g, title, overlays);
  compiler::Compiler compiler;
  CompiledGraph c = compile_outputs(compiler, g, o.batch, !o.no_fusion);
  overlays.memory = memory_json(c, o.batch);
  return graph_page(c.graph.graph, title + " (compiled)", overlays);
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
  if (o.format != "html" && (o.memory || !o.profile.empty()))
    fail("kiln dump: --memory and --profile are overlays of --format html");
  std::string text = printers().at(o.format)(load(o), o);
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
  cmd->add_flag("--no-fusion", options->no_fusion,
                "When the pipeline runs (--after and the flags below) or with --memory: skip the "
                "fusion passes");
  cmd->add_flag("--data-parallel", options->data_parallel,
                "Run the passes as for a job of several ranks: the gradients' means in buckets");
  cmd->add_flag("--verify-each", options->verify_each,
                "Run the pipeline (to --after PASS, or to its end) and check the graph after "
                "every pass; an invalid graph fails naming the pass");
  cmd->add_flag("--print-after-all", options->print_after_all,
                "Run the pipeline and print the graph after every pass (or 'unchanged') on "
                "stderr");
  cmd->add_flag("--all-values", options->all_values,
                "Text: print every value of every tensor (by default a tensor of more than 64 "
                "values, not all equal, prints as {...}, which does not read back)");
  cmd->add_flag("--time-passes", options->time_passes,
                "Run the pipeline and print each pass's time and node counts on stderr");
  cmd->add_flag("--memory", options->memory,
                "With --format html: compile the outputs and overlay the memory plan (the page "
                "then shows the compiled graph)");
  cmd->add_option("--batch", options->batch, "With --memory: the batch size to compile for")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--profile", options->profile,
                  "With --format html: overlay the kernel times of a Chrome trace written by "
                  "'kiln run --profile FILE' or a training example's --profile FILE")
      ->type_name("TRACE.json");
  cmd->footer("Formats:\n"
              "  text   one node per line: %name = op(%inputs) {attrs} : type, fused bodies\n"
              "         as indented blocks; with --all-values it reads back exactly\n"
              "         (ir/listing_parser.h)\n"
              "  proto  protobuf text form; with -o, a model file in the form its name says\n"
              "         (.kiln binary, .kiln.txt text): converts between the two\n"
              "  dot    Graphviz DOT: name scopes as clusters, edges labeled with types\n"
              "  svg    the DOT rendered by Graphviz's 'dot' program (must be on PATH)\n"
              "  html   one self-contained interactive page: name scopes open on click, search,\n"
              "         forward/gradient/update colours, fused kernels open to their members,\n"
              "         a detail panel, SVG export; overlays with --memory and --profile\n"
              "Examples:\n"
              "  kiln dump mlp.kiln\n"
              "  kiln dump mlp.kiln --format proto -o mlp.kiln.txt\n"
              "  kiln dump mlp.kiln --format svg -o mlp.svg\n"
              "  kiln dump mlp.kiln --format html --memory --profile trace.json -o mlp.html\n"
              "  kiln dump mlp.kiln --after=dce   (the model's sinks are the roots)\n"
              "  kiln dump mlp.kiln --verify-each --print-after-all --time-passes\n"
              "  kiln dump --passes");
  cmd->callback([options] { dump(*options); });
}

} // namespace kiln::tools
