// What prefetching buys a training loop: fit() on a Fashion-MNIST conv net
// (examples/models.h) with batches prepared between steps (prefetch 0) and
// ahead of them on a background thread, without and with augmentation
// (random crops padded by 2, flips). One row per setting: steps/s and the
// milliseconds a step waited for its batch, min / median / max over the
// epochs of all repeats (steps/s leaves out the runs that compiled, as
// fit() does). The settings take turns, repeat after repeat, so that a
// burst of load from elsewhere on the machine does not fall on one alone.
//
//   pipeline_bench [--model lenet|convnet] [--limit 10000] [--epochs 3] [--repeats 3]
//       [--batch 64] [--prefetch 2] [--threads 0]
#include "data/augment.h"
#include "frontends/losses.h"
#include "frontends/optim.h"
#include "models.h"
#include "session/trainer.h"
#include "timing.h"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <algorithm>

namespace {

struct Setting {
  int64_t prefetch;
  bool augment;
};

struct Samples {
  std::vector<double> steps_per_second, wait_ms_per_step; // one per epoch
};

// One fit() of a fresh model, its epochs added to `samples`.
void train(const std::string &model, const kiln::Dataset &train_set, const kiln::Dataset &test_set,
           const kiln::FitOptions &options, int threads, Samples &samples) {
  kiln::Graph g;
  auto x = kiln::placeholder(g, "x", kiln::f32, {kiln::batch, 1, 28, 28});
  auto y = kiln::placeholder(g, "y", kiln::i32, {kiln::batch});
  auto training = kiln::placeholder(g, "training", kiln::boolean, {});
  kiln::Value logits =
      model == "lenet" ? kiln::models::lenet(g, x, 0) : kiln::models::convnet(g, x, training, 0);
  auto loss = kiln::mean(kiln::nn::softmax_cross_entropy(logits, y));
  auto accuracy = kiln::nn::accuracy(logits, y);
  auto step = kiln::optim::Adam{.lr = 1e-3}.minimize(loss);
  kiln::Session s(g, {.threads = threads});
  kiln::Classifier classifier{x, y, loss, accuracy, step, training};
  for (const kiln::EpochResult &r : kiln::fit(s, classifier, train_set, test_set, options)) {
    samples.steps_per_second.push_back(r.steps_per_second);
    samples.wait_ms_per_step.push_back(1e3 * r.data_wait_seconds / double(r.steps));
  }
}

std::string spread(const std::vector<double> &v, const char *format) {
  auto [low, high] = std::minmax_element(v.begin(), v.end());
  return fmt::format("{:>8} {:>8} {:>8}", fmt::format(fmt::runtime(format), *low),
                     fmt::format(fmt::runtime(format), kiln::bench::median(v)),
                     fmt::format(fmt::runtime(format), *high));
}

} // namespace

int main(int argc, char **argv) try {
  CLI::App app("fit() with and without prefetching and augmentation");
  std::string model = "lenet";
  int64_t limit = 10000, prefetch = 2;
  int threads = 0, repeats = 3;
  kiln::FitOptions options{.epochs = 3, .progress = false};
  app.add_option("--model", model)->check(CLI::IsMember({"lenet", "convnet"}));
  app.add_option("--limit", limit, "training images");
  app.add_option("--epochs", options.epochs, "epochs per fit() (each one a sample)");
  app.add_option("--repeats", repeats, "fit() calls per setting, the settings taking turns");
  app.add_option("--batch", options.batch_size);
  app.add_option("--prefetch", prefetch, "the prefetch depth of the prefetching rows");
  app.add_option("--threads", threads, "the session's worker threads (0: all cores)");
  CLI11_PARSE(app, argc, argv);

  kiln::Dataset train_set = kiln::load_fashion_mnist("train", limit, {1, 28, 28});
  kiln::Dataset test_set = kiln::load_fashion_mnist("test", 1000, {1, 28, 28});
  fmt::print("{} on {} images, batch {}, {} x {} epochs a setting (min / median / max)\n\n", model,
             train_set.size(), options.batch_size, repeats, options.epochs);
  const Setting settings[] = {{0, false}, {prefetch, false}, {0, true}, {prefetch, true}};
  Samples samples[std::size(settings)];
  for (int r = 0; r < repeats; ++r)
    for (size_t i = 0; i < std::size(settings); ++i) {
      options.prefetch = settings[i].prefetch;
      options.augment.clear();
      if (settings[i].augment) options.augment = {kiln::random_crop(2), kiln::random_flip()};
      train(model, train_set, test_set, options, threads, samples[i]);
    }
  fmt::print("{:<10} {:<8} | {:^26} | {:^26}\n", "prefetch", "augment", "steps/s",
             "data wait, ms/step");
  for (size_t i = 0; i < std::size(settings); ++i)
    fmt::print("{:<10} {:<8} | {} | {}\n", settings[i].prefetch, settings[i].augment ? "yes" : "no",
               spread(samples[i].steps_per_second, "{:.1f}"),
               spread(samples[i].wait_ms_per_step, "{:.3f}"));
} catch (const std::exception &e) {
  fmt::print(stderr, "pipeline_bench: error: {}\n", e.what());
  return 1;
}
