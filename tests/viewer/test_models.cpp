// Writes what tests/viewer/viewer_test.sh opens in the viewer: the training
// graphs of the MLP and of the conv net with batch norm (examples/models.h,
// Adam), a deep narrow MLP's (thousands of nodes) and a Chrome trace of three
// MLP training steps.
//
//   viewer_test_models DIR
#include "examples/models.h"
#include "frontends/losses.h"
#include "frontends/optim.h"
#include "ir/serialize.h"
#include "session/profile.h"
#include "session/session.h"

#include <fmt/format.h>

#include <filesystem>
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
} catch (const std::exception &e) {
  fmt::print(stderr, "viewer_test_models: error: {}\n", e.what());
  return 1;
}
