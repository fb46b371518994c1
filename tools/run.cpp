// kiln run: feeds .npy or .csv files to a model's placeholders, runs a
// session and prints (and optionally saves) the fetched values; with
// --repeat, times more runs; with --profile, prints where the time went.
#include "tools/commands.h"

#include "data/csv.h"
#include "data/npy.h"
#include "ir/error.h"
#include "ir/serialize.h"
#include "ops/builder.h"
#include "session/checkpoint.h"
#include "session/profile.h"
#include "session/session.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <optional>

namespace kiln::tools {

namespace {

namespace fs = std::filesystem;

// Values shown per fetch: enough to eyeball a result, short enough for a terminal line.
constexpr int64_t kPreviewValues = 8;

struct RunOptions {
  std::string model;
  std::vector<std::string> feeds; // NAME=FILE.npy or NAME=FILE.csv
  std::vector<std::string> fetches;
  std::string out_dir;      // empty: print only
  std::string checkpoint;   // empty: variables from their initializers
  bool allow_extra = false; // checkpoint entries the graph lacks are skipped
  int threads = 0;
  size_t max_arena = 0, max_buffer = 0; // SessionOptions' limits; 0: none
  int repeat = 0;                       // timed runs after the first
  int warmup = 0;                       // untimed runs between the first and the timed ones
  bool profile = false;
  std::string trace; // with profile: the Chrome trace's file, empty for none
};

// A CSV has no dtype and is always 2-D: it takes the placeholder's dtype,
// and each row is one batch item, reshaped to the placeholder's item dims
// ([N, 1] -> [N] for labels, [N, 784] -> [N, 1, 28, 28] for images).
Tensor read_csv_feed(const Graph &g, const std::string &name, const fs::path &path) {
  std::optional<NodeId> id = g.find(name);
  if (!id) return read_csv(path); // bind_feeds reports the unknown name
  const TensorType &type = g.node(*id).type;
  Tensor t = read_csv(path, type.dtype);
  if (type.shape.empty() || !is_batch(type.shape[0])) return t;
  Shape items(type.shape.begin() + 1, type.shape.end());
  if (!is_concrete(items) || num_elements(items) != t.shape()[1]) return t;
  items.insert(items.begin(), t.shape()[0]);
  return t.reshaped(items);
}

Feeds read_feeds(const Graph &g, const std::vector<std::string> &specs) {
  Feeds feeds;
  for (const std::string &spec : specs) {
    size_t eq = spec.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == spec.size())
      fail("feed '{}': expected NAME=FILE.npy or NAME=FILE.csv", spec);
    std::string name = spec.substr(0, eq);
    fs::path path = spec.substr(eq + 1);
    feeds.emplace_back(name,
                       path.extension() == ".csv" ? read_csv_feed(g, name, path) : read_npy(path));
  }
  return feeds;
}

std::string preview(const Tensor &t) {
  std::vector<std::string> values;
  visit_dtype(t.dtype(), [&](auto zero) {
    using T = decltype(zero);
    for (T v : t.data<T>().first(size_t(std::min(t.size(), kPreviewValues)))) {
      if constexpr (std::is_floating_point_v<T>)
        values.push_back(fmt::format("{:.6g}", v));
      else if constexpr (std::is_same_v<T, uint8_t>)
        values.push_back(v ? "true" : "false");
      else
        values.push_back(fmt::format("{}", v));
    }
  });
  if (t.size() > kPreviewValues) values.push_back("...");
  return fmt::format("[{}]", fmt::join(values, ", "));
}

// "dense/add" -> DIR/dense_add.npy: one flat directory of results.
fs::path output_path(const fs::path &dir, std::string name) {
  std::replace(name.begin(), name.end(), '/', '_');
  return dir / (name + ".npy");
}

void create_output_dir(const fs::path &dir) {
  std::error_code error;
  fs::create_directories(dir, error);
  if (error) fail("cannot create the output directory '{}': {}", dir.string(), error.message());
}

double ms_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
      .count();
}

