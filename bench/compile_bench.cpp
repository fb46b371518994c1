// What compiling costs, in one run (bench/compile.sh prints it with the
// peers): for the MLP 784-512-10 and LeNet-5 Adam training steps and their
// evaluation programs at batch 64, the first run of each program (passes,
// compilation, memory planning and one step: what a user waits for) with the
// disk cache off (cold) and filled (warm), kernels and units before and after
// deduplication, and the steady-state step time; then long chains of nodes,
// with passes, compilation and planning timed apart. Min/median/max over
// repeats, each repeat in a fresh Session (a fresh JIT).
//
//   compile_bench [--threads 2] [--repeats 5] [--chains 1000,10000,100000]
#include "compiler/compile.h"
#include "examples/models.h"
#include "frontends/losses.h"
#include "frontends/optim.h"
#include "passes/pass.h"
#include "session/compiled_graph.h"
#include "session/session.h"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <random>

namespace {

using Clock = std::chrono::steady_clock;
double ms_since(Clock::time_point t) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

struct Spread {
  std::vector<double> values;
  void add(double v) { values.push_back(v); }
  std::string str() const {
    std::vector<double> v = values;
    std::sort(v.begin(), v.end());
    return fmt::format("{:.1f} ({:.1f}-{:.1f})", v[v.size() / 2], v.front(), v.back());
  }
};

struct Model {
  kiln::Graph g;
  kiln::Value x, y, loss, accuracy, train;
  kiln::Feeds feeds;
};

std::unique_ptr<Model> make_model(const std::string &name) {
  auto m = std::make_unique<Model>();
  bool conv = name == "lenet";
  kiln::Shape image = conv ? kiln::Shape{kiln::batch, 1, 28, 28} : kiln::Shape{kiln::batch, 784};
  m->x = kiln::placeholder(m->g, "x", kiln::f32, image);
  m->y = kiln::placeholder(m->g, "y", kiln::i32, {kiln::batch});
  kiln::Value logits = conv ? kiln::models::lenet(m->g, m->x, 0) : kiln::models::mlp(m->g, m->x, 0);
  m->loss = kiln::mean(kiln::nn::softmax_cross_entropy(logits, m->y));
  m->accuracy = kiln::nn::accuracy(logits, m->y);
  m->train = kiln::optim::Adam{.lr = 1e-3}.minimize(m->loss);
  std::mt19937 rng(1);
  kiln::Shape shape = image;
  shape[0] = 64;
  kiln::Tensor x(kiln::f32, shape), y(kiln::i32, {64});
  std::uniform_real_distribution<float> u(0, 1);
  for (float &v : x.data<float>()) v = u(rng);
  for (int64_t i = 0; i < 64; ++i) y.data<int32_t>()[i] = int32_t(i % 10);
  m->feeds = {{m->x, x}, {m->y, y}};
  return m;
}

struct ProgramRow {
  Spread first_run_ms, compile_ms;
  kiln::compiler::CompileStats stats;
};

// The training step then the evaluation, each program's first run timed.
void first_runs(const Model &m, const kiln::SessionOptions &options, ProgramRow &train,
                ProgramRow &eval) {
  kiln::Session s(m.g, options);
  auto start = Clock::now();
  s.run(m.feeds, {m.loss}, {m.train});
  train.first_run_ms.add(ms_since(start));
  train.compile_ms.add(s.stats().last_compile_ms);
  train.stats = s.stats().last_compile;
  start = Clock::now();
  s.run(m.feeds, {m.accuracy});
  eval.first_run_ms.add(ms_since(start));
  eval.compile_ms.add(s.stats().last_compile_ms);
  eval.stats = s.stats().last_compile;
}

double step_ms(const Model &m, const kiln::SessionOptions &options) {
  kiln::Session s(m.g, options);
  for (int i = 0; i < 20; ++i) s.run(m.feeds, {m.loss}, {m.train});
  std::vector<double> steps;
  for (int i = 0; i < 200; ++i) {
    auto start = Clock::now();
    s.run(m.feeds, {m.loss}, {m.train});
    steps.push_back(ms_since(start));
  }
  std::nth_element(steps.begin(), steps.begin() + 100, steps.end());
  return steps[100];
}

void print_stats(const std::string &name, const ProgramRow &cold, const ProgramRow &warm) {
  const kiln::compiler::CompileStats &s = cold.stats;
  fmt::print("{:<13} {:>20} {:>20} {:>20} {:>8} {:>6} {:>8} {:>7}\n", name, cold.first_run_ms.str(),
             cold.compile_ms.str(), warm.first_run_ms.str(), s.kernels, s.units, s.unique_units,
             s.compiled_units);
  fmt::print("{:<13} (last cold compile(): codegen {:.1f}, LLVM optimization {:.1f} and machine "
             "code {:.1f} summed over threads, link {:.1f} ms)\n",
             "", s.codegen_ms, s.optimize_ms, s.machine_code_ms, s.link_ms);
}

// x -> op -> op -> ... (n times), fetched at the end: passes, compilation and
// memory planning timed apart.
void chain(const std::string &op, kiln::Shape shape, int64_t n, int repeats) {
  kiln::Graph g;
  kiln::Value v = kiln::placeholder(g, "x", kiln::f32, shape);
  for (int64_t i = 0; i < n; ++i) v = op == "softmax" ? kiln::softmax(v) : kiln::relu(v);
  Spread passes, compile, plan, total;
  kiln::compiler::CompileStats stats;
  for (int r = 0; r < repeats; ++r) {
    kiln::compiler::Compiler compiler({.cache = false});
    auto start = Clock::now();
    kiln::RootedGraph optimized = kiln::optimize({g, {v.id}});
    double passes_ms = ms_since(start);
    auto compiling = Clock::now();
    kiln::CompiledGraph c = kiln::compile_graph(compiler, std::move(optimized), shape[0], true);
    double compile_and_plan = ms_since(compiling);
    passes.add(passes_ms);
    compile.add(c.program.stats.total_ms);
    plan.add(compile_and_plan - c.program.stats.total_ms);
    total.add(ms_since(start));
    stats = c.program.stats;
  }
  fmt::print("{:<7} x{:<7} {:>18} {:>18} {:>18} {:>20} {:>8} {:>6}\n", op, n, passes.str(),
             compile.str(), plan.str(), total.str(), stats.kernels, stats.unique_units);
}

} // namespace

