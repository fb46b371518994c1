// The loop every classifier example needs: epochs of shuffled mini-batches,
// one Session::run of the training target each, a progress line (steps/s
// without compilation, loss, elapsed time and ETA; it says when a program
// compiles), test accuracy after each epoch and, when asked, a run log for
// `kiln plot`.
#pragma once

#include "data/dataset.h"
#include "data/pipeline.h"
#include "ops/builder.h"
#include "session/session.h"

#include <optional>
#include <vector>

namespace kiln {

// The graph values a classifier's loops feed and fetch.
struct Classifier {
  Value inputs, labels;                    // placeholders
  Value loss;                              // a scalar, fetched each step
  Value accuracy;                          // a scalar over a batch (nn::accuracy)
  Value train;                             // the optimizer's target
  std::optional<Value> training = {};      // a bool scalar placeholder (dropout, batch norm)
  std::optional<Value> learning_rate = {}; // a scalar, fetched each step for the run log
};

// Data-parallel when the Session has a communicator of several ranks: each
// rank trains on its shard of every global batch (batch_size items per
// rank, as with PyTorch's DDP), the test set is split among the ranks for
// evaluation, and only rank 0 shows progress and writes the run log; the
// results (mean loss, accuracy) are the whole job's, the same on every rank.
struct FitOptions {
  int epochs = 1;
  int64_t batch_size = 64; // per rank
  uint64_t seed = 0;       // the shuffling seed
  // Progress on stderr: on a terminal one line redrawn in place; otherwise
  // (a log) plain lines: a note per compilation and each epoch's final state.
  bool progress = true;
  int64_t eval_batch = 1000; // batch size for evaluation, per rank (all of the test set is
                             // evaluated, but for the fewer than `ranks` items left over)
  // Skip an epoch's last batch when it is smaller than batch_size (PyTorch's
  // DataLoader(drop_last=True)). By default every item trains once per
  // epoch, as with PyTorch's default; the smaller batch costs one more
  // compilation of the training step, in the first epoch.
  bool drop_last = false;
  // Training batches prepared this many ahead of the step, on a background
  // thread (data/pipeline.h), so that the next one is ready when a step
  // ends; 0: each prepared between steps. The results are the same.
  int64_t prefetch = 2;
  // Per-example maps on the training items only, drawing from streams of
  // (seed, epoch, item): random_crop, random_flip (data/augment.h).
  std::vector<Map> augment = {};
  // Per-example maps on training and test items alike, after `augment`:
  // normalize (data/augment.h).
  std::vector<Map> transform = {};
  // A run log in JSON lines, one object a line: {"type": "run"} first (epochs,
  // batch size, items), then {"type": "step"} per training step (epoch, step,
  // loss, lr, steps_per_s, eta_s, wall_s, compile_s) and {"type": "epoch"} per
  // epoch (mean_loss, test_accuracy, train_s, compile_s, data_wait_s, steps_per_s, wall_s).
  // steps_per_s leaves out the runs that compiled a program, as the progress
  // line does (null until a step has run without compiling). Empty: none.
  std::string run_log = {};
};

struct EpochResult {
  double mean_loss = 0;         // over the epoch's items (each batch's loss weighted by its size)
  int64_t steps = 0;            // training steps (batches) run
  int64_t items = 0;            // items trained on (by all ranks)
  double train_seconds = 0;     // the epoch's training loop, compilation included
  double compile_seconds = 0;   // of which runs that compiled a program (Session::stats)
  double data_wait_seconds = 0; // of train_seconds, waiting for the next batch (prefetch hides it)
  double steps_per_second = 0;  // over the steps that did not compile (0: none did not)
  double test_accuracy = 0;
};

// Trains for options.epochs epochs over `train`, evaluating on `test` after each.
std::vector<EpochResult> fit(Session &s, const Classifier &model, const Dataset &train,
                             const Dataset &test, const FitOptions &options);

// Accuracy over all of `data` in batches of batch_size (the last one may be
// smaller), each item through `transform` first. With a Session of several
// ranks, every rank must call it: each evaluates its share of every batch and
// the ranks add up their counts.
double evaluate(Session &s, const Classifier &model, const Dataset &data, int64_t batch_size,
                const std::vector<Map> &transform = {});

} // namespace kiln
