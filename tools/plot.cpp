// kiln plot: training dashboards from run logs (FitOptions::run_log,
// --run-log on the training examples): loss, test accuracy and speed of
// several runs overlaid on one self-contained HTML page (viewer/plot.js).
#include "tools/commands.h"
#include "tools/pages.h"

#include "ir/error.h"
#include "ir/serialize.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <sstream>

namespace kiln::tools {

namespace {

using Json = nlohmann::json;
namespace fs = std::filesystem;

struct PlotOptions {
  std::vector<std::string> runs;
  std::string output;
};

// The fields of a record that the page reads; a record without one is not
// from a run log.
void check_fields(const Json &record, std::initializer_list<const char *> fields,
                  const std::string &where) {
  for (const char *f : fields)
    if (!record.contains(f))
      fail("{}: a \"{}\" record without \"{}\"", where, record.value("type", ""), f);
}

// One run log: its step and epoch records, named after the file.
Json read_run(const fs::path &path) {
  std::istringstream lines(read_file(path));
  Json steps = Json::array(), epochs = Json::array();
  std::string line;
  for (int number = 1; std::getline(lines, line); ++number) {
    if (line.empty()) continue;
    std::string where = fmt::format("{}:{}", path.string(), number);
    Json record = Json::parse(line, nullptr, false);
    if (record.is_discarded() || !record.is_object())
      fail("{}: not a JSON object (a run log has one per line)", where);
    std::string type = record.value("type", "");
    if (type == "step") {
      check_fields(record, {"step", "loss"}, where);
      steps.push_back(std::move(record));
    } else if (type == "epoch") {
      check_fields(record, {"epoch", "test_accuracy", "mean_loss", "train_s", "compile_s"}, where);
      epochs.push_back(std::move(record));
    } else if (type != "run") {
      fail("{}: unknown record type \"{}\" (expected run, step or epoch)", where, type);
    }
  }
  if (steps.empty() && epochs.empty())
    fail("{}: no step or epoch records: not a run log (write one with --run-log FILE)",
         path.string());
  return {
      {"name", path.stem().string()}, {"steps", std::move(steps)}, {"epochs", std::move(epochs)}};
}

void plot(const PlotOptions &o) {
  Json runs = Json::array();
  for (const std::string &run : o.runs) runs.push_back(read_run(run));
  write_file_atomically(o.output, fill_page(plot_page_template(), {{"runs", std::move(runs)}}));
  fmt::print("{} run{} -> {}\n", o.runs.size(), o.runs.size() == 1 ? "" : "s", o.output);
}

} // namespace

void add_plot_command(CLI::App &app) {
  auto options = std::make_shared<PlotOptions>();
  CLI::App *cmd = app.add_subcommand(
      "plot", "Draw the loss and accuracy curves of training runs, overlaid, on an HTML page");
  cmd->add_option("RUN", options->runs, "Run logs (JSON lines, written with --run-log FILE)")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("-o,--output", options->output, "The page to write")
      ->type_name("PAGE.html")
      ->required();
  cmd->footer("A run log is what FitOptions::run_log or the training examples' --run-log FILE\n"
              "write. The page (no network needed) shows the loss per step, the test accuracy\n"
              "per epoch and steps/s of every run, and a summary table.\n"
              "Examples:\n"
              "  fashion_mlp --run-log out/adam.jsonl\n"
              "  fashion_mlp --optimizer momentum --run-log out/momentum.jsonl\n"
              "  kiln plot out/adam.jsonl out/momentum.jsonl -o out/runs.html");
  cmd->callback([options] { plot(*options); });
}

} // namespace kiln::tools
