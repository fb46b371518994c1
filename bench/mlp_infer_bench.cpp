// Forward pass of the MLP 784-512(ReLU)-10, measured the way
// shared/peers/torch_mlp_infer.py measures PyTorch, so the two print
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

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <random>

namespace {

using Clock = std::chrono::steady_clock;

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

void result(const std::string &name, const std::vector<double> &samples, const char *unit) {
  fmt::print("RESULT name={} value={:.6g} unit={} min={:.6g} max={:.6g} n={}\n", name,
             median(samples), unit, *std::min_element(samples.begin(), samples.end()),
             *std::max_element(samples.begin(), samples.end()), samples.size());
}

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

  std::vector<double> block_medians;
  for (int block = 0; block < 7; ++block) {
    std::vector<double> calls;
    for (int i = 0; i < 2000 + (block == 0 ? 200 : 0); ++i) {
      auto start = Clock::now();
      session.run({{x, x1}}, {logits});
      calls.push_back(std::chrono::duration<double, std::micro>(Clock::now() - start).count());
    }
    if (block == 0) calls.erase(calls.begin(), calls.begin() + 200); // warm-up
    block_medians.push_back(median(calls));
  }
  result("kiln_mlp_infer.b1.t" + t + ".latency", block_medians, "us");

  std::vector<double> throughput;
  for (int i = 0; i < 20; ++i) session.run({{x, x256}}, {logits}); // warm-up
  for (int block = 0; block < 7; ++block) {
    auto start = Clock::now();
    for (int i = 0; i < 50; ++i) session.run({{x, x256}}, {logits});
    double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    throughput.push_back(256 * 50 / seconds);
  }
  result("kiln_mlp_infer.b256.t" + t + ".throughput", throughput, "examples/s");
}
