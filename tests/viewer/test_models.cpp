// Writes what tests/viewer/viewer_test.sh opens in the viewer: the training
// graphs of the MLP and of the conv net with batch norm (examples/models.h,
// Adam), a deep narrow MLP's (thousands of nodes) and a Chrome trace of three
// MLP training steps; a chain of 1,000 nodes in no scope; a matmul with sum_batch; and two run
// logs of a small classifier (fit, SGD at two learning rates) for kiln plot.
//
//   viewer_test_models DIR
#include "examples/models.h"
#include "frontends/losses.h"
#include "frontends/optim.h"
#include "ir/serialize.h"
#include "session/profile.h"
#include "session/session.h"
#include "session/trainer.h"

#include <fmt/format.h>

#include <filesystem>
#include <random>
#include <vector>

namespace {

kiln::Value classifier_loss(kiln::Value logits, kiln::Value labels) {
  return kiln::mean(kiln::nn::softmax_cross_entropy(logits, labels), {}, false, "loss");
}

void save_mlp(const std::filesystem::path &dir) {
  kiln::Graph g;
  auto x = kiln::placeholder(g, "x", kiln::f32, {kiln::batch, 784});
  auto y = kiln::placeholder(g, "y", kiln::i32, {kiln::batch});
  auto loss = classifier_loss(kiln::models::mlp(g, x, 0), y);
  auto train = kiln::optim::Adam{.lr = 1e-3}.minimize(loss);
  kiln::save_graph(g, dir / "mlp.kiln");

  kiln::Session s(g, {.threads = 1, .profile = true});
  std::vector<float> pixels(16 * 784, 0.5f);
  std::vector<int32_t> labels(16, 3);
  kiln::Feeds feeds = {{x, kiln::Tensor::from<float>({16, 784}, pixels)},
                       {y, kiln::Tensor::from<int32_t>({16}, labels)}};
  for (int step = 0; step < 3; ++step) s.run(feeds, {loss}, {train});
  kiln::write_chrome_trace(s.profile(), dir / "mlp_trace.json");
}

void save_convnet(const std::filesystem::path &dir) {
  kiln::Graph g;
  auto x = kiln::placeholder(g, "x", kiln::f32, {kiln::batch, 1, 28, 28});
  auto y = kiln::placeholder(g, "y", kiln::i32, {kiln::batch});
  auto training = kiln::placeholder(g, "training", kiln::boolean, {});
  auto loss = classifier_loss(kiln::models::convnet(g, x, training, 0), y);
  kiln::optim::Adam{.lr = 1e-3}.minimize(loss);
  kiln::save_graph(g, dir / "convnet.kiln");
}

// 60 dense layers of 16 units: a training graph of a few thousand nodes.
void save_deep_mlp(const std::filesystem::path &dir) {
  kiln::Graph g;
  auto x = kiln::placeholder(g, "x", kiln::f32, {kiln::batch, 16});
  auto y = kiln::placeholder(g, "y", kiln::i32, {kiln::batch});
  kiln::Value h = x;
  for (int i = 0; i < 60; ++i) h = kiln::nn::dense(g, h, 16, kiln::nn::relu, {.seed = i});
  auto loss = classifier_loss(h, y);
  kiln::optim::Adam{.lr = 1e-3}.minimize(loss);
  kiln::save_graph(g, dir / "deep_mlp.kiln");
}

// 1,000 nodes in no scope: one level that the viewer splits into runs.
void save_chain(const std::filesystem::path &dir) {
  kiln::Graph g;
  kiln::Value h = kiln::placeholder(g, "x", kiln::f32, {kiln::batch, 4});
  for (int i = 0; i < 999; ++i) h = i % 2 ? kiln::relu(h) : kiln::tanh(h);
  kiln::save_graph(g, dir / "chain.kiln");
}

// A weight's gradient shared by every batch, as autodiff builds it for
// x W with x [N, 3, 4]: a matmul with sum_batch (for the ONNX export test).
void save_summed_product(const std::filesystem::path &dir) {
  kiln::Graph g;
  kiln::Value a = kiln::placeholder(g, "a", kiln::f32, {kiln::batch, 3, 4});
  kiln::Value b = kiln::placeholder(g, "b", kiln::f32, {kiln::batch, 3, 5});
  kiln::matmul(a, b, {.transpose_a = true, .sum_batch = true}, "summed");
  kiln::save_graph(g, dir / "summed_product.kiln");
}

// Two gaussian blobs in 8 dimensions, labels 0 and 1.
kiln::Dataset blobs(int64_t n, uint64_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> noise(0, 1);
  std::vector<float> x(static_cast<size_t>(n) * 8);
  std::vector<int32_t> y(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    y[size_t(i)] = int32_t(i % 2);
    for (int j = 0; j < 8; ++j) x[size_t(i * 8 + j)] = noise(rng) + (y[size_t(i)] ? 1.0f : -1.0f);
  }
  return {kiln::Tensor::from<float>({n, 8}, x), kiln::Tensor::from<int32_t>({n}, y)};
}

void save_run_log(const std::filesystem::path &dir, double lr) {
  kiln::Graph g;
  auto x = kiln::placeholder(g, "x", kiln::f32, {kiln::batch, 8});
  auto y = kiln::placeholder(g, "y", kiln::i32, {kiln::batch});
  auto logits = kiln::nn::dense(g, x, 2, {}, {.seed = 1});
  auto loss = classifier_loss(logits, y);
  auto train = kiln::optim::SGD{.lr = lr}.minimize(loss);
  kiln::Classifier model{x, y, loss, kiln::nn::accuracy(logits, y), train};
  kiln::Session s(g, {.threads = 1});
  kiln::fit(s, model, blobs(512, 1), blobs(128, 2),
            {.epochs = 3,
             .batch_size = 16,
             .progress = false,
             .run_log = (dir / fmt::format("sgd_{}.jsonl", lr)).string()});
}

} // namespace

int main(int argc, char **argv) try {
  if (argc != 2) {
    fmt::print(stderr, "usage: viewer_test_models DIR\n");
    return 2;
  }
  std::filesystem::path dir = argv[1];
  std::filesystem::create_directories(dir);
  save_mlp(dir);
  save_convnet(dir);
  save_deep_mlp(dir);
  save_chain(dir);
  save_summed_product(dir);
  save_run_log(dir, 0.01);
  save_run_log(dir, 0.1);
} catch (const std::exception &e) {
  fmt::print(stderr, "viewer_test_models: error: {}\n", e.what());
  return 1;
}
