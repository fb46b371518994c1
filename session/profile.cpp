#include "session/profile.h"

#include "ir/serialize.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <map>

namespace kiln {

namespace {

using Json = nlohmann::json;

// "1 run", "3 runs".
std::string counted(uint64_t n, std::string_view noun) {
  return fmt::format("{} {}{}", n, noun, n == 1 ? "" : "s");
}

double ms_between(Profile::Clock::time_point a, Profile::Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

// "matmul"; a fusion as "fusion:output(matmul, 3 ops)": its kind, the member
// that names it (the anchor of an epilogue, the reduction of a reduce) and
// its size.
std::string op_label(const Node &n) {
  if (n.op->name != "fusion" && n.op->name != "fused_update") return n.op->name;
  const Graph &body = *std::get<std::shared_ptr<const Graph>>(n.attr("body"));
  const std::string &kind = n.attr_string("kind");
  std::vector<const Node *> members;
  for (const Node &m : body.nodes())
    if (m.op->name != "parameter") members.push_back(&m);
  std::string named;
  if (kind == "output" && !members.empty()) named = members.front()->op->name + ", ";
  if (kind == "reduce" && !members.empty()) named = members.back()->op->name + ", ";
  return fmt::format("{}:{}({}{} ops)", n.op->name, kind, named, members.size());
}

// Per program, the kernels with their totals, in a stable order.
struct Row {
  int program;
  const Profile::KernelTotals *kernel;
};

std::vector<Row> rows_by_time(const Profile &p) {
  std::vector<Row> rows;
  for (size_t i = 0; i < p.programs().size(); ++i)
    for (const Profile::KernelTotals &k : p.programs()[i].kernels) rows.push_back({int(i), &k});
  std::stable_sort(rows.begin(), rows.end(), [](const Row &a, const Row &b) {
    return a.kernel->total_ms > b.kernel->total_ms;
  });
  return rows;
}

std::string compilation_line(int program, const Profile::Compilation &c) {
  const compiler::CompileStats &s = c.stats;
  return fmt::format(
      "  program {}: batch {}, {} kernels, {} units ({} compiled, {} from the disk cache, {} "
      "already in the JIT)\n"
      "    passes {:.1f} ms, codegen {:.1f} ms, LLVM optimization {:.1f} ms and machine code "
      "{:.1f} ms (summed over threads), link {:.1f} ms, memory planning {:.2f} ms: {:.1f} ms\n",
      program, c.batch_size, s.kernels, s.units, s.compiled_units, s.cached_units, s.reused_units,
      c.passes_ms, s.codegen_ms, s.optimize_ms, s.machine_code_ms, s.link_ms, c.memory_plan_ms,
      c.total_ms);
}

// Times in µs, rounded to the clock's ns: 1085.068, not 1085.0680000000002.
double round_us(double us) { return std::round(us * 1000) / 1000; }

// An event from `from` to `to` (µs); each end is rounded, so an event inside
// another stays inside it.
Json complete_event(std::string name, std::string_view category, int tid, double from, double to,
                    Json args = Json::object()) {
  double ts = round_us(from);
  return {{"name", std::move(name)},
          {"cat", category},
          {"ph", "X"},
          {"ts", ts},
          {"dur", round_us(std::max(round_us(to) - ts, 0.0))},
          {"pid", 1},
          {"tid", tid},
          {"args", std::move(args)}};
}

Json thread_name(int tid, std::string_view name) {
  return {
      {"name", "thread_name"}, {"ph", "M"}, {"pid", 1}, {"tid", tid}, {"args", {{"name", name}}}};
}

// A compilation and its phases, nested: the passes, the compiler (codegen,
// LLVM in parallel, link) and memory planning. LLVM's phases are summed
// over threads, so the trace shows their wall time as one span.
void add_compilation(Json &events, int program, const Profile::Compilation &c) {
  constexpr int tid = 1;
  const compiler::CompileStats &s = c.stats;
  double start = c.start_us, end = start + 1000 * c.total_ms;
  auto span = [&](std::string name, double from_us, double ms, Json args = Json::object()) {
    double to = std::min(from_us + 1000 * ms, end);
    events.push_back(complete_event(std::move(name), "compile", tid, from_us, to, std::move(args)));
  };
  span(fmt::format("compile program {} (batch {})", program, c.batch_size), start, c.total_ms,
       {{"kernels", s.kernels},
        {"units", s.units},
        {"compiled units", s.compiled_units},
        {"units from the disk cache", s.cached_units},
        {"units already in the JIT", s.reused_units}});
  span("passes", start, c.passes_ms);
  double compiler_start = start + 1000 * c.passes_ms;
  span("compiler", compiler_start, s.total_ms);
  span("codegen", compiler_start, s.codegen_ms);
  span("LLVM optimization + machine code", compiler_start + 1000 * s.codegen_ms,
       s.total_ms - s.codegen_ms - s.link_ms,
       {{"optimization ms, summed over threads", s.optimize_ms},
        {"machine code ms, summed over threads", s.machine_code_ms}});
  span("link", compiler_start + 1000 * (s.total_ms - s.link_ms), s.link_ms);
  span("memory planning", compiler_start + 1000 * (c.compile_ms - c.memory_plan_ms),
       c.memory_plan_ms);
}

void add_runs(Json &events, const Profile &p, int program) {
  constexpr int tid = 2;
  const Profile::Program &prog = p.programs()[size_t(program)];
  for (const Profile::Run &r : prog.traced) {
    events.push_back(complete_event(fmt::format("run program {}", program), "run", tid,
                                    p.us_since_start(r.begin), p.us_since_start(r.end),
                                    {{"batch", prog.compilation.batch_size}}));
    for (size_t k = 0; k < prog.kernels.size(); ++k)
      events.push_back(complete_event(
          prog.kernels[k].node, "kernel", tid, p.us_since_start(r.kernels[k]),
          p.us_since_start(r.kernels[k + 1]), {{"op", prog.kernels[k].op}, {"program", program}}));
    for (auto [start, finish] : prog.collectives)
      events.push_back(complete_event(
          prog.kernels[start].node, "collective", tid + 1, p.us_since_start(r.kernels[start]),
          p.us_since_start(r.kernels[finish + 1]), {{"program", program}}));
  }
}

} // namespace

int Profile::add_program(const CompiledGraph &c, int64_t batch_size, const CompileTimes &t) {
  Program p;
  p.compilation = {.batch_size = batch_size,
                   .start_us = us_since_start(t.start),
                   .passes_ms = ms_between(t.start, t.passes_done),
                   .compile_ms = ms_between(t.passes_done, t.compiled),
                   .memory_plan_ms = c.memory_plan_ms,
                   .total_ms = ms_between(t.start, t.done),
                   .stats = c.program.stats};
  const Graph &g = c.graph.graph;
  std::map<NodeId, int> count, seen;
  for (const compiler::Kernel &k : c.program.kernels) ++count[k.node];
  for (const compiler::Kernel &k : c.program.kernels) {
    const Node &n = g.node(k.node);
    std::string name = n.name;
    if (int i = seen[k.node]++; count[k.node] > 1) name += fmt::format(" #{}", i);
    p.kernels.push_back({std::move(name), op_label(n)});
  }
  std::map<int32_t, size_t> started; // by the buffer they reduce
  for (size_t k = 0; k < c.program.kernels.size(); ++k) {
    const compiler::Kernel &kernel = c.program.kernels[k];
    if (kernel.collective == CollectiveStep::start_allreduce_mean)
      started[kernel.buffers[1]] = k;
    else if (kernel.collective == CollectiveStep::finish_allreduce_mean)
      p.collectives.emplace_back(started.at(kernel.buffers[0]), k);
  }
  p.clock.resize(c.program.kernels.size() + 1);
  programs_.push_back(std::move(p));
  return int(programs_.size() - 1);
}

void Profile::add_run(int program, Clock::time_point begin, Clock::time_point end) {
  Program &p = programs_[size_t(program)];
  ++p.runs;
  p.run_ms += ms_between(begin, end);
  for (size_t k = 0; k < p.kernels.size(); ++k) {
    ++p.kernels[k].calls;
    p.kernels[k].total_ms += ms_between(p.clock[k], p.clock[k + 1]);
  }
  // The oldest run's storage is reused: no allocation once the ring is full.
  Run r;
  if (p.traced.size() == kTracedRuns) {
    r = std::move(p.traced.front());
    p.traced.pop_front();
  }
  r.begin = begin;
  r.end = end;
  r.kernels.assign(p.clock.begin(), p.clock.end());
  p.traced.push_back(std::move(r));
}

uint64_t Profile::runs() const {
  uint64_t n = 0;
  for (const Program &p : programs_) n += p.runs;
  return n;
}

double Profile::run_ms() const {
  double ms = 0;
  for (const Program &p : programs_) ms += p.run_ms;
  return ms;
}

double Profile::kernel_ms() const {
  double ms = 0;
  for (const Program &p : programs_)
    for (const KernelTotals &k : p.kernels) ms += k.total_ms;
  return ms;
}

double Profile::us_since_start(Clock::time_point t) const {
  return std::chrono::duration<double, std::micro>(t - origin_).count();
}

std::string profile_table(const Profile &p) {
  if (p.empty()) return "profile: nothing recorded (SessionOptions::profile is off, or no run)\n";
  double run_ms = p.run_ms(), kernel_ms = p.kernel_ms();
  auto percent = [&](double ms) { return run_ms > 0 ? 100 * ms / run_ms : 0.0; };
  std::string out = fmt::format(
      "profile: {} of {}, {:.3f} ms; kernels {:.3f} ms ({:.1f}%), the rest feeding, dispatch and "
      "fetching\n",
      counted(p.runs(), "run"), counted(p.programs().size(), "program"), run_ms, kernel_ms,
      percent(kernel_ms));
  std::vector<Row> rows = rows_by_time(p);
  size_t node_width = 6, op_width = 2;
  for (const Row &r : rows) {
    node_width = std::max(node_width, r.kernel->node.size());
    op_width = std::max(op_width, r.kernel->op.size());
  }
  out +=
      fmt::format("  {:<{}}  {:<{}}  {:>7}  {:>8}  {:>10}  {:>10}  {:>6}\n", "kernel", node_width,
                  "op", op_width, "program", "calls", "total ms", "mean µs", "% run");
  for (const Row &r : rows) {
    const Profile::KernelTotals &k = *r.kernel;
    double mean_us = k.calls ? 1000 * k.total_ms / double(k.calls) : 0;
    out += fmt::format("  {:<{}}  {:<{}}  {:>7}  {:>8}  {:>10.3f}  {:>10.1f}  {:>6.1f}\n", k.node,
                       node_width, k.op, op_width, r.program, k.calls, k.total_ms, mean_us,
                       percent(k.total_ms));
  }
  double compile_ms = 0;
  for (const Profile::Program &prog : p.programs()) compile_ms += prog.compilation.total_ms;
  out += fmt::format("compilations: {}, {:.1f} ms\n", p.programs().size(), compile_ms);
  for (size_t i = 0; i < p.programs().size(); ++i)
    out += compilation_line(int(i), p.programs()[i].compilation);
  return out;
}

std::string chrome_trace(const Profile &p) {
  Json events = Json::array();
  events.push_back(
      {{"name", "process_name"}, {"ph", "M"}, {"pid", 1}, {"args", {{"name", "kiln session"}}}});
  events.push_back(thread_name(1, "compile"));
  events.push_back(thread_name(2, "run"));
  events.push_back(thread_name(3, "collectives"));
  for (size_t i = 0; i < p.programs().size(); ++i) {
    add_compilation(events, int(i), p.programs()[i].compilation);
    add_runs(events, p, int(i));
  }
  // One event a line: readable, and diffable.
  std::string out = "{\"displayTimeUnit\": \"ms\", \"traceEvents\": [\n";
  for (size_t i = 0; i < events.size(); ++i)
    out += events[i].dump() + (i + 1 < events.size() ? ",\n" : "\n");
  return out + "]}\n";
}

void write_chrome_trace(const Profile &p, const std::filesystem::path &path) {
  if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path());
  write_file_atomically(path, chrome_trace(p));
}

} // namespace kiln