// The batch size the feeds bind (the first dim of a feed whose placeholder
// has the batch dim); 0 when no feed has one. After a run: the feeds are known good.
int64_t fed_batch(const Graph &g, const Feeds &feeds) {
  for (const auto &[ref, tensor] : feeds) {
    const Shape &shape = g.node(ref.resolve(g)).type.shape;
    if (!shape.empty() && is_batch(shape[0]) && tensor.rank() > 0) return tensor.shape()[0];
  }
  return 0;
}

// Runs the compiled model `warmup` times untimed, then `repeat` times, and
// prints min, median and max per run and the throughput at the median.
void print_timings(Session &session, const Feeds &feeds, const std::vector<NodeRef> &fetches,
                   const RunOptions &o, double first_ms, int64_t batch) {
  for (int i = 0; i < o.warmup; ++i) session.run(feeds, fetches);
  int repeat = o.repeat;
  std::vector<double> ms;
  for (int i = 0; i < repeat; ++i) {
    auto start = std::chrono::steady_clock::now();
    session.run(feeds, fetches);
    ms.push_back(ms_since(start));
  }
  std::sort(ms.begin(), ms.end());
  size_t mid = ms.size() / 2;
  double median = ms.size() % 2 ? ms[mid] : (ms[mid - 1] + ms[mid]) / 2;
  fmt::print("{} runs{}: min {:.3f} ms, median {:.3f} ms, max {:.3f} ms per run (the first run, "
             "compilation included: {:.1f} ms)\n",
             repeat, o.warmup ? fmt::format(" after {} warm-up", o.warmup) : "", ms.front(), median,
             ms.back(), first_ms);
  std::string items =
      batch > 0 ? fmt::format(", {:.0f} items/s (batch {})", 1000.0 * double(batch) / median, batch)
                : "";
  fmt::print("throughput at the median: {:.1f} runs/s{}\n", 1000.0 / median, items);
}

// Without --checkpoint, trained variables are back at their initializers: a
// forgotten checkpoint would otherwise print plausible, wrong results.
void note_initializers(const Graph &g, const std::vector<NodeRef> &fetches, const Feeds &feeds) {
  std::vector<NodeId> roots;
  for (const NodeRef &f : fetches) roots.push_back(f.resolve(g));
  std::vector<std::string> used;
  for (NodeId id : needed_nodes(g, roots, bind_feeds(g, feeds)))
    if (is_trainable(g.node(id))) used.push_back(g.node(id).name);
  if (used.empty()) return;
  fmt::print(stderr,
             "note: no --checkpoint: {} trainable variable{} ({}{}) come from {} initializer{}\n",
             used.size(), used.size() == 1 ? "" : "s",
             fmt::join(used.begin(), used.begin() + std::min<size_t>(used.size(), 3), ", "),
             used.size() > 3 ? ", ..." : "", used.size() == 1 ? "its" : "their",
             used.size() == 1 ? "" : "s");
}

