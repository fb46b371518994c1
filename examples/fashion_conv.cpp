// Trains a conv net on Fashion-MNIST (60k train / 10k test, pixels in [0, 1],
// NCHW [N, 1, 28, 28], batch 64, reshuffled each epoch), printing progress
// and test accuracy per epoch: LeNet-5, a conv net with batch norm and
// dropout, or a residual net (models.h).
//
//   fashion_conv [--model lenet|convnet|resnet] [--epochs 5] [--seed 0] [--limit N] [--out DIR]
//       [--profile [TRACE.json]] [--run-log RUN.jsonl] [--prefetch 2]
//       [--augment | --crop-pad P --flip] [--normalize] [--lr 1e-3] [--cosine]
//       [--weight-decay W]
#include "frontends/losses.h"
#include "frontends/optim.h"
#include "ir/serialize.h"
#include "models.h"
#include "session/checkpoint.h"
#include "session/trainer.h"
#include "training_cli.h"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

int main(int argc, char **argv) try {
  CLI::App app("Train a conv net on Fashion-MNIST");
  std::string model = "lenet";
  TrainingCli cli;
  double lr = 1e-3, weight_decay = 0;
  bool cosine = false;
  app.add_option("--model", model, "lenet, convnet or resnet")
      ->check(CLI::IsMember({"lenet", "convnet", "resnet"}));
  app.add_option("--lr", lr, "Adam's learning rate");
  app.add_flag("--cosine", cosine, "decay the learning rate to 0 along half a cosine over the run");
  app.add_option("--weight-decay", weight_decay, "decoupled weight decay (AdamW's)");
  cli.add_to(app);
  CLI11_PARSE(app, argc, argv);

  kiln::Graph g;
  auto x = kiln::placeholder(g, "x", kiln::f32, {kiln::batch, 1, 28, 28});
  auto y = kiln::placeholder(g, "y", kiln::i32, {kiln::batch});
  auto training = kiln::placeholder(g, "training", kiln::boolean, {});
  int64_t seed = int64_t(cli.fit.seed);
  kiln::Value logits = model == "lenet"     ? kiln::models::lenet(g, x, seed)
                       : model == "convnet" ? kiln::models::convnet(g, x, training, seed)
                                            : kiln::models::resnet(g, x, training, seed);
  auto loss = kiln::mean(kiln::nn::softmax_cross_entropy(logits, y), {}, false, "loss");
  auto accuracy = kiln::nn::accuracy(logits, y, "accuracy");
  kiln::argmax(logits, 1, false, "predicted");

  kiln::Dataset train_set = kiln::load_fashion_mnist("train", cli.limit, {1, 28, 28});
  kiln::Dataset test_set = kiln::load_fashion_mnist("test", 0, {1, 28, 28});
  int64_t batch = cli.fit.batch_size * cli.communicator.size(); // a step's, over every rank
  int64_t steps_per_epoch =
      cli.fit.drop_last ? train_set.size() / batch : (train_set.size() + batch - 1) / batch;
  kiln::optim::Schedule rate =
      cosine ? kiln::optim::cosine_decay(lr, steps_per_epoch * cli.fit.epochs) : lr;
  auto train = kiln::optim::Adam{.lr = rate, .weight_decay = weight_decay}.minimize(loss);
  int64_t parameters = 0;
  for (const kiln::Node &n : g.nodes())
    if (kiln::is_trainable(n)) parameters += kiln::num_elements(n.type.shape);
  if (cli.lead())
    fmt::print("{} ({} parameters), {} lr {}{} on {} training images, batch {}, {} epochs\n", model,
               parameters,
               weight_decay > 0 ? fmt::format("AdamW (decay {})", weight_decay) : "Adam", lr,
               cosine ? " (cosine)" : "", train_set.size(), cli.batch_text(), cli.fit.epochs);
  kiln::Session session(g, cli.session);
  kiln::Classifier classifier{x, y, loss, accuracy, train, training};
  classifier.learning_rate = learning_rate(g, "adam");
  auto results = kiln::fit(session, classifier, train_set, test_set, cli.fit);

  bool reached = print_summary(cli, session, results);
  report_profile(cli, session);
  if (!cli.lead()) return 0; // rank 0 saves
  std::filesystem::path dir(cli.out);
  std::filesystem::create_directories(dir);
  kiln::save_graph(g, dir / (model + ".kiln"));
  kiln::save_checkpoint(session, dir / (model + ".ckpt"));
  fmt::print("saved {0}/{1}.kiln and {0}/{1}.ckpt\n", cli.out, model);
  return reached ? 0 : 1;
} catch (const std::exception &e) {
  fmt::print(stderr, "fashion_conv: error: {}\n", e.what());
  return 1;
}
