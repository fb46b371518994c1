// A time-series LSTM: from a window of a noisy sum of sines, predict the
// value `ahead` steps after it. The series is split in time (the first 80%
// trains, the last 20% tests); the model, an LSTM over the window and a
// dense layer on its last state, trains with Adam on the mean squared
// error. Prints its test MSE against the persistence baseline (the
// window's last value as the forecast) and exits with status 1 when the
// model is not at least --beat times better than it.
//
//   sine_lstm [--epochs 20] [--window 32] [--ahead 8] [--hidden 32] [--points 6000]
//       [--threads 0] [--beat 0]
#include "frontends/losses.h"
#include "frontends/nn.h"
#include "frontends/optim.h"
#include "frontends/sequence.h"
#include "session/session.h"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <numeric>
#include <random>

namespace {

std::vector<float> noisy_sines(int64_t points, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> noise(0, 0.1);
  std::vector<float> s(static_cast<size_t>(points));
  for (int64_t t = 0; t < points; ++t)
    s[size_t(t)] = float(std::sin(0.07 * t) + 0.5 * std::sin(0.19 * t + 1) +
                         0.3 * std::sin(0.023 * t + 2) + noise(rng));
  return s;
}

struct Windows {
  kiln::Tensor inputs;  // [N, window, 1]
  kiln::Tensor targets; // [N, 1]
  double persistence_mse = 0;
};

// Every window that starts in [from, to) and whose target lies before `to`.
Windows windows(const std::vector<float> &s, int64_t from, int64_t to, int64_t window,
                int64_t ahead) {
  int64_t n = to - from - window - ahead + 1;
  Windows w{kiln::Tensor(kiln::f32, {n, window, 1}), kiln::Tensor(kiln::f32, {n, 1})};
  float *x = w.inputs.data<float>().data(), *y = w.targets.data<float>().data();
  for (int64_t i = 0; i < n; ++i) {
    const float *start = s.data() + from + i;
    std::copy_n(start, window, x + i * window);
    y[i] = start[window + ahead - 1];
    double e = y[i] - start[window - 1];
    w.persistence_mse += e * e / double(n);
  }
  return w;
}

kiln::Tensor rows(const kiln::Tensor &t, const std::vector<int64_t> &order, int64_t begin,
                  int64_t count) {
  kiln::Shape shape = t.shape();
  int64_t row = t.size() / shape[0];
  shape[0] = count;
  kiln::Tensor out(kiln::f32, shape);
  for (int64_t i = 0; i < count; ++i)
    std::copy_n(t.data<float>().data() + order[size_t(begin + i)] * row, row,
                out.data<float>().data() + i * row);
  return out;
}

} // namespace

int main(int argc, char **argv) try {
  CLI::App app("Forecast a noisy sum of sines with an LSTM");
  int epochs = 20, threads = 0;
  int64_t window = 32, ahead = 8, hidden = 32, points = 6000, batch_size = 64;
  double beat = 0;
  app.add_option("--epochs", epochs, "passes over the training windows");
  app.add_option("--window", window, "input steps");
  app.add_option("--ahead", ahead, "how many steps after the window the target lies");
  app.add_option("--hidden", hidden, "the LSTM's hidden size");
  app.add_option("--points", points, "length of the series");
  app.add_option("--threads", threads, "worker threads (0: all cores)");
  app.add_option("--beat", beat,
                 "fail (exit 1) unless the test MSE is this many times below persistence's");
  CLI11_PARSE(app, argc, argv);

  kiln::Graph g;
  auto x = kiln::placeholder(g, "x", kiln::f32, {kiln::batch, window, 1});
  auto y = kiln::placeholder(g, "y", kiln::f32, {kiln::batch, 1});
  auto prediction = kiln::nn::dense(g, kiln::nn::lstm(g, x, hidden, {.seed = 0}), 1);
  auto loss = kiln::nn::mse(prediction, y, "loss");
  auto train = kiln::optim::Adam{.lr = 3e-3}.minimize(loss);

  std::vector<float> series = noisy_sines(points, 0);
  int64_t split = points * 8 / 10;
  Windows train_set = windows(series, 0, split, window, ahead);
  Windows test_set = windows(series, split, points, window, ahead);
  fmt::print("LSTM {} over windows of {}, {} steps ahead: {} training and {} test windows\n",
             hidden, window, ahead, train_set.targets.shape()[0], test_set.targets.shape()[0]);

  kiln::Session session(g, {.threads = threads});
  std::vector<int64_t> order(size_t(train_set.targets.shape()[0]));
  std::iota(order.begin(), order.end(), 0);
  std::mt19937_64 rng(1);
  auto start = std::chrono::steady_clock::now();
  for (int e = 0; e < epochs; ++e) {
    std::shuffle(order.begin(), order.end(), rng);
    double total = 0;
    int64_t full = int64_t(order.size()) / batch_size; // whole batches: one compiled step
    for (int64_t b = 0; b < full; ++b) {
      kiln::Feeds feeds = {{x, rows(train_set.inputs, order, b * batch_size, batch_size)},
                           {y, rows(train_set.targets, order, b * batch_size, batch_size)}};
      total += session.run(feeds, {loss}, {train})[0].get(0);
    }
    if (e % 5 == 4 || e + 1 == epochs)
      fmt::print("epoch {}: training MSE {:.4f}\n", e + 1, total / double(full));
  }
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  double test_mse = session.run({{x, test_set.inputs}, {y, test_set.targets}}, {loss})[0].get(0);
  fmt::print("test MSE {:.4f}, persistence baseline {:.4f} ({:.1f}x better), {:.1f} s of "
             "training ({:.1f} s compiling)\n",
             test_mse, test_set.persistence_mse, test_set.persistence_mse / test_mse, seconds,
             session.stats().total_compile_ms / 1000);
  if (beat > 0 && test_mse * beat > test_set.persistence_mse) {
    fmt::print(stderr, "sine_lstm: test MSE {:.4f} is not {}x below persistence's {:.4f}\n",
               test_mse, beat, test_set.persistence_mse);
    return 1;
  }
} catch (const std::exception &e) {
  fmt::print(stderr, "sine_lstm: error: {}\n", e.what());
  return 1;
}
