// The `kiln` subcommands. Each file adds one subcommand to the app, with its
// options and a callback that does the work; errors are kiln::Error, which
// main reports.
#pragma once

#include "session/compiled_graph.h"

#include <CLI/CLI.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace kiln::tools {

void add_dump_command(CLI::App &app);
void add_run_command(CLI::App &app);
void add_info_command(CLI::App &app);
void add_cache_command(CLI::App &app);
void add_compile_command(CLI::App &app);
void add_plot_command(CLI::App &app);
void add_import_command(CLI::App &app);
void add_export_command(CLI::App &app);

// An option given once per value (--fetch a --fetch b), shown as TYPE.
inline CLI::Option *add_repeatable(CLI::App *cmd, const std::string &flag,
                                   std::vector<std::string> &values, const std::string &help,
                                   const std::string &type = "NAME") {
  return cmd->add_option(flag, values, help)
      ->type_name(type)
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
}

// --allow-extra-variables, for kiln run and kiln compile.
inline CLI::Option *add_allow_extra_variables(CLI::App *cmd, bool &allow) {
  return cmd->add_flag("--allow-extra-variables", allow,
                       "Accept a checkpoint with variables the model lacks (a training "
                       "checkpoint's optimizer slots, for an inference graph)");
}

// The program that computes every output of `g` (its sinks) at `batch_size`,
// optimized as a Session would, with its memory plan (tools/info.cpp).
CompiledGraph compile_outputs(compiler::Compiler &compiler, const Graph &g, int64_t batch_size,
                              bool fusion);

} // namespace kiln::tools
