// kiln export: a kiln inference graph as an ONNX model (onnx/export.h).
#include "tools/commands.h"

#include "ir/serialize.h"
#include "onnx/export.h"
#include "passes/pass.h"
#include "session/checkpoint.h"
#include "session/session.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace kiln::tools {

namespace {

struct ExportOptions {
  std::string model;
  std::string output;
  std::string checkpoint;
  std::vector<std::string> fetches;
};

void export_model(const ExportOptions &o) {
  Graph g = load_graph(o.model);
  std::vector<NodeId> fetches;
  for (const std::string &f : o.fetches) fetches.push_back(g.at(f));
  if (fetches.empty()) fetches = sink_nodes(g);
  // The variables' values: from the checkpoint, else their initializers (a session's).
  Session session(g, {.threads = 1});
  if (!o.checkpoint.empty()) restore_checkpoint(session, o.checkpoint);
  std::string model =
      export_onnx(g, fetches, [&](NodeId id) { return session.variable(g.node(id).name); });
  write_file_atomically(o.output, model);
  std::vector<std::string> names;
  for (NodeId id : fetches) names.push_back(g.node(id).name);
  fmt::print("{} -> {}: outputs {} (ONNX opset {})\n", o.model, o.output, fmt::join(names, ", "),
             kOnnxExportOpset);
}

} // namespace

void add_export_command(CLI::App &app) {
  auto options = std::make_shared<ExportOptions>();
  CLI::App *cmd = app.add_subcommand("export", "Write an inference graph as an ONNX model");
  cmd->add_option("MODEL", options->model, "Model file (.kiln binary or .kiln.txt text)")
      ->required();
  cmd->add_option("-o,--output", options->output, "The ONNX model to write")
      ->type_name("FILE.onnx")
      ->required();
  cmd->add_option("--checkpoint", options->checkpoint,
                  "The variables' values (saved by save_checkpoint); default: their initializers")
      ->type_name("FILE");
  cmd->add_option("--fetch", options->fetches,
                  "An output of the ONNX model (repeatable); default: every node nothing consumes")
      ->type_name("NAME")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  cmd->footer("Only the nodes the outputs need are written; any without an ONNX form (training\n"
              "ops, gradients, random numbers) are listed at once. The batch dim becomes the\n"
              "dim_param \"batch\".\n"
              "Example:\n"
              "  kiln export mlp.kiln --checkpoint mlp.ckpt --fetch predicted -o mlp.onnx");
  cmd->callback([options] { export_model(*options); });
}

} // namespace kiln::tools
