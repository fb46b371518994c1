// XOR with one hidden layer: the smallest problem a linear model cannot
// solve. Trains full-batch with Adam and prints the four predictions.
//
//   xor [--steps 500] [--seed 0]
#include "frontends/losses.h"
#include "frontends/nn.h"
#include "frontends/optim.h"
#include "session/session.h"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

int main(int argc, char **argv) try {
  CLI::App app("Learn XOR with a 2-8-1 network");
  int steps = 500;
  int64_t seed = 0;
  app.add_option("--steps", steps, "full-batch training steps");
  app.add_option("--seed", seed, "seeds the initializers");
  CLI11_PARSE(app, argc, argv);

  kiln::Graph g;
  auto x = kiln::placeholder(g, "x", kiln::f32, {kiln::batch, 2});
  auto y = kiln::placeholder(g, "y", kiln::f32, {kiln::batch, 1});
  auto h = kiln::nn::dense(g, x, 8, kiln::nn::tanh, {.seed = seed});
  auto logit = kiln::nn::dense(g, h, 1, {}, {.seed = seed});
  auto loss = kiln::mean(kiln::nn::sigmoid_cross_entropy(logit, y), {}, false, "loss");
  auto train = kiln::optim::Adam{.lr = 0.05}.minimize(loss);
  auto predicted = kiln::greater(logit, 0.0, "predicted");

  kiln::Tensor inputs = kiln::Tensor::from<float>({4, 2}, {0, 0, 0, 1, 1, 0, 1, 1});
  kiln::Tensor targets = kiln::Tensor::from<float>({4, 1}, {0, 1, 1, 0});
  kiln::Session s(g);
  kiln::Feeds feeds = {{x, inputs}, {y, targets}};
  for (int i = 1; i <= steps; ++i) {
    double l = s.run(feeds, {loss}, {train})[0].get(0);
    if (i % 100 == 0) fmt::print("step {:4d}  loss {:.5f}\n", i, l);
  }
  kiln::Tensor p = s.run(feeds, {predicted})[0];
  int correct = 0;
  for (int i = 0; i < 4; ++i) {
    fmt::print("{} xor {} -> {}\n", inputs.get(2 * i), inputs.get(2 * i + 1), p.get(i));
    correct += p.get(i) == targets.get(i);
  }
  fmt::print("accuracy {}%\n", 25 * correct);
  return correct == 4 ? 0 : 1;
} catch (const std::exception &e) {
  fmt::print(stderr, "xor: error: {}\n", e.what());
  return 1;
}
