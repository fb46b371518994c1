// The expected-failure suite (tests/errors/, see its README): each case is a
// directory holding the `kiln` command line that must fail (`args`, one
// argument per line, run in that directory) and the exact message it must
// print (`expected`). One table-driven test runs them all; with
// KILN_UPDATE_ERRORS=1 it rewrites `expected` instead (review the diff).
#include "ir/serialize.h"

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <sys/wait.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <sstream>

namespace fs = std::filesystem;

namespace {

std::string shell_quoted(const std::string &s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::vector<std::string> lines_of(const std::string &text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

struct Outcome {
  int status = -1;
  std::string out, err;
};

// Every case runs under a cap on its address space, below what the lying
// headers claim (4 GiB and more): a reader that allocates what a header says
// before checking it against the bytes present fails the case. Sanitizers
// reserve terabytes of shadow memory, so their builds run without it.
// (gcc says so with __SANITIZE_*__, clang with __has_feature.)
#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define KILN_SANITIZED
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__) || defined(KILN_SANITIZED)
constexpr const char *kMemoryCap = "";
#else
constexpr const char *kMemoryCap = "ulimit -v 2097152 && "; // KiB: 2 GiB
#endif

Outcome run_case(const fs::path &dir, const fs::path &scratch) {
  std::string command = "cd " + shell_quoted(dir.string()) + " && " + kMemoryCap +
                        "KILN_CACHE=off " + shell_quoted(KILN_CLI);
  for (const std::string &arg : lines_of(kiln::read_file(dir / "args")))
    command += " " + shell_quoted(arg);
  command += fmt::format(" >{} 2>{}", shell_quoted((scratch / "out").string()),
                         shell_quoted((scratch / "err").string()));
  int raw = std::system(command.c_str());
  Outcome o;
  if (WIFEXITED(raw) && WEXITSTATUS(raw) < 128) o.status = WEXITSTATUS(raw);
  o.out = kiln::read_file(scratch / "out");
  o.err = kiln::read_file(scratch / "err");
  return o;
}

} // namespace

TEST_CASE("errors: every bad graph, feed, checkpoint and command gives its exact message",
          "[errors][cli]") {
  const fs::path root = fs::path(KILN_TEST_SOURCE_DIR) / "errors";
  const bool update = std::getenv("KILN_UPDATE_ERRORS") != nullptr;
  std::vector<fs::path> cases;
  for (const auto &e : fs::directory_iterator(root))
    if (fs::exists(e.path() / "args")) cases.push_back(e.path());
  std::sort(cases.begin(), cases.end());
  REQUIRE(cases.size() >= 30);
  // Scratch files outside the source tree, so cases see only their inputs.
  fs::path scratch = fs::temp_directory_path() / fmt::format("kiln-errors-{}", ::getpid());
  fs::create_directories(scratch);
  for (const fs::path &dir : cases) {
    DYNAMIC_SECTION(dir.filename().string()) {
      Outcome o = run_case(dir, scratch);
      if (update) kiln::write_file_atomically(dir / "expected", o.err, kiln::Durability::none);
      CHECK(o.status == 1);
      CHECK(o.out == "");
      CHECK(o.err == kiln::read_file(dir / "expected"));
    }
  }
  fs::remove_all(scratch);
}
