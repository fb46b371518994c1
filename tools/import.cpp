// kiln import: an ONNX model as a kiln model file (onnx/import.h).
#include "tools/commands.h"

#include "ir/serialize.h"
#include "onnx/import.h"
#include "passes/pass.h"
#include "runtime/checkpoint_file.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace kiln::tools {

namespace {

struct ImportOptions {
  std::string model;
  std::string output;
  std::string trainable; // the checkpoint of the variables; empty: constants
  int64_t batch = 0;     // 0: the symbolic batch
};

void import_model(const ImportOptions &o) {
  OnnxModel m = import_onnx(std::filesystem::path(o.model),
                            OnnxImportOptions{.trainable = !o.trainable.empty(), .batch = o.batch});
  const Graph &g = m.graph;
  for (const std::string &note : m.notes) fmt::print(stderr, "kiln: note: {}\n", note);
  save_graph(g, o.output);
  if (!o.trainable.empty()) {
    write_checkpoint(
        g, [&](NodeId id) { return m.variables.at(id); }, o.trainable);
    fmt::print("{} variables -> {}\n", m.variables.size(), o.trainable);
  }
  std::vector<std::string> inputs, outputs;
  for (const Node &n : g.nodes())
    if (n.op->source == Source::placeholder)
      inputs.push_back(fmt::format("{} {}", n.name, to_string(n.type)));
  for (NodeId id : sink_nodes(g))
    outputs.push_back(fmt::format("{} {}", g.node(id).name, to_string(g.node(id).type)));
  fmt::print("{} -> {}: {} nodes; feeds {}; outputs {}\n", o.model, o.output, g.size(),
             fmt::join(inputs, ", "), fmt::join(outputs, ", "));
}

} // namespace

void add_import_command(CLI::App &app) {
  auto options = std::make_shared<ImportOptions>();
  CLI::App *cmd = app.add_subcommand("import", "Convert an ONNX model into a kiln model");
  cmd->add_option("MODEL", options->model, "ONNX model (.onnx, opsets 7-17)")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("-o,--output", options->output, "The kiln model to write (.kiln or .kiln.txt)")
      ->type_name("FILE")
      ->required();
  cmd->add_option("--trainable", options->trainable,
                  "Make the float initializers trainable variables and write their values to "
                  "CKPT (kiln run --checkpoint CKPT, restore_checkpoint)")
      ->type_name("CKPT");
  cmd->add_option("--batch", options->batch,
                  "Give the inputs' dynamic first dim this size instead of kiln's symbolic batch "
                  "(for models whose shapes compute with the batch size, as attention's do)")
      ->check(CLI::PositiveNumber);
  cmd->footer(
      "The whole model is checked first: every unsupported op, attribute, dtype and\n"
      "dynamic dimension is listed at once. A dim_param in an input's first dim becomes\n"
      "kiln's batch (with --batch N, the size N); initializers become constants. The\n"
      "model's inputs and outputs keep their ONNX names; other values lose a leading\n"
      "'/' and turn ':' into '_' (a name that would then collide gets a suffix, noted\n"
      "on stderr).\n"
      "Example:\n"
      "  kiln import mlp.onnx -o mlp.kiln && kiln run mlp.kiln --feed x=x.npy --fetch logits");
  cmd->callback([options] { import_model(*options); });
}

} // namespace kiln::tools
