// kiln compile: a model's inference program and training step compiled ahead
// of time into NAME.o, libNAME.a, NAME.h and NAME.weights, with a memory
// report written to NAME.memory.txt and printed (unless --quiet).
#include "tools/commands.h"

#include "ir/error.h"
#include "ir/serialize.h"
#include "session/ahead_of_time.h"

#include <fmt/format.h>

#include <filesystem>

namespace kiln::tools {

namespace {

namespace fs = std::filesystem;

struct CompileCommand {
  std::string model, output;
  std::vector<std::string> fetches, targets, train_fetches;
  int64_t batch = 1;
  std::string checkpoint;
  bool allow_extra = false;
  bool embed_weights = false;
  std::string cpu = "host";
  bool no_fusion = false;
  bool data_parallel = false;
  bool quiet = false;
};

std::string memory_report(const AheadOfTimeModel &m, int64_t batch) {
  const AheadOfTimeMemory &mem = m.memory;
  std::string r = fmt::format("{}: batch {}, CPU {}; {} kernels, {} units, {} distinct\n",
                              m.model.name, batch, m.cpu, m.kernels, m.units, m.distinct_units);
  r += fmt::format("  constants            {:>10}\n", human_bytes(mem.constant_bytes));
  r += fmt::format("  trainable variables  {:>10}  ({} tensors)\n",
                   human_bytes(mem.trainable_bytes), mem.trainable_count);
  r += fmt::format("  other variables      {:>10}  ({} tensors: optimizer slots, counters, "
                   "statistics)\n",
                   human_bytes(mem.other_variable_bytes), mem.other_variable_count);
  for (const AheadOfTimeMemory::Entry &e : mem.entries)
    r += fmt::format("  {:<20} {:>10}  arena, {} in buffers of their own, {} kernels\n", e.name,
                     human_bytes(e.arena_bytes), human_bytes(e.own_bytes), e.kernels);
  r += fmt::format("  one instance         {:>10}  (variables, the largest arena, own buffers)\n",
                   human_bytes(mem.instance_bytes));
  return r;
}

void compile(const CompileCommand &c) {
  auto start = std::chrono::steady_clock::now();
  Graph g = load_graph(c.model);
  AheadOfTimeOptions o{
      .name = fs::path(c.output).filename().string(),
      .fetches = {c.fetches.begin(), c.fetches.end()},
      .targets = {c.targets.begin(), c.targets.end()},
      .train_fetches = {c.train_fetches.begin(), c.train_fetches.end()},
      .batch_size = c.batch,
      .checkpoint = c.checkpoint.empty() ? std::nullopt : std::optional<fs::path>(c.checkpoint),
      .checkpoint_options = {.allow_extra = c.allow_extra},
      .embed_weights = c.embed_weights,
      .target_cpu = c.cpu,
      .passes = {.fusion = !c.no_fusion, .data_parallel = {.on = c.data_parallel}}};
  AheadOfTimeModel m = compile_ahead_of_time(g, o);
  fs::path dir = fs::path(c.output).parent_path();
  if (!dir.empty()) {
    std::error_code error;
    fs::create_directories(dir, error);
    if (error) fail("cannot create the output directory '{}': {}", dir.string(), error.message());
  }
  std::vector<fs::path> written = write_ahead_of_time(m, c.output);
  std::string report = memory_report(m, c.batch);
  fs::path report_path = c.output + ".memory.txt";
  write_file_atomically(report_path, report);
  written.push_back(report_path);
  // A warning, so on stderr and printed even when quiet (builds show it).
  if (c.checkpoint.empty())
    fmt::print(stderr, "note: no --checkpoint: the weights are the variables' initializers\n");
  if (c.quiet) return;
  fmt::print("{}", report);
  for (const fs::path &p : written) fmt::print("  -> {}\n", p.string());
  fmt::print(
      "compiled in {:.0f} ms\n",
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
}

} // namespace

void add_compile_command(CLI::App &app) {
  auto c = std::make_shared<CompileCommand>();
  CLI::App *cmd = app.add_subcommand(
      "compile", "Compile a model ahead of time: an object file and a header for host programs");
  cmd->add_option("MODEL", c->model, "Model file (.kiln binary or .kiln.txt text)")->required();
  cmd->add_option("-o,--output", c->output,
                  "Write DIR/NAME.o, DIR/libNAME.a, DIR/NAME.h, DIR/NAME.weights and "
                  "DIR/NAME.memory.txt; NAME, a C identifier, names the API (NAME_create...)")
      ->type_name("DIR/NAME")
      ->required();
  add_repeatable(cmd, "--fetch", c->fetches, "An output of the predict entry point (repeatable)");
  add_repeatable(cmd, "--target", c->targets,
                 "A training target (an optimizer's update): adds a train_step entry point "
                 "(repeatable)");
  add_repeatable(cmd, "--train-fetch", c->train_fetches,
                 "An output of train_step, such as the loss (repeatable)");
  cmd->add_option("--batch", c->batch, "The batch size to compile for (the symbolic batch)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--checkpoint", c->checkpoint,
                  "Start from these weights (else the variables' initializers)")
      ->type_name("FILE");
  add_allow_extra_variables(cmd, c->allow_extra);
  cmd->add_flag("--embed-weights", c->embed_weights,
                "Put the weights in the object instead of NAME.weights");
  cmd->add_option("--target-cpu", c->cpu,
                  "The CPU to compile for: host, or an LLVM name (x86-64-v3, znver4, "
                  "skylake-avx512); the kernel library is the one kiln was built with")
      ->capture_default_str();
  cmd->add_flag("--no-fusion", c->no_fusion, "Skip the fusion passes");
  cmd->add_flag("--data-parallel", c->data_parallel,
                "Train steps average their gradients over the ranks of the communicator the "
                "host program gives (NAME_set_collectives)");
  cmd->add_flag("-q,--quiet", c->quiet,
                "Print only errors and the note on missing weights (builds use it); the report "
                "is still in NAME.memory.txt");
  cmd->footer("Examples:\n"
              "  kiln compile mlp.kiln -o out/mlp --fetch predicted --batch 1 \\\n"
              "      --checkpoint mlp.ckpt --allow-extra-variables\n"
              "  kiln compile mlp.kiln -o out/mlp_train --fetch predicted --target train \\\n"
              "      --train-fetch loss --batch 64\n"
              "Then link out/mlp.o and kiln::runtime, and include out/mlp.h.");
  cmd->callback([c] { compile(*c); });
}

} // namespace kiln::tools
