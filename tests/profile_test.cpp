// SessionOptions::profile: every kernel of a run is counted and timed, the
// table lists them, the Chrome trace parses back as the Trace Event Format
// with compile phases and kernels nested in their runs, only the last runs
// are kept as events, and a session without it records nothing.
#include "frontends/nn.h"
#include "ir/serialize.h"
#include "session/profile.h"
#include "session/session.h"
#include "temp_dir.h"
#include "test_util.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <map>
#include <random>
#include <sstream>

using namespace kiln;
using Catch::Matchers::Contains;
using Json = nlohmann::json;

namespace {

struct Model {
  Graph g;
  Value x, y;
};

// Two dense layers and a softmax: matmul epilogues, a loop, reductions.
std::unique_ptr<Model> make_model() {
  auto m = std::make_unique<Model>();
  m->x = placeholder(m->g, "x", f32, {batch, 16});
  Value h = nn::dense(m->g, m->x, 32, nn::relu, {.seed = 1});
  m->y = softmax(nn::dense(m->g, h, 8, {}, {.seed = 2}));
  return m;
}

Tensor input(int64_t n) {
  std::mt19937 rng(5);
  return test::random_tensor(f32, {n, 16}, rng);
}

// The table's row of a kernel, split into words: ..., program, calls,
// total ms, mean µs, % run (the op may have spaces, so count from the end).
std::vector<std::string> row_of(const std::string &table, const std::string &kernel) {
  std::istringstream lines(table);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("  " + kernel + " ", 0) != 0) continue;
    std::istringstream words(line);
    std::vector<std::string> row;
    for (std::string w; words >> w;) row.push_back(w);
    return row;
  }
  return {};
}

} // namespace

TEST_CASE("profile: the table lists every kernel of every run with its calls", "[profile]") {
  auto m = make_model();
  Session session(m->g, {.threads = 1, .profile = true});
  Session plain(m->g, {.threads = 1});
  for (int i = 0; i < 3; ++i)
    CHECK(session.run({{m->x, input(4)}}, {m->y})[0].identical(
        plain.run({{m->x, input(4)}}, {m->y})[0]));

  const Profile &p = session.profile();
  REQUIRE(p.programs().size() == 1);
  const Profile::Program &program = p.programs()[0];
  CHECK(program.kernels.size() == session.stats().last_kernels);
  CHECK(program.runs == 3);
  CHECK(p.runs() == 3);
  CHECK(p.kernel_ms() > 0);
  CHECK(p.kernel_ms() <= p.run_ms());

  std::string table = profile_table(p);
  INFO(table);
  CHECK_THAT(table, Contains("profile: 3 runs of 1 program,"));
  CHECK_THAT(table, Contains("dense/relu"));
  CHECK_THAT(table, Contains("fusion:output(matmul, "));
  for (const Profile::KernelTotals &k : program.kernels) {
    INFO(k.node);
    CHECK(k.calls == 3);
    CHECK(k.total_ms >= 0);
    std::vector<std::string> row = row_of(table, k.node);
    REQUIRE(row.size() >= 7);
    CHECK(row[row.size() - 4] == "3");
  }

  const Profile::Compilation &c = program.compilation;
  CHECK(c.batch_size == 4);
  CHECK(c.passes_ms > 0);
  CHECK(c.stats.total_ms > 0);
  CHECK(c.stats.kernels == program.kernels.size());
  CHECK(c.total_ms >= c.passes_ms + c.compile_ms);
  CHECK(c.compile_ms >= c.stats.total_ms + c.memory_plan_ms);
  CHECK_THAT(table, Contains("compilations: 1,"));
  CHECK_THAT(table, Contains("program 0: batch 4, "));
  CHECK_THAT(table, Contains("memory planning"));
}

TEST_CASE("profile: the Chrome trace holds compile phases and the last runs' kernels",
          "[profile]") {
  auto m = make_model();
  Session session(m->g, {.threads = 2, .profile = true});
  const size_t runs = Profile::kTracedRuns + 3;
  for (size_t i = 0; i < runs; ++i) session.run({{m->x, input(4)}}, {m->y});
  session.run({{m->x, input(2)}}, {m->y}); // a second program
  const Profile &p = session.profile();
  REQUIRE(p.programs().size() == 2);
  CHECK(p.programs()[0].traced.size() == Profile::kTracedRuns);
  CHECK(p.programs()[0].kernels[0].calls == runs);

  Json trace = Json::parse(chrome_trace(p));
  REQUIRE(trace["traceEvents"].is_array());
  std::map<std::string, int> by_category, compile_phases;
  std::vector<Json> runs_seen;
  for (const Json &e : trace["traceEvents"]) {
    REQUIRE(e["ph"].is_string());
    CHECK(e["pid"] == 1);
    if (e["ph"] == "M") continue;
    CHECK(e["ph"] == "X");
    CHECK(e["name"].is_string());
    CHECK(e["ts"].is_number());
    CHECK(e["dur"].get<double>() >= 0);
    CHECK(e["tid"].is_number_integer());
    std::string category = e["cat"];
    ++by_category[category];
    if (category == "compile") ++compile_phases[e["name"]];
    if (category == "run") runs_seen.push_back(e);
    if (category != "kernel") continue;
    // Each kernel lies inside the run event before it, on the same thread.
    REQUIRE(!runs_seen.empty());
    const Json &run = runs_seen.back();
    CHECK(e["tid"] == run["tid"]);
    CHECK(e["ts"].get<double>() >= run["ts"].get<double>());
    CHECK(e["ts"].get<double>() + e["dur"].get<double>() <=
          run["ts"].get<double>() + run["dur"].get<double>() + 1e-3);
    CHECK(e["args"]["op"].is_string());
  }
  size_t kernels_0 = p.programs()[0].kernels.size(), kernels_1 = p.programs()[1].kernels.size();
  CHECK(by_category["run"] == int(Profile::kTracedRuns + 1));
  CHECK(by_category["kernel"] == int(Profile::kTracedRuns * kernels_0 + kernels_1));
  for (std::string phase : {"passes", "compiler", "codegen", "LLVM optimization + machine code",
                            "link", "memory planning"}) {
    INFO(phase);
    CHECK(compile_phases[phase] == 2);
  }
  CHECK(compile_phases["compile program 0 (batch 4)"] == 1);
  CHECK(compile_phases["compile program 1 (batch 2)"] == 1);
}

TEST_CASE("profile: written to a file, the trace parses back", "[profile]") {
  auto m = make_model();
  Session session(m->g, {.threads = 1, .profile = true});
  session.run({{m->x, input(3)}}, {m->y});
  test::TempDir dir;
  std::filesystem::path path = dir / "nested" / "trace.json";
  write_chrome_trace(session.profile(), path);
  Json trace = Json::parse(read_file(path));
  CHECK(trace["traceEvents"].size() > session.profile().programs()[0].kernels.size());
}

TEST_CASE("profile: off, a session records nothing", "[profile]") {
  auto m = make_model();
  Session session(m->g, {.threads = 1});
  for (int i = 0; i < 2; ++i) session.run({{m->x, input(4)}}, {m->y});
  const Profile &p = session.profile();
  CHECK(p.empty());
  CHECK(p.runs() == 0);
  CHECK(p.kernel_ms() == 0);
  CHECK_THAT(profile_table(p), Contains("nothing recorded"));
  Json trace = Json::parse(chrome_trace(p));
  for (const Json &e : trace["traceEvents"]) CHECK(e["ph"] == "M");
}
