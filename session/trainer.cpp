#include "session/trainer.h"

#include "distributed/communicator.h"
#include "ir/error.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <span>
#include <string>
#include <unistd.h>

namespace kiln {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// 0:07, 12:34, 1:02:03 (whole seconds, rounded down).
std::string clock_time(double seconds) {
  auto s = int64_t(std::max(seconds, 0.0));
  if (s >= 3600) return fmt::format("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60);
  return fmt::format("{}:{:02}", s / 60, s % 60);
}

// Where an epoch's training loop stands.
struct EpochState {
  int epoch = 0, epochs = 0;
  int64_t done = 0, total = 0; // steps
  double loss = 0;             // the mean so far
  double elapsed = 0;          // seconds since the epoch began
  double compiling = 0;        // of which compiling programs
  double waiting = 0;          // and waiting for the next batch
  int64_t compiled = 0;        // steps that compiled a program (not in steps/s)
};

// Steps per second over the steps that did not compile a program; 0 until one has run.
double steps_per_second(const EpochState &p) {
  double stepping = p.elapsed - p.compiling;
  int64_t timed = p.done - p.compiled;
  return timed > 0 && stepping > 0 ? double(timed) / stepping : 0;
}

//   epoch 2/5 [=========>                    ] 312/938  2514 steps/s  loss 0.4312  0:01 elapsed,
//   eta 0:02
// Steps/s and the ETA leave out the runs that compiled a program (their
// step is short next to the compilation, even a cached one), and show only once a
// step has run without compiling; the final state says how much of the
// epoch's time compilation took:
//   epoch 2/5 [==============================] 938/938  2514 steps/s  loss 0.4101  3.1 s
//   (2.7 s compiling, 0.0 s waiting for data)
std::string render(const EpochState &p, bool last) {
  constexpr int kWidth = 30;
  int filled = int(kWidth * p.done / std::max<int64_t>(p.total, 1));
  std::string bar(size_t(filled), '=');
  if (filled < kWidth && p.done > 0) bar += '>';
  std::string line =
      fmt::format("epoch {}/{} [{:<{}}] {}/{}", p.epoch, p.epochs, bar, kWidth, p.done, p.total);
  if (p.done == 0) return line;
  double rate = steps_per_second(p);
  if (rate > 0) line += fmt::format("  {:.0f} steps/s", rate);
  line += fmt::format("  loss {:.4f}", p.loss);
  if (!last) {
    line += fmt::format("  {} elapsed", clock_time(p.elapsed));
    if (rate > 0) line += fmt::format(", eta {}", clock_time(double(p.total - p.done) / rate));
  } else {
    line += fmt::format("  {:.1f} s (", p.elapsed);
    if (p.compiling > 0) line += fmt::format("{:.1f} s compiling, ", p.compiling);
    line += fmt::format("{:.1f} s waiting for data)", p.waiting);
  }
  return line;
}

// Progress on stderr. On a terminal, one line redrawn in place (at most every
// 0.1 s); in a log, plain lines only: each compilation note, completed when
// the compilation ends, and each epoch's final state.
class Progress {
public:
  explicit Progress(bool enabled) : enabled_(enabled), tty_(isatty(fileno(stderr))) {}

  void epoch(const EpochState &p, bool last) {
    state_ = p;
    status_.clear();
    if (!enabled_ || (!tty_ && !last)) return;
    if (tty_ && !last && seconds_since(drawn_) < 0.1) return;
    draw(render(p, last), last);
  }

  // What the line says while no step runs (evaluating, say); terminal only.
  void status(std::string text) {
    status_ = std::move(text);
    if (enabled_ && tty_) draw(status_, false);
  }

  // Before a run that may compile a program: says so, so that a long
  // compilation never leaves a silent screen.
  void compiling(const std::string &what) {
    if (!enabled_) return;
    std::string line = status_.empty() ? render(state_, false) : status_;
    if (tty_)
      draw(fmt::format("{}  compiling {}...", line, what), false);
    else
      fmt::print(stderr, "compiling {}...", what);
    std::fflush(stderr);
  }
  // After it: how long it took and how many kernels were new, or that the
  // program was compiled already.
  void compiled(const compiler::CompileStats *stats, double seconds) {
    if (!enabled_) return;
    drawn_ = {}; // the next update redraws the line without the note
    if (tty_) return;
    if (!stats) return (void)fmt::print(stderr, " compiled already\n");
    fmt::print(stderr, " {:.2f} s: {} kernels, {} distinct units, {} compiled, {} from the cache\n",
               seconds, stats->kernels, stats->unique_units, stats->compiled_units,
               stats->cached_units);
  }

  // A line of its own (an epoch's summary), replacing the line on a terminal.
  void print(const std::string &text) {
    if (!enabled_) return;
    status_.clear();
    draw(text, true);
  }

private:
  void draw(const std::string &text, bool last) {
    drawn_ = Clock::now();
    if (tty_)
      fmt::print(stderr, "\r{}\033[K{}", text, last ? "\n" : "");
    else
      fmt::print(stderr, "{}\n", text);
    std::fflush(stderr);
  }

  bool enabled_, tty_;
  EpochState state_;   // the training loop's latest state,
  std::string status_; // or what is happening instead when not empty
  Clock::time_point drawn_{};
};

// FitOptions::run_log: one JSON object a line, flushed after each epoch so
// that a run in progress can be plotted; its directory is created if missing.
class RunLog {
public:
  explicit RunLog(const std::string &path) : path_(path) {
    if (path.empty()) return;
    std::filesystem::path parent = std::filesystem::path(path).parent_path();
    std::error_code error;
    if (!parent.empty()) std::filesystem::create_directories(parent, error);
    if (error)
      fail("cannot create the run log's directory '{}': {}", parent.string(), error.message());
    file_.open(path, std::ios::trunc);
    if (!file_) fail("cannot write the run log '{}': {}", path, std::strerror(errno));
  }

  void write(const nlohmann::json &record) {
    if (!file_.is_open()) return;
    file_ << record.dump() << '\n';
    if (!file_) fail("cannot write the run log '{}': {}", path_, std::strerror(errno));
  }
  void flush() {
    if (file_.is_open()) file_.flush();
  }
  bool enabled() const { return file_.is_open(); }

private:
  std::string path_;
  std::ofstream file_;
};

// An f32 value as the double its shortest text reads as: 0.001, not
// 0.0010000000474974513, in the log.
double as_written(double f32_value) { return std::stod(fmt::format("{}", float(f32_value))); }

// null while no step has run without compiling.
nlohmann::json rate_json(double rate) { return rate > 0 ? nlohmann::json(rate) : nlohmann::json(); }

nlohmann::json step_record(const EpochState &p, int64_t step, double loss, std::optional<double> lr,
                           double wall, double compile) {
  double rate = steps_per_second(p);
  nlohmann::json r = {
      {"type", "step"},
      {"epoch", p.epoch},
      {"step", step},
      {"loss", as_written(loss)},
      {"steps_per_s", rate_json(rate)},
      {"eta_s", rate > 0 ? nlohmann::json(double(p.total - p.done) / rate) : nlohmann::json()},
      {"wall_s", wall},
      {"compile_s", compile}};
  if (lr) r["lr"] = as_written(*lr);
  return r;
}

Feeds batch_feeds(const Classifier &m, const Tensor &x, const Tensor &y, bool training) {
  Feeds feeds = {{m.inputs, x}, {m.labels, y}};
  if (m.training) feeds.emplace_back(*m.training, Tensor::scalar(uint8_t{training}));
  return feeds;
}

// Session::run with a note before the first run of each program (what, batch
// size) of this loop, the one that compiles it unless the session has it
// already, and a tally of the time spent in runs that compiled.
class Runner {
public:
  Runner(Session &s, Progress &progress) : s_(s), progress_(progress) {}

  std::vector<Tensor> run(const std::string &what, int64_t batch, const Feeds &feeds,
                          const std::vector<NodeRef> &fetches,
                          const std::vector<NodeRef> &targets = {}) {
    bool first = seen_.emplace(what, batch).second;
    if (first) progress_.compiling(fmt::format("{} for batch {}", what, batch));
    int compilations = s_.stats().compilations;
    auto start = Clock::now();
    std::vector<Tensor> out = s_.run(feeds, fetches, targets);
    // A compiling run counts in full: its one step is short next to the
    // passes, planning and compilation.
    bool compiled = s_.stats().compilations != compilations;
    double seconds = seconds_since(start);
    if (compiled) {
      compile_seconds_ += seconds;
      ++compiled_runs_;
    }
    if (first) progress_.compiled(compiled ? &s_.stats().last_compile : nullptr, seconds);
    return out;
  }

  Session &session() const { return s_; }
  double compile_seconds() const { return compile_seconds_; }
  int64_t compiled_runs() const { return compiled_runs_; }

private:
  Session &s_;
  Progress &progress_;
  std::set<std::pair<std::string, int64_t>> seen_;
  double compile_seconds_ = 0;
  int64_t compiled_runs_ = 0;
};

// The sums of `values` over the ranks of the session's job (`values` alone without one).
void sum_over_ranks(const Session &s, std::span<double> values) {
  if (Communicator *c = s.communicator()) c->allreduce_sum(values);
}

// The batches of `data` for this session's rank, through `maps`.
DataPipeline rank_pipeline(const Session &s, const Dataset &data, BatchOptions batches,
                           int64_t prefetch, const std::vector<Map> &maps) {
  Communicator *c = s.communicator();
  batches.rank = c ? c->rank() : 0;
  batches.ranks = c ? c->size() : 1;
  DataPipeline pipeline(data, {.batches = batches, .prefetch = prefetch});
  for (const Map &m : maps) pipeline.map(m);
  return pipeline;
}

// Data-parallel, each rank evaluates its shard of the items and the ranks
// add up their counts.
double evaluate(Runner &runner, const Classifier &model, const Dataset &data, int64_t batch_size,
                const std::vector<Map> &transform, int64_t prefetch) {
  // Every item once (but for the fewer than `ranks` an equal split leaves
  // out): the last batch may be smaller.
  DataPipeline pipeline = rank_pipeline(
      runner.session(), data, {.batch_size = batch_size, .shuffle = false}, prefetch, transform);
  DataPipelineEpoch batches = pipeline.epoch(0);
  double counts[2] = {0, 0}; // correct, seen
  while (std::optional<Batch> b = batches.next()) {
    int64_t n = b->labels.shape()[0];
    Tensor acc = runner.run("the evaluation", n, batch_feeds(model, b->inputs, b->labels, false),
                            {model.accuracy})[0];
    counts[0] += acc.get(0) * double(n);
    counts[1] += double(n);
  }
  sum_over_ranks(runner.session(), counts);
  return counts[1] > 0 ? counts[0] / counts[1] : 0;
}

} // namespace

double evaluate(Session &s, const Classifier &model, const Dataset &data, int64_t batch_size,
                const std::vector<Map> &transform) {
  Progress silent(false);
  Runner runner(s, silent);
  return evaluate(runner, model, data, batch_size, transform, DataPipelineOptions{}.prefetch);
}

std::vector<EpochResult> fit(Session &s, const Classifier &model, const Dataset &train,
                             const Dataset &test, const FitOptions &options) {
  Communicator *c = s.communicator();
  bool rank0 = !c || c->rank() == 0;
  std::vector<Map> maps = options.augment;
  maps.insert(maps.end(), options.transform.begin(), options.transform.end());
  DataPipeline pipeline = rank_pipeline(
      s, train,
      {.batch_size = options.batch_size, .seed = options.seed, .drop_last = options.drop_last},
      options.prefetch, maps);
  Progress progress(options.progress && rank0);
  Runner runner(s, progress);
  RunLog log(rank0 ? options.run_log : std::string());
  log.write({{"type", "run"},
             {"epochs", options.epochs},
             {"batch_size", options.batch_size},
             {"train_items", train.size()},
             {"test_items", test.size()}});
  auto fit_start = Clock::now();
  int64_t step = 0;
  std::vector<NodeRef> fetches = {model.loss};
  // On every rank when there is a log, though only rank 0 writes it: the
  // ranks must compile the same programs (session/session.h).
  if (model.learning_rate && !options.run_log.empty()) fetches.push_back(*model.learning_rate);
  std::vector<EpochResult> results;
  for (int epoch = 0; epoch < options.epochs; ++epoch) {
    DataPipelineEpoch steps = pipeline.epoch(epoch);
    EpochState state{.epoch = epoch + 1, .epochs = options.epochs, .total = steps.size()};
    progress.status(render(state, false));
    auto start = Clock::now();
    double compile_start = runner.compile_seconds(), loss_sum = 0;
    int64_t compiled_start = runner.compiled_runs();
    EpochResult r;
    for (;;) {
      auto waited = Clock::now();
      std::optional<Batch> b = steps.next();
      state.waiting += seconds_since(waited);
      if (!b) break;
      int64_t n = b->labels.shape()[0];
      std::vector<Tensor> out =
          runner.run("the training step", n, batch_feeds(model, b->inputs, b->labels, true),
                     fetches, {model.train});
      loss_sum += out[0].get(0) * double(n);
      r.items += n;
      state.done = ++r.steps;
      state.loss = loss_sum / double(r.items);
      state.elapsed = seconds_since(start);
      state.compiling = runner.compile_seconds() - compile_start;
      state.compiled = runner.compiled_runs() - compiled_start;
      progress.epoch(state, r.steps == steps.size());
      std::optional<double> lr;
      if (out.size() > 1) lr = out[1].get(0);
      log.write(step_record(state, ++step, out[0].get(0), lr, seconds_since(fit_start),
                            runner.compile_seconds()));
    }
    r.train_seconds = seconds_since(start);
    r.compile_seconds = runner.compile_seconds() - compile_start;
    r.data_wait_seconds = state.waiting;
    double totals[2] = {loss_sum, double(r.items)}; // this rank's progress showed its own
    sum_over_ranks(s, totals);
    r.mean_loss = totals[1] > 0 ? totals[0] / totals[1] : 0;
    r.items = int64_t(totals[1]);
    r.steps_per_second = steps_per_second(state);
    progress.status(fmt::format("epoch {}/{}: evaluating on {} test images", epoch + 1,
                                options.epochs, test.size()));
    r.test_accuracy =
        evaluate(runner, model, test, options.eval_batch, options.transform, options.prefetch);
    progress.print(fmt::format("epoch {}/{}: loss {:.4f}, test accuracy {:.2f}%, {:.1f} s",
                               epoch + 1, options.epochs, r.mean_loss, 100 * r.test_accuracy,
                               r.train_seconds));
    log.write({{"type", "epoch"},
               {"epoch", epoch + 1},
               {"step", step},
               {"mean_loss", r.mean_loss},
               {"test_accuracy", r.test_accuracy},
               {"train_s", r.train_seconds},
               {"compile_s", r.compile_seconds},
               {"data_wait_s", r.data_wait_seconds},
               {"steps_per_s", rate_json(r.steps_per_second)},
               {"wall_s", seconds_since(fit_start)}});
    log.flush();
    results.push_back(r);
  }
  return results;
}

} // namespace kiln
