// The main job at this stage of kiln: write an MLP 784-512-10 with the C++
// builder, save it, and run it on Fashion-MNIST test images through the JIT.
// The weights are freshly initialized (training comes with the optimizers),
// so the predictions are not meaningful yet; the pipeline is.
//
//   mlp_inference [OUT_DIR]   writes OUT_DIR/mlp.kiln, mlp.kiln.txt, images.npy
#include "frontends/nn.h"
#include "ir/serialize.h"
#include "runtime/idx.h"
#include "runtime/npy.h"
#include "runtime/session.h"

#include <fmt/format.h>

#include <chrono>
#include <filesystem>

int main(int argc, char **argv) try {
  std::filesystem::path out = argc > 1 ? argv[1] : "out";
  std::filesystem::create_directories(out);

  kiln::Graph g;
  auto x = kiln::placeholder(g, "x", kiln::f32, {kiln::batch, 784});
  auto h = kiln::nn::dense(g, x, 512, kiln::nn::relu, {.seed = 1});
  auto logits = kiln::nn::dense(g, h, 10, {}, {.seed = 2});
  auto probs = kiln::softmax(logits, -1, "probs");
  auto predicted = kiln::argmax(probs, -1, false, "predicted");
  kiln::save_graph(g, out / "mlp.kiln");
  kiln::save_graph(g, out / "mlp.kiln.txt");

  kiln::Tensor images =
      kiln::read_idx(kiln::kFashionMnistDir / "t10k-images-idx3-ubyte.gz", 1.0 / 255, 8)
          .reshaped({8, 784});
  kiln::write_npy(out / "images.npy", images);

  kiln::Session session(g);
  auto start = std::chrono::steady_clock::now();
  auto results = session.run({{x, images}}, {probs, predicted});
  double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  fmt::print(
      "saved {0}/mlp.kiln and {0}/mlp.kiln.txt ({1} nodes), {0}/images.npy (8 test images)\n",
      out.string(), g.size());
  fmt::print("first run: {:.1f} ms, of which JIT compilation {:.1f} ms\n", ms,
             session.stats().last_compile_ms);
  for (int64_t i = 0; i < 8; ++i)
    fmt::print("image {}: class {} (p = {:.3f})\n", i, results[1].get(i),
               results[0].get(i * 10 + int64_t(results[1].get(i))));
  return 0;
} catch (const std::exception &e) {
  fmt::print(stderr, "mlp_inference: error: {}\n", e.what());
  return 1;
}
