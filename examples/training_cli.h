// What the Fashion-MNIST training examples share: their command-line options,
// their closing summary line (bench/train.sh reads it) and the profile.
#pragma once

#include "data/augment.h"
#include "distributed/communicator.h"
#include "session/profile.h"
#include "session/session.h"
#include "session/trainer.h"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <optional>
#include <string>

struct TrainingCli {
  kiln::FitOptions fit{.epochs = 5};
  int64_t limit = 0;
  std::string out = "out";
  kiln::SessionOptions session{.threads = 0};
  std::string trace;               // --profile FILE
  std::optional<int64_t> crop_pad; // --crop-pad P
  bool flip = false;
  bool augment = false; // --augment: --crop-pad 2 --flip
  bool normalize = false;
  double min_accuracy = 0; // --min-accuracy, percent
  // Under mpirun, the job this process trains in, data-parallel (each rank
  // `--batch` items a step); started alone, a job of one.
  kiln::Communicator communicator;

  // Rank 0 prints and saves; the others train in silence.
  bool lead() const { return communicator.rank() == 0; }
  // "64", or "64 a rank x 2 ranks".
  std::string batch_text() const {
    if (communicator.size() == 1) return std::to_string(fit.batch_size);
    return fmt::format("{} a rank x {} ranks", fit.batch_size, communicator.size());
  }

  void add_to(CLI::App &app) {
    session.communicator = &communicator;
    app.add_option("--epochs", fit.epochs, "passes over the training set");
    app.add_option("--batch", fit.batch_size, "mini-batch size (per rank under mpirun)");
    app.add_flag("--drop-last", fit.drop_last,
                 "skip each epoch's last batch when it is smaller (PyTorch's drop_last)");
    app.add_option("--seed", fit.seed, "seeds the initializers, dropout and the shuffling");
    app.add_option("--limit", limit, "train on the first N images only (0: all)");
    app.add_option("--threads", session.threads, "worker threads (0: all cores)");
    app.add_flag("!--no-fusion", session.passes.fusion, "compile without the fusion passes");
    app.add_flag("!--no-memory-planning", session.memory_planning,
                 "one allocation per buffer instead of one planned arena");
    app.add_flag("!--no-inter-op", session.inter_op,
                 "run kernels one after another, never side by side");
    app.add_option("--prefetch", fit.prefetch,
                   "batches prepared ahead of the training step on a background thread (0: "
                   "each between steps)");
    app.add_flag("--augment", augment,
                 "augment the training images: --crop-pad 2 --flip (off by default)");
    app.add_option("--crop-pad", crop_pad,
                   "random 28x28 crops of the training images padded with P zeros a side");
    app.add_flag("--flip", flip, "random horizontal flips of the training images");
    app.add_flag("--normalize", normalize,
                 "normalize train and test images with Fashion-MNIST's mean and deviation");
    app.add_option("--out", out, "where to save the graph and the checkpoint");
    app.add_option("--min-accuracy", min_accuracy,
                   "fail (exit 1) when the final test accuracy is below this percentage");
    app.add_option("--run-log", fit.run_log,
                   "write a run log (JSON lines: loss per step, accuracy per epoch, steps/s, "
                   "times) to FILE, for 'kiln plot'")
        ->type_name("FILE");
    CLI::Option *profile =
        app.add_option("--profile", trace,
                       "print each kernel's time and the compilations' phases at the end; with "
                       "FILE, also write a Chrome trace there (chrome://tracing, Perfetto)")
            ->type_name("[FILE]")
            ->expected(0, 1);
    // Captures `this`: a TrainingCli stays put once its options are added.
    app.parse_complete_callback([this, profile] {
      session.profile = profile->count() > 0;
      if (augment) {
        if (!crop_pad) crop_pad = 2;
        flip = true;
      }
      if (crop_pad) fit.augment.push_back(kiln::random_crop(*crop_pad));
      if (flip) fit.augment.push_back(kiln::random_flip());
      // Fashion-MNIST's training images: mean 0.2860, deviation 0.3530.
      if (normalize) fit.transform.push_back(kiln::normalize({0.2860f}, {0.3530f}));
    });
  }
};

// The learning rate an optimizer built from a number: the constant "lr" in
// its scope (frontends/optim.cpp), for the run log.
inline std::optional<kiln::Value> learning_rate(kiln::Graph &g, const std::string &scope) {
  std::optional<kiln::NodeId> id = g.find(scope + "/lr");
  if (!id) return std::nullopt;
  return kiln::Value{&g, *id};
}

// With --profile: the table, and the trace if a file was named.
inline void report_profile(const TrainingCli &cli, const kiln::Session &s) {
  if (!cli.session.profile || !cli.lead()) return;
  fmt::print("{}", kiln::profile_table(s.profile()));
  if (cli.trace.empty()) return;
  kiln::write_chrome_trace(s.profile(), cli.trace);
  fmt::print("trace -> {} (chrome://tracing or ui.perfetto.dev)\n", cli.trace);
}

// Prints the closing line; false when the accuracy missed --min-accuracy.
[[nodiscard]] inline bool print_summary(const TrainingCli &cli, const kiln::Session &s,
                                        const std::vector<kiln::EpochResult> &results) {
  if (!cli.lead()) return true;
  double seconds = 0;
  for (const kiln::EpochResult &r : results) seconds += r.train_seconds;
  std::string ranks = cli.communicator.size() > 1
                          ? fmt::format(" on each of {} ranks", cli.communicator.size())
                          : "";
  fmt::print("test accuracy {:.2f}% after {} epochs, {:.1f} s of training ({} programs "
             "compiled in {:.1f} s{})\n",
             100 * results.back().test_accuracy, results.size(), seconds, s.stats().compilations,
             s.stats().total_compile_ms / 1000, ranks);
  double accuracy = 100 * results.back().test_accuracy;
  if (accuracy >= cli.min_accuracy) return true;
  fmt::print(stderr, "test accuracy {:.2f}% is below --min-accuracy {}\n", accuracy,
             cli.min_accuracy);
  return false;
}