void run(const RunOptions &o) {
  Graph g = load_graph(o.model);
  Feeds feeds = read_feeds(g, o.feeds);
  // Before running, so that a bad directory costs no compilation.
  if (!o.out_dir.empty()) create_output_dir(o.out_dir);
  std::vector<NodeRef> fetches(o.fetches.begin(), o.fetches.end());
  for (const NodeRef &f : fetches) f.resolve(g, NodeRef::Role::fetch); // before compiling
  Session session(std::move(g), SessionOptions{.threads = o.threads,
                                               .profile = o.profile,
                                               .max_arena_bytes = o.max_arena,
                                               .max_buffer_bytes = o.max_buffer});
  if (!o.checkpoint.empty())
    restore_checkpoint(session, o.checkpoint, {.allow_extra = o.allow_extra});
  else
    note_initializers(session.graph(), fetches, feeds);
  auto start = std::chrono::steady_clock::now();
  std::vector<Tensor> results = session.run(feeds, fetches);
  double first_ms = ms_since(start);
  for (size_t i = 0; i < results.size(); ++i) {
    fmt::print("{}: {} {}\n", o.fetches[i], results[i].summary(), preview(results[i]));
    if (o.out_dir.empty()) continue;
    fs::path path = output_path(o.out_dir, o.fetches[i]);
    write_npy(path, results[i]);
    fmt::print("  -> {}\n", path.string());
  }
  if (o.repeat > 0)
    print_timings(session, feeds, fetches, o, first_ms, fed_batch(session.graph(), feeds));
  if (!o.profile) return;
  fmt::print("{}", profile_table(session.profile()));
  if (o.trace.empty()) return;
  write_chrome_trace(session.profile(), o.trace);
  fmt::print("trace -> {} (chrome://tracing or ui.perfetto.dev)\n", o.trace);
}

} // namespace

void add_run_command(CLI::App &app) {
  auto options = std::make_shared<RunOptions>();
  CLI::App *cmd =
      app.add_subcommand("run", "Run a model on .npy or .csv feeds and print or save the fetches");
  cmd->add_option("MODEL", options->model, "Model file (.kiln binary or .kiln.txt text)")
      ->required();
  add_repeatable(cmd, "--feed", options->feeds,
                 "Feed placeholder NAME from a .npy or .csv file (repeatable)", "NAME=FILE");
  add_repeatable(cmd, "--fetch", options->fetches, "Compute node NAME (repeatable)")->required();
  cmd->add_option("--out", options->out_dir,
                  "Also write each fetch to DIR/NAME.npy ('/' in NAME becomes '_'); DIR is "
                  "created if missing")
      ->type_name("DIR");
  cmd->add_option("--checkpoint", options->checkpoint,
                  "Restore the variables from FILE (saved by save_checkpoint) before running")
      ->type_name("FILE");
  add_allow_extra_variables(cmd, options->allow_extra);
  cmd->add_option("--threads", options->threads, "Worker threads (0: all cores)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_option("--max-arena", options->max_arena,
                  "Fail before allocating a program whose arena is larger (e.g. 64MiB)")
      ->type_name("BYTES")
      ->transform(CLI::AsSizeValue(false));
  cmd->add_option("--max-buffer", options->max_buffer,
                  "Fail before allocating any single buffer or variable larger than this")
      ->type_name("BYTES")
      ->transform(CLI::AsSizeValue(false));
  cmd->add_option("--repeat", options->repeat,
                  "Run N more times after the first and print min/median/max time per run and "
                  "the throughput")
      ->type_name("N")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--warmup", options->warmup,
                  "With --repeat: run K more times untimed before the timed runs")
      ->type_name("K")
      ->check(CLI::NonNegativeNumber);
  CLI::Option *profile =
      cmd->add_option("--profile", options->trace,
                      "Print each kernel's time and the compilation's phases; with FILE, also "
                      "write a Chrome trace (chrome://tracing, Perfetto) there")
          ->type_name("[FILE]")
          ->expected(0, 1);
  cmd->footer("Feeds and outputs are NumPy .npy files (C order, little endian; f32, f64, i32,\n"
              "i64 or bool). A feed may also be a numeric .csv file (a header line is\n"
              "skipped): it takes the placeholder's dtype, one row per batch item.\n"
              "Each fetch is printed as its type and first values.\n"
              "Examples:\n"
              "  kiln run mlp.kiln --feed x=batch.npy --fetch dense_1/add --out results\n"
              "  (writes results/dense_1_add.npy; load it with numpy.load)\n"
              "  kiln run mlp.kiln --feed x=batch.npy --fetch dense_1/add --repeat 100 \\\n"
              "      --profile trace.json");
  cmd->callback([options, profile] {
    options->profile = profile->count() > 0;
    run(*options);
  });
}

} // namespace kiln::tools
