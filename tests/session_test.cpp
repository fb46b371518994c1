// Session behaviour: caching per batch size, variables that persist across
// runs, bit-identical results for any thread count, and clear errors for bad
// feeds and fetches.
#include "frontends/nn.h"
#include "runtime/reference.h"
#include "session/session.h"
#include "test_util.h"

#include <atomic>
#include <thread>

using namespace kiln;

namespace {

struct Mlp {
  Graph g;
  Value x, logits, probs;
};

// The README's MLP 784-512-10, seeded.
std::unique_ptr<Mlp> make_mlp() {
  auto m = std::make_unique<Mlp>();
  m->x = placeholder(m->g, "x", f32, {batch, 784});
  Value h = nn::dense(m->g, m->x, 512, nn::relu, {.seed = 1});
  m->logits = nn::dense(m->g, h, 10, {}, {.seed = 2});
  m->probs = softmax(m->logits);
  return m;
}

Tensor random_images(int64_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  return test::random_tensor(f32, {n, 784}, rng, 0, 1);
}

} // namespace

TEST_CASE("the MLP runs compiled and matches the reference kernels", "[session]") {
  auto m = make_mlp();
  Session session(m->g);
  Tensor x = random_images(3, 7);
  std::vector<Tensor> got = session.run({{m->x, x}}, {m->logits, m->probs});
  std::vector<Tensor> want = run_reference(m->g, {{m->x, x}}, {m->logits, m->probs});
  // f32 dot products of length 784 and 512 against double-precision sums.
  CHECK(test::compare(got[0], want[0], 1e-5) == "");
  CHECK(test::compare(got[1], want[1], 1e-5) == "");
}

TEST_CASE("repeated runs give identical results and reuse the compiled code", "[session]") {
  auto m = make_mlp();
  Session session(m->g);
  Tensor x = random_images(4, 8);
  Tensor first = session.run({{m->x, x}}, {m->probs})[0];
  for (int i = 0; i < 3; ++i) CHECK(session.run({{m->x, x}}, {m->probs})[0].identical(first));
  CHECK(session.stats().compilations == 1);
}

TEST_CASE("two batch sizes on one session compile twice and agree row by row", "[session]") {
  auto m = make_mlp();
  Session session(m->g);
  Tensor big = random_images(5, 9);
  Tensor small =
      Tensor::from<float>({1, 784}, std::span<const float>(big.data<float>().data(), 784));
  Tensor out5 = session.run({{m->x, big}}, {m->logits})[0];
  Tensor out1 = session.run({{m->x, small}}, {m->logits})[0];
  CHECK(session.stats().compilations == 2);
  REQUIRE(out5.shape() == Shape{5, 10});
  REQUIRE(out1.shape() == Shape{1, 10});
  for (int j = 0; j < 10; ++j) CHECK(out1.get(j) == Approx(out5.get(j)).epsilon(1e-6));
}

TEST_CASE("variables persist across runs and can be set", "[session]") {
  Graph g;
  Value x = placeholder(g, "x", f32, {2});
  Value w = variable(g, "w", f32, {2}, Init::constant(3));
  Value y = x * w;
  Session session(g);
  Tensor in = Tensor::from<float>({2}, {1, 2});
  CHECK(test::compare(session.run({{x, in}}, {y})[0], Tensor::from<float>({2}, {3, 6}), 0) == "");
  session.set_variable(w, Tensor::from<float>({2}, {-1, 0.5f}));
  CHECK(test::compare(session.run({{x, in}}, {y})[0], Tensor::from<float>({2}, {-1, 1}), 0) == "");
  CHECK(test::compare(session.variable("w"), Tensor::from<float>({2}, {-1, 0.5f}), 0) == "");
  CHECK_THROWS_WITH(session.set_variable(w, Tensor::from<float>({3}, {1, 2, 3})),
                    "variable 'w': expected f32[2], got f32[3]");
}

TEST_CASE("results are bit-identical for 1, 2 and 8 threads", "[session]") {
  auto m = make_mlp();
  Value loss = mean(sum(m->probs * m->logits, {1}));
  Tensor x = random_images(256, 10);
  std::vector<Tensor> baseline;
  for (int threads : {1, 2, 8}) {
    Session session(m->g, {.threads = threads});
    std::vector<Tensor> out = session.run({{m->x, x}}, {m->logits, m->probs, loss});
    if (baseline.empty()) baseline = out;
    for (size_t i = 0; i < out.size(); ++i) {
      INFO(threads << " threads, fetch " << i);
      CHECK(out[i].identical(baseline[i]));
    }
  }
}

TEST_CASE("seeded initializers reproduce and have the right statistics", "[session]") {
  Graph g;
  Value a = variable(g, "a", f32, {400, 300}, Init::glorot_uniform().seed(5));
  Value b = variable(g, "b", f32, {400, 300}, Init::glorot_uniform().seed(5));
  Value c = variable(g, "c", f64, {1000}, Init::normal(2).seed(6));
  Session s1(g), s2(g);
  CHECK(s1.variable(a).identical(s2.variable(a)));
  CHECK(s1.variable(a).identical(s1.variable(b)));
  double limit = std::sqrt(6.0 / 700), mx = 0;
  Tensor va = s1.variable(a);
  for (int64_t i = 0; i < va.size(); ++i) mx = std::max(mx, std::abs(va.get(i)));
  CHECK(mx <= limit);
  CHECK(mx > 0.99 * limit);
  Tensor vc = s1.variable(c);
  double sum = 0, sq = 0;
  for (int64_t i = 0; i < vc.size(); ++i) sum += vc.get(i), sq += vc.get(i) * vc.get(i);
  double mean = sum / 1000, stddev = std::sqrt(sq / 1000 - mean * mean);
  CHECK(std::abs(mean) < 0.2); // 3 standard errors of the mean (2 / sqrt(1000) ~ 0.063)
  CHECK(stddev == Approx(2).epsilon(0.1));
}

