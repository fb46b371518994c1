// End to end, CI-sized: models learn, and trained state survives a checkpoint.
#include "frontends/losses.h"
#include "frontends/nn.h"
#include "frontends/normalization.h"
#include "frontends/optim.h"
#include "session/checkpoint.h"
#include "session/trainer.h"
#include "temp_dir.h"
#include "test_util.h"

using namespace kiln;

namespace {

struct Mlp {
  Graph g;
  Classifier model;
};

// The MLP 784-512-10 with Adam and a cosine-decayed rate over `steps`.
std::unique_ptr<Mlp> fashion_mlp(int64_t steps) {
  auto m = std::make_unique<Mlp>();
  Graph &g = m->g;
  Value x = placeholder(g, "x", f32, {batch, 784});
  Value y = placeholder(g, "y", i32, {batch});
  Value logits = nn::dense(g, nn::dense(g, x, 512, nn::relu, {.seed = 1}), 10, {}, {.seed = 2});
  Value loss = mean(nn::softmax_cross_entropy(logits, y));
  Value train = optim::Adam{.lr = optim::cosine_decay(2e-3, steps)}.minimize(loss);
  m->model = {x, y, loss, nn::accuracy(logits, y), train};
  return m;
}

} // namespace

TEST_CASE("the Fashion-MNIST MLP passes 80% after one pass over 10k images", "[train]") {
  Dataset train = load_fashion_mnist("train", 10000), test = load_fashion_mnist("test");
  auto mlp = fashion_mlp((10000 + 31) / 32); // 313 steps: the last batch holds 16 images
  Session s(mlp->g);
  auto r = fit(s, mlp->model, train, test, {.batch_size = 32, .progress = false});
  INFO("test accuracy " << r[0].test_accuracy);
  CHECK(r[0].test_accuracy > 0.80);
}

TEST_CASE("fit trains on every item, the last batch smaller, unless told to drop it", "[train]") {
  std::mt19937 rng(3);
  Dataset train = test::sign_dataset(10, rng), test = test::sign_dataset(7, rng);
  for (bool drop_last : {false, true}) {
    Graph g;
    Classifier model = test::linear_classifier(g, 3);
    Session s(g);
    auto r = fit(
        s, model, train, test,
        {.epochs = 2, .batch_size = 4, .progress = false, .eval_batch = 3, .drop_last = drop_last});
    INFO("drop_last " << drop_last);
    REQUIRE(r.size() == 2);
    // 10 items in batches of 4: 4 + 4 + 2, or 4 + 4 with drop_last.
    CHECK(r[1].steps == (drop_last ? 2 : 3));
    CHECK(r[1].items == (drop_last ? 8 : 10));
    CHECK(s.variable("global_step").get(0) == (drop_last ? 4 : 6));
    CHECK(std::isfinite(r[1].mean_loss));
    // Training programs for batches 4 (and 2); evaluation for 3 and 1 (7 test items).
    CHECK(s.stats().compilations == (drop_last ? 3 : 4));
    CHECK(r[0].compile_seconds > 0);
    CHECK(r[1].compile_seconds == 0);
    CHECK(r[0].compile_seconds <= r[0].train_seconds);
  }
}

TEST_CASE("evaluate counts every item, the last batch smaller", "[train]") {
  // The inputs are the logits: items 2 and 6 (the last batch of 3 + 3 + 1)
  // are wrong, so accuracy is 5/7 (5/6 if the last batch were dropped).
  Graph g;
  Value x = placeholder(g, "x", f32, {batch, 2});
  Value y = placeholder(g, "y", i32, {batch});
  Value accuracy = nn::accuracy(x, y);
  Dataset data{Tensor::from<float>({7, 2}, {1, 0, 0, 1, 1, 0, 1, 0, 0, 1, 0, 1, 1, 0}),
               Tensor::from<int32_t>({7}, {0, 1, 1, 0, 1, 1, 1})};
  Session s(g);
  CHECK(evaluate(s, {x, y, accuracy, accuracy, accuracy}, data, 3) == Approx(5.0 / 7));
  CHECK(evaluate(s, {x, y, accuracy, accuracy, accuracy}, data, 7) == Approx(5.0 / 7));
}

