// The loop every classifier example needs: epochs of shuffled mini-batches,
// one Session::run of the training target each, a progress line (steps/s,
// loss), and test accuracy after each epoch.
#pragma once

#include "ops/builder.h"
#include "runtime/dataset.h"
#include "session/session.h"

#include <optional>
#include <vector>

namespace kiln {

// The graph values a classifier's loops feed and fetch.
struct Classifier {
  Value inputs, labels;               // placeholders
  Value loss;                         // a scalar, fetched each step
  Value accuracy;                     // a scalar over a batch (nn::accuracy)
  Value train;                        // the optimizer's target
  std::optional<Value> training = {}; // a bool scalar placeholder (dropout, batch norm)
};

struct FitOptions {
  int epochs = 1;
  int64_t batch_size = 64;
  uint64_t seed = 0;         // the shuffling seed
  bool progress = true;      // a progress line on stderr (redrawn only on a terminal)
  int64_t eval_batch = 1000; // batch size for evaluation
  // Skip an epoch's last, smaller batch (32 of 60000 images at batch 64, a
  // different 32 each epoch): a second batch size would cost a second
  // compilation of the training step.
  bool drop_last = true;
};

struct EpochResult {
  double mean_loss = 0;
  double train_seconds = 0; // the epoch's training loop, compilation included
  double test_accuracy = 0;
};

// Trains for options.epochs epochs over `train`, evaluating on `test` after each.
std::vector<EpochResult> fit(Session &s, const Classifier &model, const Dataset &train,
                             const Dataset &test, const FitOptions &options);

// Accuracy over all of `data` in batches.
double evaluate(Session &s, const Classifier &model, const Dataset &data, int64_t batch_size);

} // namespace kiln
