// The `kiln` subcommands. Each file adds one subcommand to the app, with its
// options and a callback that does the work; errors are kiln::Error, which
// main reports.
#pragma once

#include <CLI/CLI.hpp>

#include <cstdint>
#include <string>

namespace kiln::tools {

void add_dump_command(CLI::App &app);
void add_run_command(CLI::App &app);
void add_info_command(CLI::App &app);
void add_cache_command(CLI::App &app);
void add_compile_command(CLI::App &app);

} // namespace kiln::tools
