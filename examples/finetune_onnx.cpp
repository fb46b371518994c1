// Fine-tunes a classifier imported from ONNX on Fashion-MNIST: the float
// initializers become trainable variables (batch norm's running statistics
// stay statistics: the optimizer does not train them), a loss and Adam are
// added to the imported graph, and after training the graph and checkpoint
// are saved for `kiln compile` (ahead of time, training step included) and
// `kiln export` (back to ONNX, with the trained weights). The model's input
// is a batch of images [N, 1, 28, 28] or [N, 784]; its output, scores over
// the 10 classes (logits or log-probabilities).
//
//   finetune_onnx MODEL.onnx [--input x] [--output y] [--lr 1e-3] [--epochs 5]
//       [--limit N] [--out DIR] [--min-accuracy P] (and the training options of
//       fashion_conv)
#include "frontends/losses.h"
#include "frontends/optim.h"
#include "ir/serialize.h"
#include "onnx/import.h"
#include "session/checkpoint.h"
#include "session/trainer.h"
#include "training_cli.h"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

int main(int argc, char **argv) try {
  CLI::App app("Fine-tune an ONNX classifier on Fashion-MNIST");
  std::string model, input = "x", output = "y";
  double lr = 1e-3;
  TrainingCli cli;
  app.add_option("model", model, "ONNX model (.onnx)")->required()->check(CLI::ExistingFile);
  app.add_option("--input", input, "the model's input, images");
  app.add_option("--output", output, "the model's output, scores over the 10 classes");
  app.add_option("--lr", lr, "Adam's learning rate");
  cli.add_to(app);
  CLI11_PARSE(app, argc, argv);

  kiln::OnnxModel imported = kiln::import_onnx(model, {.trainable = true});
  kiln::Graph &g = imported.graph;
  auto node = [&](const std::string &name) {
    std::optional<kiln::NodeId> id = g.find(name);
    if (!id) throw std::runtime_error(fmt::format("{} has no value '{}'", model, name));
    return kiln::Value{&g, *id};
  };
  kiln::Value x = node(input), scores = node(output);
  auto y = kiln::placeholder(g, "labels", kiln::i32, {kiln::batch});
  auto loss = kiln::mean(kiln::nn::softmax_cross_entropy(scores, y), {}, false, "loss");
  auto accuracy = kiln::nn::accuracy(scores, y, "accuracy");
  auto train = kiln::optim::Adam{.lr = lr}.minimize(loss);

  kiln::Shape shape = x.shape(), item(shape.begin() + 1, shape.end()); // less the batch dim
  kiln::Dataset train_set = kiln::load_fashion_mnist("train", cli.limit, item);
  kiln::Dataset test_set = kiln::load_fashion_mnist("test", 0, item);
  kiln::Session session(g, cli.session);
  for (const auto &[id, value] : imported.variables) session.set_variable(id, value);
  kiln::Classifier classifier{x, y, loss, accuracy, train};
  double before = kiln::evaluate(session, classifier, test_set, cli.fit.eval_batch);
  fmt::print("{}: {} trainable variables imported, test accuracy {:.2f}% before training\n", model,
             imported.variables.size(), 100 * before);
  auto results = kiln::fit(session, classifier, train_set, test_set, cli.fit);

  bool reached = print_summary(cli, session, results);
  std::filesystem::path dir(cli.out);
  std::filesystem::create_directories(dir);
  kiln::save_graph(g, dir / "finetuned.kiln");
  kiln::save_checkpoint(session, dir / "finetuned.ckpt");
  fmt::print("saved {0}/finetuned.kiln and {0}/finetuned.ckpt (train target '{1}', loss 'loss')\n",
             cli.out, train.name());
  return reached ? 0 : 1;
} catch (const std::exception &e) {
  fmt::print(stderr, "finetune_onnx: error: {}\n", e.what());
  return 1;
}
