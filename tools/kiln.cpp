// kiln: inspect and run kiln graphs from the shell.
#include "tools/commands.h"

#include <fmt/format.h>

#include <exception>

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
  app.set_version_flag("--version", "kiln 0.1");
  app.require_subcommand(1);
  kiln::tools::add_dump_command(app);
  kiln::tools::add_run_command(app);
  kiln::tools::add_info_command(app);
  kiln::tools::add_cache_command(app);
  kiln::tools::add_compile_command(app);
  kiln::tools::add_plot_command(app);
  kiln::tools::add_import_command(app);
  kiln::tools::add_export_command(app);

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