int main(int argc, char **argv) try {
  CLI::App app("How long kiln takes to compile, cold and warm");
  int threads = 2, repeats = 5;
  std::vector<int64_t> chains = {1000, 10000, 100000};
  app.add_option("--threads", threads, "session threads");
  app.add_option("--repeats", repeats, "fresh sessions per figure");
  app.add_option("--chains", chains, "lengths of the relu chains")->delimiter(',');
  CLI11_PARSE(app, argc, argv);

  std::filesystem::path cache_dir =
      std::filesystem::temp_directory_path() / fmt::format("kiln-compile-bench-{}", getpid());
  kiln::SessionOptions cold{.threads = threads, .compile = {.cache = false}};
  kiln::SessionOptions warm{.threads = threads, .compile = {.cache_dir = cache_dir.string()}};
  kiln::SessionOptions undeduplicated{.threads = threads,
                                      .compile = {.cache = false, .deduplicate = false}};

  fmt::print("# first run of each program, ms, median (min-max) of {} fresh sessions, {} threads, "
             "batch 64\n",
             repeats, threads);
  fmt::print("{:<13} {:>20} {:>20} {:>20} {:>8} {:>6} {:>8} {:>7}\n", "program", "cold first run",
             "cold compile()", "warm first run", "kernels", "units", "distinct", "new");
  for (std::string name : {"mlp", "lenet"}) {
    auto m = make_model(name);
    ProgramRow train, eval, warm_train, warm_eval, plain_train, plain_eval;
    first_runs(*m, warm, warm_train, warm_eval); // fills the cache
    for (int r = 0; r < repeats; ++r) {
      first_runs(*m, cold, train, eval);
      first_runs(*m, warm, warm_train, warm_eval);
    }
    first_runs(*m, undeduplicated, plain_train, plain_eval);
    Spread both;
    for (size_t r = 0; r < train.first_run_ms.values.size(); ++r)
      both.add(train.first_run_ms.values[r] + eval.first_run_ms.values[r]);
    warm_train.first_run_ms.values.erase(warm_train.first_run_ms.values.begin());
    warm_eval.first_run_ms.values.erase(warm_eval.first_run_ms.values.begin());
    print_stats(name + " train", train, warm_train);
    print_stats(name + " eval", eval, warm_eval);
    fmt::print("{:<13} {:>20}   (undeduplicated: train {} units compiled, eval {})\n",
               name + " both", both.str(), plain_train.stats.compiled_units,
               plain_eval.stats.compiled_units);
    Spread steps;
    for (int r = 0; r < repeats; ++r) steps.add(step_ms(*m, cold));
    fmt::print("{:<13} steady-state training step: {} ms\n", name, steps.str());
  }
  std::filesystem::remove_all(cache_dir);

  fmt::print("\n# long chains, ms, median (min-max) of {} runs, cache off\n", repeats);
  fmt::print("{:<7} {:<8} {:>18} {:>18} {:>18} {:>20} {:>8} {:>6}\n", "op", "nodes", "passes",
             "compile()", "memory plan", "total", "kernels", "units");
  chain("softmax", {64, 784}, 400, repeats);
  for (int64_t n : chains) chain("relu", {64, 784}, n, n >= 100000 ? 1 : repeats);
} catch (const std::exception &e) {
  fmt::print(stderr, "compile_bench: error: {}\n", e.what());
  return 1;
}
