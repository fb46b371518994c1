// kiln cache info|clear: the disk cache of compiled kernels
// (compiler/code_cache.h): where it is, whether sessions use it, what it
// holds; and emptying it.
#include "tools/commands.h"

#include "compiler/code_cache.h"
#include "compiler/compile.h"

#include <fmt/format.h>

#include <optional>
#include <string>

namespace kiln::tools {

namespace {

namespace fs = std::filesystem;
using compiler::CodeCache;

// The directory sessions use when the cache is on: `info` shows where the
// cache would be, and `clear` empties it, even while KILN_CACHE=off.
std::optional<fs::path> cache_directory() { return CodeCache::directory_from_environment(); }

constexpr std::string_view kNoDirectory = "none (neither XDG_CACHE_HOME nor HOME is set)";

void info() {
  std::optional<fs::path> dir = cache_directory();
  bool off = CodeCache::disabled_by_environment();
  fmt::print("directory: {}\n", dir ? dir->string() : std::string(kNoDirectory));
  fmt::print("state: {}\n", off ? "off (KILN_CACHE=off)" : dir ? "on" : "off (no directory)");
  if (!dir) return;
  CodeCache::Summary s = CodeCache(*dir).summary();
  fmt::print("entries: {}\n", s.entries);
  std::string size = human_bytes(s.bytes);
  if (s.bytes >= 1024) size += fmt::format(" ({} bytes)", s.bytes);
  fmt::print("size: {}\n", size);
  fmt::print("limit: {} (sessions drop the least recently used entries past it)\n",
             human_bytes(compiler::CompileOptions{}.cache_max_bytes));
}

void clear() {
  std::optional<fs::path> dir = cache_directory();
  if (!dir) {
    fmt::print("no cache directory: {}\n", kNoDirectory);
    return;
  }
  size_t removed = CodeCache(*dir).clear();
  fmt::print("removed {} entr{} from {}\n", removed, removed == 1 ? "y" : "ies", dir->string());
}

} // namespace

void add_cache_command(CLI::App &app) {
  CLI::App *cmd = app.add_subcommand("cache", "Show or clear the disk cache of compiled kernels");
  cmd->require_subcommand(1);
  cmd->add_subcommand("info", "Print the cache directory, whether it is on, its entries and size")
      ->callback(info);
  cmd->add_subcommand("clear", "Remove every entry of the cache")->callback(clear);
  cmd->footer("Sessions keep each compiled unit of code in $XDG_CACHE_HOME/kiln (else\n"
              "~/.cache/kiln), shared by every process: a model compiles once per machine.\n"
              "KILN_CACHE=off turns the cache off; 'clear' empties it even then.\n"
              "Examples:\n"
              "  kiln cache info\n"
              "  kiln cache clear");
}

} // namespace kiln::tools
