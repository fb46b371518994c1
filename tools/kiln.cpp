// kiln: inspect and run kiln graphs from the shell.
#include "tools/commands.h"

#include "ir/suggest.h"
#include "kernels/kernel_variants.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <exception>
#include <string>
#include <vector>

namespace {

// CLI11 would say only "The following arguments were not expected": name
// the command, suggest the closest and list them.
bool reject_unknown_command(CLI::App &app, int argc, char **argv) {
  if (argc < 2 || argv[1][0] == '-') return false;
  std::vector<std::string> commands;
  for (CLI::App *sub : app.get_subcommands([](CLI::App *) { return true; }))
    commands.push_back(sub->get_name());
  for (const std::string &c : commands)
    if (c == argv[1]) return false;
  fmt::print(stderr, "kiln: error: {}\nRun 'kiln --help' for more information.\n",
             kiln::unknown_name("command", argv[1], commands, "commands", commands));
  return true;
}

// "kiln 0.1 (kernels: avx2 of baseline, avx2, avx512)": which variant of the
// native kernels this process runs (kernels/kernel_variants.h).
std::string version() {
  std::vector<std::string_view> built;
  for (const kiln::kernels::BuiltVariant &v : kiln::kernels::built_kernel_variants())
    built.push_back(v.name);
  return fmt::format("kiln 0.1 (kernels: {} of {})", kiln::kernels::kernel_variant().name,
                     fmt::join(built, ", "));
}

} // namespace

int main(int argc, char **argv) {
  CLI::App app{"kiln: a static computation-graph compiler for deep learning on CPUs.\n"
               "Models are GraphDefs saved by the C++ builder: binary (.kiln) or text "
               "(.kiln.txt).",
               "kiln"};
  app.footer("Examples:\n"
             "  kiln info mlp.kiln\n"
             "  kiln dump mlp.kiln --format svg -o mlp.svg\n"
             "  kiln run mlp.kiln --feed x=x.npy --fetch dense_1/add --out results\n"
             "  kiln run mlp.kiln --feed x=x.npy --fetch dense_1/add --repeat 100 --profile\n"
             "  kiln compile mlp.kiln -o out/mlp --fetch dense_1/add --batch 1\n"
             "  kiln dump mlp.kiln --format html -o mlp.html\n"
             "  kiln plot run1.jsonl run2.jsonl -o runs.html\n"
             "  kiln import model.onnx -o model.kiln\n"
             "  kiln export mlp.kiln --checkpoint mlp.ckpt --fetch predicted -o mlp.onnx\n"
             "  kiln cache info\n"
             "Run 'kiln COMMAND --help' for a command's options.");
  app.set_version_flag("--version", version());
  app.require_subcommand(1);
  kiln::tools::add_dump_command(app);
  kiln::tools::add_run_command(app);
  kiln::tools::add_info_command(app);
  kiln::tools::add_cache_command(app);
  kiln::tools::add_compile_command(app);
  kiln::tools::add_plot_command(app);
  kiln::tools::add_import_command(app);
  kiln::tools::add_export_command(app);

  if (reject_unknown_command(app, argc, argv)) return 1;
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError &e) {
    return app.exit(e);
  } catch (const std::exception &e) {
    // Bad models, feeds and files all end here as kiln::Error, naming what is wrong.
    fmt::print(stderr, "kiln: error: {}\n", e.what());
    return 1;
  }
  return 0;
}
