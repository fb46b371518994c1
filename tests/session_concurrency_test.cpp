// One Session run from many threads at once: inference runs proceed side by
// side and give the results of a serial run, bit for bit; training runs
// (which update variables) run alone and are all counted; each program is
// compiled once however many threads ask for it.
#include "ops/builder.h"
#include "session/session.h"
#include "test_util.h"

#include <catch2/catch.hpp>

#include <cstring>
#include <random>
#include <thread>

using namespace kiln;

TEST_CASE("session: 8 threads x 10^4 mixed runs on one session equal a serial order",
          "[session][concurrency]") {
  Graph g;
  Value x = placeholder(g, "x", f32, {batch, 64});
  Value w = variable(g, "W", f32, {64, 32}, Init::glorot_uniform(3));
  Value y = relu(matmul(x, w), "y");
  Value steps = variable(g, "steps", i64, {}, Init::zeros(), /*trainable=*/false);
  Value count = assign_add(steps, constant(g, Tensor::scalar<int64_t>(1)), "count");
  Session session(g, {.threads = 2});

  // Feeds of two batch sizes, and their results from serial runs.
  std::mt19937 rng(5);
  std::vector<Tensor> feeds, expected;
  for (int64_t n : {1, 1, 3, 3}) {
    feeds.push_back(test::random_tensor(f32, {n, 64}, rng));
    expected.push_back(Session(g, {.threads = 1}).run({{x, feeds.back()}}, {y})[0]);
  }

  constexpr int kThreads = 8, kRunsPerThread = 1250; // 10^4 runs
  std::vector<int> mismatches(kThreads), trained(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < kRunsPerThread; ++i) {
        size_t f = size_t(i + t) % feeds.size();
        if ((i + t) % 5 == 0) {
          session.run({{x, feeds[f]}}, {}, {count});
          ++trained[size_t(t)];
          continue;
        }
        Tensor got = session.run({{x, feeds[f]}}, {y})[0];
        mismatches[size_t(t)] += std::memcmp(got.raw(), expected[f].raw(), got.bytes()) != 0;
      }
    });
  for (std::thread &t : threads) t.join();

  int total_trained = 0;
  for (int t = 0; t < kThreads; ++t) {
    CHECK(mismatches[size_t(t)] == 0);
    total_trained += trained[size_t(t)];
  }
  REQUIRE(total_trained == 2000);
  CHECK(session.variable(steps).data<int64_t>()[0] == total_trained);
  // Inference and counting at batch 1 and 3: four programs, each compiled once.
  CHECK(session.stats().compilations == 4);
}
