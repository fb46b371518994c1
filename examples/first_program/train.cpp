// The README's first program: an MLP trained on Fashion-MNIST, built against
// an installed kiln (CMakeLists.txt beside it). `train [EPOCHS]`, 5 by default.
#include <kiln/kiln.h>

#include <cstdio>
#include <cstdlib>

int main(int argc, char **argv) {
  int epochs = argc > 1 ? std::atoi(argv[1]) : 5;

  kiln::Graph g;
  auto x = kiln::placeholder(g, "x", kiln::f32, {kiln::batch, 784}); // batch: symbolic
  auto y = kiln::placeholder(g, "y", kiln::i32, {kiln::batch});
  auto h = kiln::nn::dense(g, x, 512, kiln::nn::relu); // creates dense/W, dense/b
  auto logits = kiln::nn::dense(g, h, 10);
  auto loss = kiln::mean(kiln::nn::softmax_cross_entropy(logits, y));
  auto correct = kiln::nn::accuracy(logits, y);
  auto train = kiln::optim::Adam{.lr = 1e-3}.minimize(loss); // gradients are graph nodes

  kiln::Session session(g, {.threads = 2}); // variables initialized
  kiln::Batches batches(kiln::load_fashion_mnist("train"), {.batch_size = 64});
  for (int epoch = 0; epoch < epochs; ++epoch)
    for (auto [images, labels] : batches.epoch(epoch))      // reshuffled each epoch
      session.run({{x, images}, {y, labels}}, {}, {train}); // one compiled step

  kiln::Dataset test = kiln::load_fashion_mnist("test");
  auto accuracy = session.run({{x, test.inputs}, {y, test.labels}}, {correct});
  std::printf("test accuracy after %d epochs: %.2f%%\n", epochs,
              100 * accuracy[0].data<float>()[0]);
  kiln::save_checkpoint(session, "mlp.ckpt"); // atomic write
}