TEST_CASE("a trained model restored from a checkpoint gives bit-identical outputs", "[train]") {
  // A small conv-free model with batch norm and dropout, so running
  // statistics, optimizer slots and the step counter all matter.
  Graph g;
  Value x = placeholder(g, "x", f32, {batch, 6});
  Value y = placeholder(g, "y", i32, {batch});
  Value training = placeholder(g, "training", boolean, {});
  Value h = nn::dense(g, x, 16, {}, {.seed = 1});
  h = nn::dropout(g, relu(nn::batch_norm(g, h, training)), 0.25, training, 7);
  Value logits = nn::dense(g, h, 3, {}, {.seed = 2});
  Value loss = mean(nn::softmax_cross_entropy(logits, y));
  Value train = optim::Adam{.lr = 0.01}.minimize(loss);

  std::mt19937 rng(5);
  Tensor xs = test::random_tensor(f32, {8, 6}, rng);
  Tensor ys = test::random_tensor(i32, {8}, rng, 0, 2);
  Feeds step = {{x, xs}, {y, ys}, {training, Tensor::scalar(uint8_t{1})}};
  Feeds infer = {{x, xs}, {training, Tensor::scalar(uint8_t{0})}};
  test::TempDir dir;
  Session trained(g);
  for (int i = 0; i < 20; ++i) trained.run(step, {}, {train});
  save_checkpoint(trained, dir / "model.ckpt");

  Session restored(g);
  restore_checkpoint(restored, dir / "model.ckpt");
  CHECK(restored.variable("global_step").get(0) == 20);
  for (const Feeds &feeds : {infer, step}) {
    Tensor a = trained.run(feeds, {logits})[0], b = restored.run(feeds, {logits})[0];
    CHECK(std::memcmp(a.raw(), b.raw(), a.bytes()) == 0);
  }
  // Training on from both gives the same state too.
  trained.run(step, {}, {train});
  restored.run(step, {}, {train});
  Tensor a = trained.run(infer, {logits})[0], b = restored.run(infer, {logits})[0];
  CHECK(std::memcmp(a.raw(), b.raw(), a.bytes()) == 0);
}

TEST_CASE("batch norm uses batch statistics in training and running ones otherwise", "[train]") {
  Graph g;
  Value x = placeholder(g, "x", f64, {batch, 2, 1, 2});
  Value training = placeholder(g, "training", boolean, {});
  constexpr double eps = 1e-5;
  Value y = nn::batch_norm(g, x, training, {.momentum = 0.5, .epsilon = eps});
  Value loss = sum(y * y);
  Value step = optim::SGD{.lr = 0.0}.minimize(loss);
  // Channel 0 holds 1, 3, 5, 7 (mean 4, biased variance 5); channel 1 is constant.
  Tensor xs = Tensor::from<double>({2, 2, 1, 2}, {1, 3, 2, 2, 5, 7, 2, 2});
  Session s(g);
  Tensor normalized = s.run({{x, xs}, {training, Tensor::scalar(uint8_t{1})}}, {y})[0];
  CHECK(normalized.get(0) == Approx(-3 / std::sqrt(5.0 + eps)).epsilon(1e-12));
  CHECK(normalized.get(2) == 0); // a constant channel centers to 0
  s.run({{x, xs}, {training, Tensor::scalar(uint8_t{1})}}, {}, {step});
  // running = 0.5 * initial + 0.5 * batch; the variance unbiased (20 / 3).
  Tensor mean = s.variable("batch_norm/running_mean"), var = s.variable("batch_norm/running_var");
  CHECK(mean.get(0) == Approx(2.0));
  CHECK(var.get(0) == Approx(0.5 + 0.5 * 20.0 / 3));
  Tensor inference = s.run({{x, xs}, {training, Tensor::scalar(uint8_t{0})}}, {y})[0];
  CHECK(inference.get(0) ==
        Approx((1 - 2.0) / std::sqrt(0.5 + 0.5 * 20.0 / 3 + eps)).epsilon(1e-12));
}

TEST_CASE("dropout zeroes a fraction, scales the rest and draws anew each step", "[train]") {
  Graph g;
  Value x = placeholder(g, "x", f32, {batch, 1000});
  Value training = placeholder(g, "training", boolean, {});
  Value y = nn::dropout(g, x, 0.3, training, 11);
  Value tick = assign_add(optim::global_step(g), int64_t{1});
  Tensor ones(f32, {4, 1000});
  for (int64_t i = 0; i < ones.size(); ++i) ones.set(i, 1);
  Session s(g);
  Tensor off = s.run({{x, ones}, {training, Tensor::scalar(uint8_t{0})}}, {y})[0];
  CHECK(test::compare(off, ones, 0) == "");
  Tensor first = s.run({{x, ones}, {training, Tensor::scalar(uint8_t{1})}}, {y})[0];
  int64_t zeros = 0;
  for (int64_t i = 0; i < first.size(); ++i) {
    zeros += first.get(i) == 0;
    if (first.get(i) != 0) CHECK(first.get(i) == Approx(1 / 0.7));
  }
  CHECK(std::abs(double(zeros) / double(first.size()) - 0.3) < 0.03);
  s.run({}, {}, {tick});
  Tensor second = s.run({{x, ones}, {training, Tensor::scalar(uint8_t{1})}}, {y})[0];
  CHECK(test::compare(second, first, 0) != "");
}
