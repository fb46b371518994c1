// Forward pass of the MLP 784-512(ReLU)-10, measured the way
// bench/torch_mlp_infer.py measures PyTorch, so the two print
// comparable RESULT lines:
// - batch 1 latency: every call timed on its own; value = median over 7
//   blocks of each block's median (2000 calls a block), min/max = the
//   fastest/slowest block median;
// - batch 256 throughput: 7 blocks of 50 calls, examples/s per block.
// Also prints the JIT compile time of the model for each batch size.
//
//   mlp_infer_bench [--threads N]
#include "frontends/nn.h"
#include "session/session.h"
#include "timing.h"

#include <fmt/format.h>

#include <cstring>
#include <random>

namespace {

kiln::Tensor random_batch(int64_t n) {
  std::mt19937 rng(0);
  std::normal_distribution<float> normal;
  kiln::Tensor t(kiln::f32, {n, 784});
  for (float &v : t.data<float>()) v = normal(rng);
  return t;
}

} // namespace

int main(int argc, char **argv) {
  int threads = 2;
  for (int i = 1; i + 1 < argc; ++i)
    if (std::strcmp(argv[i], "--threads") == 0) threads = std::atoi(argv[i + 1]);

  kiln::Graph g;
  auto x = kiln::placeholder(g, "x", kiln::f32, {kiln::batch, 784});
  auto logits = kiln::nn::dense(g, kiln::nn::dense(g, x, 512, kiln::nn::relu), 10);
  kiln::Session session(g, {.threads = threads});

  kiln::Tensor x1 = random_batch(1), x256 = random_batch(256);
  std::string t = std::to_string(threads);
  for (auto [batch, input] : {std::pair{1, &x1}, std::pair{256, &x256}}) {
    session.run({{x, *input}}, {logits});
    fmt::print("RESULT name=kiln_mlp_infer.b{}.t{}.compile_time value={:.4g} unit=ms\n", batch, t,
               session.stats().last_compile_ms);
  }

  using kiln::bench::result;
  result("kiln_mlp_infer.b1.t" + t + ".latency", kiln::bench::latency_blocks([&] {
           session.run({{x, x1}}, {logits});
         }),
         "us");
  result("kiln_mlp_infer.b256.t" + t + ".throughput",
         kiln::bench::throughput_blocks(
             [&] {
               session.run({{x, x256}}, {logits});
             },
             256),
         "examples/s");
}