TEST_CASE("bad feeds and fetches are clear errors", "[session][errors]") {
  auto m = make_mlp();
  Session session(m->g);
  using Catch::Matchers::Contains;
  CHECK_THROWS_WITH(session.run({{m->x, Tensor(f64, {2, 784})}}, {m->logits}),
                    "feed 'x': expected dtype f32, got f64");
  CHECK_THROWS_WITH(session.run({{m->x, Tensor(f32, {2, 783})}}, {m->logits}),
                    "feed 'x': expected shape [?, 784], got [2, 783]");
  CHECK_THROWS_WITH(session.run({}, {m->logits}),
                    Contains("placeholder 'x' must be fed") && Contains("needs it"));
  CHECK_THROWS_WITH(session.run({{m->x, Tensor(f32, {2, 784})}}, {"nope"}),
                    "no fetch named 'nope'; outputs: softmax");
  CHECK_THROWS_WITH(session.run({{m->x, Tensor(f32, {2, 784})}}, {""}), "a fetch name is empty");
  CHECK_THROWS_WITH(session.run({{"dense/W", Tensor(f32, {784, 512})}}, {m->logits}),
                    "feed 'dense/W': only placeholders can be fed, this is a variable node");
  CHECK_THROWS_WITH(session.run({{m->x, Tensor()}}, {m->logits}), Contains("empty"));
}

TEST_CASE("shape ops keep the batch dim at every batch size", "[session]") {
  Graph g;
  Value x = placeholder(g, "x", f32, {batch, 3, 4});
  Value y = placeholder(g, "y", f32, {batch, 12});
  std::vector<Value> outs = {reshape(x, {-1, 12}) + y,
                             flatten(transpose(x, {0, 2, 1})),
                             concat({slice(x, {0, 1}, {to_end, 3}), x}, 1),
                             sum(x, {0, 2}),
                             broadcast_to(mean(y, {1}, true), {batch, 12}),
                             argmax(reshape(x, {-1, 12}))};
  std::vector<NodeRef> fetches(outs.begin(), outs.end());
  Session session(g);
  std::mt19937 rng(11);
  for (int64_t n : {1, 5, 2}) {
    Feeds feeds = {{x, test::random_tensor(f32, {n, 3, 4}, rng)},
                   {y, test::random_tensor(f32, {n, 12}, rng)}};
    std::vector<Tensor> got = session.run(feeds, fetches);
    std::vector<Tensor> want = run_reference(g, feeds, fetches);
    for (size_t i = 0; i < outs.size(); ++i) {
      INFO("batch " << n << ", " << outs[i].name());
      CHECK(test::compare(got[i], want[i], 1e-6) == "");
    }
  }
  CHECK(session.stats().compilations == 3);
}

TEST_CASE("a failed run leaves the session usable and its variables intact", "[session][errors]") {
  auto m = make_mlp();
  Session session(m->g);
  Tensor before = session.variable("dense/W");
  Tensor x = random_images(2, 12);
  Tensor good = session.run({{m->x, x}}, {m->logits})[0];
  CHECK_THROWS(session.run({{m->x, Tensor(f32, {2, 5})}}, {m->logits}));
  CHECK_THROWS(session.run({{m->x, x}}, {"missing"}));
  CHECK(session.run({{m->x, x}}, {m->logits})[0].identical(good));
  CHECK(session.variable("dense/W").identical(before));
}

TEST_CASE("old programs are freed beyond max_programs and recompiled when needed", "[session]") {
  Graph g;
  Value x = placeholder(g, "x", f32, {batch, 3});
  Value y = relu(x) * 2.0;
  Session session(g, {.max_programs = 2});
  auto run = [&](int64_t n) {
    std::mt19937 rng{static_cast<uint32_t>(n)};
    Tensor in = test::random_tensor(f32, {n, 3}, rng);
    CHECK(test::compare(session.run({{x, in}}, {y})[0], run_reference(g, {{x, in}}, {y})[0], 0) ==
          "");
  };
  for (int64_t n : {1, 2, 3}) run(n); // batch 1's program is evicted by batch 3's
  CHECK(session.stats().cached_programs == 2);
  CHECK(session.stats().compilations == 3);
  run(3);
  run(2);
  CHECK(session.stats().compilations == 3);
  run(1);
  CHECK(session.stats().compilations == 4);
  CHECK(session.stats().cached_programs == 2);
}

TEST_CASE("runs from several threads on one session are those of some serial order",
          "[session][threads]") {
  // Four threads infer, four train (each training run adds 1 to a counter):
  // inference is bit-identical to a run alone, and every update counts.
  Graph g;
  Value x = placeholder(g, "x", f32, {batch, 64});
  Value y = nn::dense(g, x, 32, nn::relu, {.seed = 3});
  Value counter = variable(g, "counter", i64, {}, Init::zeros());
  Value count = assign_add(counter, int64_t(1));
  Session session(g, {.threads = 2});
  std::mt19937 rng(11);
  Tensor input = test::random_tensor(f32, {16, 64}, rng);
  Tensor want = session.run({{x, input}}, {y})[0];

  constexpr int kRuns = 300;
  std::atomic<int> mismatches = 0;
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < kRuns; ++i) {
        if (t % 2) {
          session.run({}, {}, {count});
        } else {
          mismatches += !session.run({{x, input}}, {y})[0].identical(want);
        }
      }
    });
  for (std::thread &t : threads) t.join();
  CHECK(mismatches == 0);
  CHECK(session.variable(counter).data<int64_t>()[0] == 4 * kRuns);
}
