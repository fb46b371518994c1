// A variational autoencoder on Fashion-MNIST (Kingma and Welling): an
// encoder 784-512-(mu, log_var) of a 20-dim latent, z drawn with the
// reparameterization trick, a decoder 20-512-784 of Bernoulli logits; the
// loss is the negative ELBO per image, the pixels' binary cross-entropy
// summed plus KL(q(z|x) || N(0, 1)), trained with Adam. Prints the test
// ELBO (nats per image, one z sample per image) and writes out/vae_samples.png
// (decoded z ~ N(0, 1)) and out/vae_reconstructions.png (test images above
// their reconstructions). Exits with status 1 when the test ELBO is below
// --min-elbo.
//
//   fashion_vae [--epochs 10] [--limit N] [--threads 0] [--out out] [--min-elbo 0]
#include "data/dataset.h"
#include "frontends/losses.h"
#include "frontends/nn.h"
#include "frontends/optim.h"
#include "frontends/sampling.h"
#include "png_grid.h"
#include "session/session.h"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <chrono>
#include <random>

namespace {

constexpr int64_t kLatent = 20, kHidden = 512, kPixels = 784;

// The decoder's weights, made once and applied twice: to the encoder's z
// and to z fed from N(0, 1) for samples.
struct Decoder {
  kiln::Value W1, b1, W2, b2;
  explicit Decoder(kiln::Graph &g) {
    kiln::Scope scope(g, "decoder");
    W1 = kiln::variable(g, "W1", kiln::f32, {kLatent, kHidden}, kiln::Init::glorot_uniform());
    b1 = kiln::variable(g, "b1", kiln::f32, {kHidden});
    W2 = kiln::variable(g, "W2", kiln::f32, {kHidden, kPixels}, kiln::Init::glorot_uniform());
    b2 = kiln::variable(g, "b2", kiln::f32, {kPixels});
  }
  kiln::Value logits(kiln::Value z) const {
    return kiln::matmul(kiln::relu(kiln::matmul(z, W1) + b1), W2) + b2;
  }
};

} // namespace

int main(int argc, char **argv) try {
  CLI::App app("Train a variational autoencoder on Fashion-MNIST");
  int epochs = 10, threads = 0;
  int64_t limit = 0, batch_size = 128;
  std::string out = "out";
  double min_elbo = 0;
  app.add_option("--epochs", epochs, "passes over the training set");
  app.add_option("--limit", limit, "train on the first N images only (0: all)");
  app.add_option("--threads", threads, "worker threads (0: all cores)");
  app.add_option("--out", out, "where the PNG grids go");
  app.add_option("--min-elbo", min_elbo,
                 "fail (exit 1) when the test ELBO is below this (a negative number; 0: never)");
  CLI11_PARSE(app, argc, argv);

  kiln::Graph g;
  auto x = kiln::placeholder(g, "x", kiln::f32, {kiln::batch, kPixels});
  auto h = kiln::nn::dense(g, x, kHidden, kiln::nn::relu, {.scope = "encoder"});
  auto mu = kiln::nn::dense(g, h, kLatent, {}, {.scope = "mu"});
  auto log_var = kiln::nn::dense(g, h, kLatent, {}, {.scope = "log_var"});
  Decoder decoder(g);
  auto logits = decoder.logits(kiln::nn::reparameterize(g, mu, log_var, 7));
  auto reconstruction = kiln::sigmoid(logits, "reconstruction");
  auto bce = kiln::sum(kiln::nn::sigmoid_cross_entropy(logits, x), {1});
  auto loss = kiln::mean(bce + kiln::nn::gaussian_kl(mu, log_var), {}, false, "loss");
  auto train = kiln::optim::Adam{.lr = 1e-3}.minimize(loss);
  auto z = kiln::placeholder(g, "z", kiln::f32, {kiln::batch, kLatent});
  auto samples = kiln::sigmoid(decoder.logits(z), "samples");

  kiln::Dataset train_set = kiln::load_fashion_mnist("train", limit);
  kiln::Dataset test_set = kiln::load_fashion_mnist("test");
  kiln::Session session(g, {.threads = threads});
  kiln::Batches batches(train_set, {.batch_size = batch_size, .drop_last = true});
  auto start = std::chrono::steady_clock::now();
  for (int e = 0; e < epochs; ++e) {
    double total = 0;
    int64_t steps = 0;
    for (kiln::Batch b : batches.epoch(e)) {
      total += session.run({{x, b.inputs}}, {loss}, {train})[0].get(0);
      ++steps;
    }
    fmt::print("epoch {}: training ELBO {:.1f}\n", e + 1, -total / double(steps));
  }
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  double test_loss = 0;
  for (kiln::Batch b : kiln::Batches(test_set, {.batch_size = 1000, .shuffle = false}).epoch(0))
    test_loss += session.run({{x, b.inputs}}, {loss})[0].get(0) * double(b.inputs.shape()[0]);
  double elbo = -test_loss / double(test_set.size());
  fmt::print("test ELBO {:.1f} nats per image after {} epochs, {:.1f} s of training ({:.1f} s "
             "compiling)\n",
             elbo, epochs, seconds, session.stats().total_compile_ms / 1000);

  std::filesystem::create_directories(out);
  kiln::Tensor zv(kiln::f32, {64, kLatent});
  std::mt19937 rng(0);
  std::normal_distribution<float> normal;
  for (float &v : zv.data<float>()) v = normal(rng);
  write_png_grid(std::filesystem::path(out) / "vae_samples.png",
                 session.run({{z, zv}}, {samples})[0], 28, 8);
  kiln::Batch first = kiln::Batches(test_set, {.batch_size = 32, .shuffle = false}).epoch(0)[0];
  kiln::Tensor recon = session.run({{x, first.inputs}}, {reconstruction})[0];
  kiln::Tensor both(kiln::f32, {64, kPixels});
  for (int64_t i = 0; i < 64; ++i) // rows of 8: 4 rows of originals, 4 of reconstructions
    for (int64_t p = 0; p < kPixels; ++p) {
      int64_t row = i / 8, source = (row / 2) * 8 + i % 8;
      both.set(i * kPixels + p, (row % 2 ? recon : first.inputs).get(source * kPixels + p));
    }
  write_png_grid(std::filesystem::path(out) / "vae_reconstructions.png", both, 28, 8);
  fmt::print("wrote {0}/vae_samples.png and {0}/vae_reconstructions.png\n", out);
  if (min_elbo < 0 && elbo < min_elbo) {
    fmt::print(stderr, "fashion_vae: test ELBO {:.1f} is below --min-elbo {}\n", elbo, min_elbo);
    return 1;
  }
} catch (const std::exception &e) {
  fmt::print(stderr, "fashion_vae: error: {}\n", e.what());
  return 1;
}
