// How kiln scales with the node count: chains x -> op -> op -> ... of one op
// each (binary ops take x as their second input), with and without fusion:
// each pass of the pipeline timed on its own, then compilation (codegen,
// memory planning) and the first and a second run in a Session, all in ms.
// A cost that grows linearly keeps ms per 1,000 nodes flat from the short
// chains to the long ones (bench/long_chains.sh prints both).
//
//   long_chains_bench [--nodes 100000] [--ops relu,add,softmax] [--threads 2]
#include "compiler/compile.h"
#include "ir/op.h"
#include "passes/pass.h"
#include "session/compiled_graph.h"
#include "session/profile.h"
#include "session/session.h"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <chrono>

namespace {

using Clock = std::chrono::steady_clock;
double ms_since(Clock::time_point t) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

// Small, so that runs measure what each node costs, not its arithmetic.
const kiln::Shape kShape = {4, 16};

struct Chain {
  kiln::Graph g;
  kiln::NodeId x = -1, last = -1;
};

Chain make_chain(const std::string &op, int64_t nodes) {
  Chain c;
  c.x = c.last = c.g.add_node("placeholder", "x", {},
                              {{"dtype", kiln::DType::f32}, {"shape", kiln::Shape(kShape)}});
  bool binary = kiln::OpRegistry::get().find(op)->min_inputs == 2;
  for (int64_t i = 1; i <= nodes; ++i) {
    std::vector<kiln::NodeId> inputs = {c.last};
    if (binary) inputs.push_back(c.x);
    c.last = c.g.add_node(op, fmt::format("n{}", i), std::move(inputs), {});
  }
  return c;
}

// Each pass on its own, in pipeline order: the slowest and the sum.
struct PassTimes {
  std::string slowest;
  double slowest_ms = 0, total_ms = 0;
};

PassTimes time_passes(const Chain &c, bool fusion, bool print) {
  PassTimes t;
  kiln::RootedGraph g{c.g, {c.last}};
  for (const kiln::Pass &p : kiln::pipeline()) {
    if (p.fusion && !fusion) continue;
    auto start = Clock::now();
    g = p.run(g, {});
    double ms = ms_since(start);
    t.total_ms += ms;
    if (ms > t.slowest_ms) t.slowest = p.name, t.slowest_ms = ms;
    if (print) fmt::print(" {}={:.0f}", p.name, ms);
  }
  if (print) fmt::print("\n");
  return t;
}

void row(const std::string &op, int64_t nodes, bool fusion, int threads) {
  Chain c = make_chain(op, nodes);
  PassTimes passes = time_passes(c, fusion, false);
  kiln::SessionOptions options{.threads = threads,
                               .passes = {.fusion = fusion},
                               .compile = {.cache = false},
                               .profile = true};
  kiln::Session s(c.g, options);
  kiln::Feeds feeds = {{c.x, kiln::Tensor(kiln::DType::f32, kShape)}};
  auto start = Clock::now();
  s.run(feeds, {c.last});
  double first_ms = ms_since(start);
  start = Clock::now();
  s.run(feeds, {c.last});
  double second_ms = ms_since(start);
  const kiln::Profile::Compilation &compiled = s.profile().programs().at(0).compilation;
  fmt::print("{:<8} {:>7} {:<4} {:>8} {:>9.0f} {:>9.0f} {:>17} {:>9.0f} {:>9.0f} {:>9.0f} {:>9.0f} "
             "{:>8.1f}\n",
             op, nodes, fusion ? "on" : "off", compiled.stats.kernels, passes.total_ms,
             compiled.passes_ms, fmt::format("{} {:.0f}", passes.slowest, passes.slowest_ms),
             compiled.stats.codegen_ms, compiled.memory_plan_ms, first_ms, second_ms,
             first_ms / double(nodes) * 1000);
}

} // namespace

int main(int argc, char **argv) try {
  CLI::App app("How passes, compilation, memory planning and runs scale with the node count");
  std::vector<int64_t> nodes = {100000};
  std::vector<std::string> ops = {"relu", "sigmoid", "add", "mul", "softmax"};
  int threads = 2;
  bool passes_only = false;
  app.add_flag("--passes-only", passes_only, "time each pass, nothing else");
  app.add_option("--nodes", nodes, "chain lengths")->delimiter(',');
  app.add_option("--ops", ops, "ops to chain (unary, or binary taking x second)")->delimiter(',');
  app.add_option("--threads", threads, "session threads");
  CLI11_PARSE(app, argc, argv);
  if (passes_only) {
    for (const std::string &op : ops)
      for (int64_t n : nodes)
        for (bool fusion : {true, false}) {
          fmt::print("{} {} fusion {}:", op, n, fusion ? "on" : "off");
          time_passes(make_chain(op, n), fusion, true);
        }
    return 0;
  }
  fmt::print("# chains of one op on f32{}, ms; the session's first run compiles (cache off); "
             "passes timed apart, then in the session\n",
             kiln::to_string(kShape));
  fmt::print("{:<8} {:>7} {:<4} {:>8} {:>9} {:>9} {:>17} {:>9} {:>9} {:>9} {:>9} {:>8}\n", "op",
             "nodes", "fuse", "kernels", "passes", "(session)", "slowest pass", "codegen",
             "mem plan", "1st run", "2nd run", "1st/1k");
  for (const std::string &op : ops)
    for (int64_t n : nodes)
      for (bool fusion : {true, false}) row(op, n, fusion, threads);
} catch (const std::exception &e) {
  fmt::print(stderr, "long_chains_bench: error: {}\n", e.what());
  return 1;
}
