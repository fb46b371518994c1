// What a Session records with SessionOptions::profile: where each
// compilation's time went (the passes, the compiler's phases, memory
// planning) and the wall time of every kernel of every run, per kernel in
// total and, for the last few runs of each program, event by event. It prints
// as a table (profile_table) and as a Chrome trace (chrome_trace: the Trace
// Event Format that chrome://tracing and Perfetto load).
#pragma once

#include "session/compiled_graph.h"

#include <chrono>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

namespace kiln {

class Profile {
public:
  using Clock = std::chrono::steady_clock;
  // Runs kept event by event for the trace, per program: the last ones.
  static constexpr size_t kTracedRuns = 8;

  // When an executable's compilation passed each step (Session::executable).
  struct CompileTimes {
    Clock::time_point start, passes_done, compiled, done;
  };
  struct Compilation {
    int64_t batch_size = 0;
    double start_us = 0;          // since the profile began
    double passes_ms = 0;         // the optimizing pipeline
    double compile_ms = 0;        // compile_graph: the compiler, then memory planning
    double memory_plan_ms = 0;    // planning and verifying the arena
    double total_ms = 0;          // all of it, buffers set up included
    compiler::CompileStats stats; // the compiler's phases
  };
  // One kernel of one program.
  struct KernelTotals {
    std::string node; // the compiled graph's node; "name #i" for its i-th of several kernels
    std::string op;   // its op; fusions with their kind, anchor and member count
    uint64_t calls = 0;
    double total_ms = 0;
  };
  // A run's clock readings: when it began, before kernel 0, after each
  // kernel, and when it ended.
  struct Run {
    Clock::time_point begin, end;
    std::vector<Clock::time_point> kernels; // kernel i ran from [i] to [i + 1]
  };
  struct Program {
    Compilation compilation;
    std::vector<KernelTotals> kernels; // in execution order
    // Each collective in flight: from the kernel that starts it to the one
    // that finishes it (the trace shows it as a span beside the kernels).
    std::vector<std::pair<size_t, size_t>> collectives;
    uint64_t runs = 0;
    double run_ms = 0;                    // Session::run wall time, compilation left out
    std::deque<Run> traced;               // the last kTracedRuns runs
    std::vector<Clock::time_point> clock; // the run in progress: kernels + 1 readings
  };

  Profile() : origin_(Clock::now()) {}

  // Recording, by the Session: a compiled program (returns its number), the
  // clock its next run's kernels fill in, and that run's end.
  int add_program(const CompiledGraph &c, int64_t batch_size, const CompileTimes &times);
  std::span<Clock::time_point> kernel_clock(int program) {
    return programs_[size_t(program)].clock;
  }
  void add_run(int program, Clock::time_point begin, Clock::time_point end);

  bool empty() const { return programs_.empty(); }
  const std::vector<Program> &programs() const { return programs_; }
  uint64_t runs() const;
  double run_ms() const;
  double kernel_ms() const; // the kernels' time summed over every run
  double us_since_start(Clock::time_point t) const;

private:
  Clock::time_point origin_;
  std::vector<Program> programs_;
};

// The kernels sorted by total time (node, op, program, calls, total ms, mean
// µs, % of run time), then each compilation's phases.
std::string profile_table(const Profile &p);
// The Trace Event Format: compilations and their phases on thread 1, the
// traced runs and their kernels on thread 2, collectives in flight on
// thread 3, times in µs.
std::string chrome_trace(const Profile &p);
void write_chrome_trace(const Profile &p, const std::filesystem::path &path);

} // namespace kiln
