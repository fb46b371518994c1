// Trains the MLP 784-512-10 on Fashion-MNIST (60k train / 10k test, pixels in
// [0, 1], batch 64, reshuffled each epoch) with Adam or SGD with momentum,
// prints progress and test accuracy per epoch, and saves the graph, a
// checkpoint and 8 test images for `kiln run`.
//
//   fashion_mlp [--optimizer adam|momentum] [--epochs 5] [--seed 0] [--limit N] [--out DIR]
//       [--profile [TRACE.json]] [--run-log RUN.jsonl]
//
// Under mpirun it trains data-parallel: `mpirun -np 2 fashion_mlp --threads 1`
// gives each rank 64 items of every 128-item batch and averages the
// gradients; rank 0 prints and saves.
#include "data/npy.h"
#include "frontends/losses.h"
#include "frontends/nn.h"
#include "frontends/optim.h"
#include "ir/serialize.h"
#include "models.h"
#include "session/checkpoint.h"
#include "session/trainer.h"
#include "training_cli.h"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

int main(int argc, char **argv) try {
  CLI::App app("Train an MLP 784-512-10 on Fashion-MNIST");
  std::string optimizer = "adam";
  double lr = 0;
  TrainingCli cli;
  app.add_option("--optimizer", optimizer, "adam (lr 1e-3) or momentum (0.9, lr 0.05)")
      ->check(CLI::IsMember({"adam", "momentum"}));
  app.add_option("--lr", lr, "learning rate (default: the optimizer's above)");
  cli.add_to(app);
  CLI11_PARSE(app, argc, argv);

  kiln::Graph g;
  auto x = kiln::placeholder(g, "x", kiln::f32, {kiln::batch, 784});
  auto y = kiln::placeholder(g, "y", kiln::i32, {kiln::batch});
  int64_t seed = int64_t(cli.fit.seed);
  auto logits = kiln::models::mlp(g, x, seed);
  auto loss = kiln::mean(kiln::nn::softmax_cross_entropy(logits, y), {}, false, "loss");
  auto accuracy = kiln::nn::accuracy(logits, y, "accuracy");
  kiln::argmax(logits, 1, false, "predicted");
  auto train =
      optimizer == "adam"
          ? kiln::optim::Adam{.lr = lr > 0 ? lr : 1e-3}.minimize(loss)
          : kiln::optim::Momentum{.lr = lr > 0 ? lr : 0.05, .momentum = 0.9}.minimize(loss);

  kiln::Dataset train_set = kiln::load_fashion_mnist("train", cli.limit);
  kiln::Dataset test_set = kiln::load_fashion_mnist("test");
  if (cli.lead())
    fmt::print("MLP 784-512-10, {} on {} training images, batch {}, {} epochs\n", optimizer,
               train_set.size(), cli.batch_text(), cli.fit.epochs);
  kiln::Session session(g, cli.session);
  kiln::Classifier classifier{x, y, loss, accuracy, train};
  classifier.learning_rate = learning_rate(g, optimizer);
  auto results = kiln::fit(session, classifier, train_set, test_set, cli.fit);

  bool reached = print_summary(cli, session, results);
  report_profile(cli, session);
  if (!cli.lead()) return 0; // rank 0 saves
  std::filesystem::path dir(cli.out);
  std::filesystem::create_directories(dir);
  kiln::save_graph(g, dir / "mlp.kiln");
  kiln::save_checkpoint(session, dir / "mlp.ckpt");
  kiln::Batch first = kiln::Batches(test_set, {.batch_size = 8, .shuffle = false}).epoch(0)[0];
  kiln::write_npy(dir / "images.npy", first.inputs);
  kiln::write_npy(dir / "labels.npy", first.labels);
  fmt::print("saved {0}/mlp.kiln, {0}/mlp.ckpt and 8 test images in {0}/images.npy\n", cli.out);
  return reached ? 0 : 1;
} catch (const std::exception &e) {
  fmt::print(stderr, "fashion_mlp: error: {}\n", e.what());
  return 1;
}
