#include "session/trainer.h"

#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <unistd.h>

namespace kiln {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// One line redrawn in place on a terminal; in logs, only the final state.
class ProgressLine {
public:
  explicit ProgressLine(bool enabled) : enabled_(enabled), tty_(isatty(fileno(stderr))) {}

  void update(int epoch, int epochs, int64_t done, int64_t total, double steps_per_second,
              double loss, bool last) {
    if (!enabled_ || (!tty_ && !last)) return;
    if (tty_ && !last && seconds_since(drawn_) < 0.1) return;
    drawn_ = Clock::now();
    constexpr int kWidth = 30;
    int filled = int(kWidth * done / std::max<int64_t>(total, 1));
    fmt::print(stderr, "{}epoch {}/{} [{:=<{}}{:<{}}] {}/{}  {:.0f} steps/s  loss {:.4f}{}",
               tty_ ? "\r" : "", epoch, epochs, "", filled, "", kWidth - filled, done, total,
               steps_per_second, loss, last ? "\n" : "");
    std::fflush(stderr);
  }

private:
  bool enabled_, tty_;
  Clock::time_point drawn_{};
};

Feeds batch_feeds(const Classifier &m, const Tensor &x, const Tensor &y, bool training) {
  Feeds feeds = {{m.inputs, x}, {m.labels, y}};
  if (m.training) feeds.emplace_back(*m.training, Tensor::scalar(uint8_t{training}));
  return feeds;
}

} // namespace

double evaluate(Session &s, const Classifier &model, const Dataset &data, int64_t batch_size) {
  Batches batches(data, {.batch_size = batch_size, .shuffle = false});
  double correct = 0;
  for (const Batch &b : batches.epoch(0)) {
    Tensor acc = s.run(batch_feeds(model, b.inputs, b.labels, false), {model.accuracy})[0];
    correct += acc.get(0) * double(b.labels.shape()[0]);
  }
  return data.size() ? correct / double(data.size()) : 0;
}

std::vector<EpochResult> fit(Session &s, const Classifier &model, const Dataset &train,
                             const Dataset &test, const FitOptions &options) {
  Batches batches(
      train,
      {.batch_size = options.batch_size, .seed = options.seed, .drop_last = options.drop_last});
  ProgressLine progress(options.progress);
  std::vector<EpochResult> results;
  for (int epoch = 0; epoch < options.epochs; ++epoch) {
    Batches::Epoch steps = batches.epoch(epoch);
    auto start = Clock::now();
    double loss_sum = 0;
    int64_t done = 0;
    for (const Batch &b : steps) {
      Tensor loss =
          s.run(batch_feeds(model, b.inputs, b.labels, true), {model.loss}, {model.train})[0];
      loss_sum += loss.get(0);
      ++done;
      progress.update(epoch + 1, options.epochs, done, steps.size(),
                      double(done) / seconds_since(start), loss_sum / double(done),
                      done == steps.size());
    }
    EpochResult r;
    r.train_seconds = seconds_since(start);
    r.mean_loss = done ? loss_sum / double(done) : 0;
    r.test_accuracy = evaluate(s, model, test, options.eval_batch);
    if (options.progress)
      fmt::print(stderr, "epoch {}/{}: loss {:.4f}, test accuracy {:.2f}%, {:.1f} s\n", epoch + 1,
                 options.epochs, r.mean_loss, 100 * r.test_accuracy, r.train_seconds);
    results.push_back(r);
  }
  return results;
}

} // namespace kiln
