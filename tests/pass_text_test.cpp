// Pass tests as text, in the manner of LLVM's lit tests. tests/passes/NAME.txt
// holds the cases of the pipeline's pass NAME (passes/pipeline.cpp): each a
// graph in the listing form (ir/listing.h) and the listing that the pass
// alone makes of it:
//
//   === a product of constants becomes a constant
//   --- roots: %y, %u          (optional; the graph's sinks by default)
//   --- data-parallel: 64      (optional: PipelineOptions::data_parallel on,
//                               buckets of at most 64 bytes)
//   --- tolerance: 1e-6        (optional: the values may differ by this much,
//                               relative, for a pass that reassociates sums)
//   %x = placeholder() {dtype=f32, shape=[-1, 3]}
//   ...
//   --- expected               (or "--- unchanged": the pass leaves it as it is)
//   %x = placeholder() {dtype=f32, shape=[-1, 3]} : f32[?, 3]
//   ...
//
// Text before the first case is the file's comment; a `#` comment may
// annotate an input. Each case is also run before and after the pass with the
// reference interpreter (tests/pass_check.h), and the pass's output verified
// (verify_pass_output). To rewrite the expected sections after an intended
// change, run scripts/update-pass-tests.sh and review the diff.
#include "ir/error.h"
#include "ir/file_io.h"
#include "ir/listing.h"
#include "ir/listing_parser.h"
#include "pass_check.h"

#include <cstdlib>
#include <filesystem>
#include <sstream>

using namespace kiln;

namespace {

const std::filesystem::path kCaseDir = std::filesystem::path(KILN_TEST_SOURCE_DIR) / "passes";

struct Case {
  std::string title;
  size_t line = 0;                // of the title, from 1
  std::string roots = {};         // "%y, %u", or empty: the sinks
  std::string data_parallel = {}; // bucket bytes, or empty: off
  std::string tolerance = {};     // of the values, or empty: exact
  size_t input_line = 0;          // of the input's first line
  std::string input = {};
  bool unchanged = false;
  std::string expected = {};
};

struct CaseFile {
  std::string comment; // what comes before the first case
  std::vector<Case> cases;
};

CaseFile read_cases(const std::filesystem::path &file) {
  CaseFile out;
  std::istringstream text(read_file(file));
  std::string line;
  enum { comment, input, expected } section = comment;
  // A case's input ends at '--- expected' or '--- unchanged'.
  auto check_ended = [&] {
    if (section == input)
      fail("{}:{}: case '{}' has no '--- expected' or '--- unchanged'", file.filename().string(),
           out.cases.back().line, out.cases.back().title);
  };
  for (size_t number = 1; std::getline(text, line); ++number) {
    auto where = [&] { return fmt::format("{}:{}", file.filename().string(), number); };
    if (line.starts_with("=== ")) {
      check_ended();
      out.cases.push_back({.title = line.substr(4), .line = number, .input_line = number + 1});
      section = input;
    } else if (section == comment) {
      out.comment += line + "\n";
    } else if (line.starts_with("--- roots: ") && section == input &&
               out.cases.back().input.empty()) {
      out.cases.back().roots = line.substr(11);
      out.cases.back().input_line = number + 1;
    } else if (line.starts_with("--- data-parallel: ") && section == input &&
               out.cases.back().input.empty()) {
      out.cases.back().data_parallel = line.substr(19);
      out.cases.back().input_line = number + 1;
    } else if (line.starts_with("--- tolerance: ") && section == input &&
               out.cases.back().input.empty()) {
      out.cases.back().tolerance = line.substr(15);
      out.cases.back().input_line = number + 1;
    } else if ((line == "--- expected" || line == "--- unchanged") && section == input) {
      out.cases.back().unchanged = line == "--- unchanged";
      section = expected;
    } else if (line.starts_with("---")) {
      fail("{}: '{}' is out of place (a case is '=== TITLE', an optional '--- roots: %a, %b', "
           "'--- data-parallel: BYTES' and '--- tolerance: X', its input, then '--- expected' and "
           "the output, or "
           "'--- unchanged')",
           where(), line);
    } else {
      (section == input ? out.cases.back().input : out.cases.back().expected) += line + "\n";
    }
  }
  check_ended();
  return out;
}

// The file as read, with each case's expected section as given: what
// KILN_UPDATE_GOLDEN writes back.
std::string write_cases(const CaseFile &f) {
  std::string out = f.comment;
  for (const Case &c : f.cases) {
    out += "=== " + c.title + "\n";
    if (!c.roots.empty()) out += "--- roots: " + c.roots + "\n";
    if (!c.data_parallel.empty()) out += "--- data-parallel: " + c.data_parallel + "\n";
    if (!c.tolerance.empty()) out += "--- tolerance: " + c.tolerance + "\n";
    out += c.input + (c.unchanged ? "--- unchanged\n" : "--- expected\n" + c.expected);
  }
  return out;
}

std::vector<NodeId> roots_of(const Graph &g, const std::string &list) {
  if (list.empty()) return sink_nodes(g);
  std::vector<NodeId> roots;
  std::istringstream names(list);
  for (std::string name; std::getline(names >> std::ws, name, ',');) {
    while (!name.empty() && name.back() == ' ') name.pop_back();
    if (!name.starts_with("%")) fail("roots are written %name, got '{}'", name);
    roots.push_back(g.at(name.substr(1)));
  }
  return roots;
}

// Runs one case; in update mode, rewrites its expected section instead of
// checking it.
void run_case(const Pass &pass, const std::string &file, Case &c, bool update) {
  INFO(file << ":" << c.line << ": " << c.title);
  // Blank lines before the input make the parser's line numbers the file's.
  Graph g = parse_listing(std::string(c.input_line - 1, '\n') + c.input, file);
  RootedGraph in{g, roots_of(g, c.roots)};
  PipelineOptions options;
  if (!c.data_parallel.empty())
    options.data_parallel = {.on = true, .bucket_bytes = std::stoul(c.data_parallel)};
  RootedGraph out = pass.run(in, options);
  std::string got = to_listing(out.graph), input = to_listing(in.graph);
  if (update) {
    c.unchanged = got == input;
    c.expected = c.unchanged ? "" : got;
  } else {
    CHECK(got == (c.unchanged ? input : c.expected));
  }
  CHECK_NOTHROW(verify_pass_output(in, out));
  test::check_same_values(in, out, {}, c.tolerance.empty() ? 0.0 : std::stod(c.tolerance));
}

} // namespace

TEST_CASE("each pass makes of its text cases the expected text and the same values",
          "[passes][listing]") {
  const char *env = std::getenv("KILN_UPDATE_GOLDEN");
  bool update = env && std::string(env) == "1";
  for (const Pass &pass : pipeline()) {
    std::filesystem::path path = kCaseDir / (pass.name + ".txt");
    INFO(path.string());
    REQUIRE(std::filesystem::exists(path));
    CaseFile cases = read_cases(path);
    CHECK(!cases.cases.empty());
    for (Case &c : cases.cases) run_case(pass, path.filename().string(), c, update);
    if (update) write_file_atomically(path, write_cases(cases));
  }
  // And no file for a pass that is not in the pipeline.
  for (const auto &entry : std::filesystem::directory_iterator(kCaseDir)) {
    std::string name = entry.path().stem().string();
    INFO(entry.path().string());
    CHECK(std::any_of(pipeline().begin(), pipeline().end(),
                      [&](const Pass &p) { return p.name == name; }));
  }
}
