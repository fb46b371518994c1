// Logistic regression on a linearly separable set: two Gaussian blobs in 2-D
// on either side of a line. Plain SGD drives the loss toward 0 and the
// accuracy to 100%.
//
//   logistic_regression [--steps 300] [--seed 0]
#include "frontends/losses.h"
#include "frontends/nn.h"
#include "frontends/optim.h"
#include "session/session.h"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <random>

int main(int argc, char **argv) try {
  CLI::App app("Logistic regression on two separable blobs");
  int steps = 300;
  unsigned seed = 0;
  app.add_option("--steps", steps, "full-batch SGD steps");
  app.add_option("--seed", seed, "seeds the data");
  CLI11_PARSE(app, argc, argv);

  // 200 points: label 1 around (2, 2), label 0 around (-2, -2).
  constexpr int64_t kPoints = 200;
  std::mt19937 rng(seed);
  std::normal_distribution<float> noise(0, 0.7f);
  kiln::Tensor inputs(kiln::f32, {kPoints, 2}), labels(kiln::f32, {kPoints, 1});
  for (int64_t i = 0; i < kPoints; ++i) {
    float center = i % 2 ? 2.f : -2.f;
    inputs.set(2 * i, center + noise(rng));
    inputs.set(2 * i + 1, center + noise(rng));
    labels.set(i, double(i % 2));
  }

  kiln::Graph g;
  auto x = kiln::placeholder(g, "x", kiln::f32, {kiln::batch, 2});
  auto y = kiln::placeholder(g, "y", kiln::f32, {kiln::batch, 1});
  auto logit = kiln::nn::dense(g, x, 1, {}, {.seed = 1});
  auto loss = kiln::mean(kiln::nn::sigmoid_cross_entropy(logit, y), {}, false, "loss");
  auto train = kiln::optim::SGD{.lr = 0.5}.minimize(loss);
  auto correct = kiln::mean(
      kiln::cast(kiln::equal(kiln::greater(logit, 0.0), kiln::greater(y, 0.5)), kiln::f32), {},
      false, "accuracy");

  kiln::Session s(g);
  kiln::Feeds feeds = {{x, inputs}, {y, labels}};
  for (int i = 1; i <= steps; ++i) {
    auto r = s.run(feeds, {loss, correct}, {train});
    if (i % 50 == 0)
      fmt::print("step {:4d}  loss {:.5f}  accuracy {:.1f}%\n", i, r[0].get(0), 100 * r[1].get(0));
  }
  double accuracy = s.run(feeds, {correct})[0].get(0);
  fmt::print("final accuracy {:.1f}%\n", 100 * accuracy);
  return accuracy == 1 ? 0 : 1;
} catch (const std::exception &e) {
  fmt::print(stderr, "logistic_regression: error: {}\n", e.what());
  return 1;
}
