// random_uniform and random_normal: distributions, reproducibility, the
// counter, the batch dim and agreement with the reference kernels. The
// per-op comparison on many shapes is in ops_test.cpp.
#include "ir/error.h"
#include "passes/autodiff.h"
#include "runtime/reference.h"
#include "session/session.h"
#include "test_util.h"

using namespace kiln;
using Catch::Matchers::Contains;

namespace {

constexpr int64_t kDraws = 100000;

struct Moments {
  double mean = 0, variance = 0;
};

Moments moments(const Tensor &t) {
  Moments m;
  for (int64_t i = 0; i < t.size(); ++i) m.mean += t.get(i);
  m.mean /= double(t.size());
  for (int64_t i = 0; i < t.size(); ++i) m.variance += (t.get(i) - m.mean) * (t.get(i) - m.mean);
  m.variance /= double(t.size() - 1);
  return m;
}

Tensor step(int64_t counter) { return Tensor::scalar(counter); }

} // namespace

TEST_CASE("random_uniform draws uniformly between lo and hi", "[random]") {
  for (DType dtype : {f32, f64}) {
    INFO(to_string(dtype));
    Graph g;
    Value u = random_uniform(g, {kDraws}, -1, 3, 11, {}, dtype);
    Tensor t = Session(g).run({}, {u})[0];
    double lo = 3, hi = -1;
    for (int64_t i = 0; i < t.size(); ++i) lo = std::min(lo, t.get(i)), hi = std::max(hi, t.get(i));
    CHECK(lo >= -1);
    CHECK(hi < 3);
    // Mean 1 with standard error 4 / sqrt(12 n) = 0.0037: 5 sigma is 0.02.
    // Variance 16 / 12 = 1.333 with standard error ~0.006: 5 sigma is 0.03.
    Moments m = moments(t);
    CHECK(std::abs(m.mean - 1) < 0.02);
    CHECK(std::abs(m.variance - 16.0 / 12) < 0.03);
  }
}

TEST_CASE("random_normal has the requested mean and stddev", "[random]") {
  for (DType dtype : {f32, f64}) {
    INFO(to_string(dtype));
    Graph g;
    Value z = random_normal(g, {kDraws}, 2, 0.5, 12, {}, dtype);
    Tensor t = Session(g).run({}, {z})[0];
    // Mean 2 with standard error 0.5 / sqrt(n) = 0.0016; variance 0.25 with
    // standard error 0.25 * sqrt(2 / n) = 0.0011: 5 sigma each.
    Moments m = moments(t);
    CHECK(std::abs(m.mean - 2) < 0.008);
    CHECK(std::abs(m.variance - 0.25) < 0.0056);
    // 68.27% within one stddev (binomial standard error 0.0015).
    int64_t within = 0;
    for (int64_t i = 0; i < t.size(); ++i) within += std::abs(t.get(i) - 2) < 0.5;
    CHECK(std::abs(double(within) / double(kDraws) - 0.6827) < 0.0075);
  }
}

TEST_CASE("random values are reproducible and match the reference on many threads", "[random]") {
  Graph g;
  Value counter = placeholder(g, "step", i64, {});
  // Large enough for the runtime to split the kernels across threads.
  Value u = random_uniform(g, {300, 1000}, 0, 1, 3, counter);
  Value z = random_normal(g, {300, 1000}, 0, 1, 4, counter, f64);
  Feeds feeds = {{counter, step(17)}};
  std::vector<Tensor> first = Session(g).run(feeds, {u, z});
  std::vector<Tensor> again = Session(g).run(feeds, {u, z});
  std::vector<Tensor> expected = run_reference(g, feeds, {u, z});
  CHECK(first[0].identical(again[0]));
  CHECK(first[1].identical(again[1]));
  CHECK(first[0].identical(expected[0])); // uniform: bit for bit
  CHECK(test::compare(first[1], expected[1], 1e-12) == "");
}

TEST_CASE("a new counter draws new numbers, the same counter the same", "[random]") {
  Graph g;
  Value counter = placeholder(g, "step", i64, {});
  Value u = random_uniform(g, {1000}, 0, 1, 5, counter);
  Value fixed = random_uniform(g, {1000}, 0, 1, 5); // no counter: the constant 0
  Value other = random_uniform(g, {1000}, 0, 1, 6);
  Session s(g);
  Tensor at0 = s.run({{counter, step(0)}}, {u})[0];
  Tensor at1 = s.run({{counter, step(1)}}, {u})[0];
  CHECK(s.run({{counter, step(0)}}, {u})[0].identical(at0));
  int64_t same = 0;
  for (int64_t i = 0; i < 1000; ++i) same += at0.get(i) == at1.get(i);
  CHECK(same < 5); // 24-bit values: a coincidence is rare
  CHECK(s.run({}, {fixed})[0].identical(at0));
  CHECK(!s.run({}, {other})[0].identical(at0));
}

TEST_CASE("random shapes bind the batch dim and rows do not depend on the batch size", "[random]") {
  Graph g;
  Value x = placeholder(g, "x", f32, {batch, 3});
  Value noise = random_normal_like(x, 0, 1, 8);
  CHECK(to_string(noise.type()) == "f32[?, 3]");
  CHECK(noise.node().op->stateful);
  Session s(g);
  Tensor four = s.run({{x, Tensor(f32, {4, 3})}}, {noise})[0];
  Tensor two = s.run({{x, Tensor(f32, {2, 3})}}, {noise})[0];
  REQUIRE(four.shape() == Shape{4, 3});
  REQUIRE(two.shape() == Shape{2, 3});
  for (int64_t i = 0; i < 6; ++i) CHECK(two.get(i) == four.get(i));
}

TEST_CASE("gradients flow around random masks", "[random]") {
  // Dropout's shape: y = sum(x * mask) has dy/dx = mask.
  Graph g;
  Value x = placeholder(g, "x", f32, {batch, 4});
  Value mask = cast(less(random_uniform_like(x, 0, 1, 9), 0.5), f32);
  Value dx = gradients(sum(x * mask), {x})[0];
  Session s(g);
  std::vector<Tensor> out = s.run({{x, Tensor(f32, {3, 4})}}, {dx, mask});
  CHECK(out[0].identical(out[1]));
}

TEST_CASE("random ops reject bad counters and parameters", "[random][errors]") {
  Graph g;
  Value c32 = constant(g, int32_t{0});
  CHECK_THROWS_WITH(random_uniform(g, {2}, 0, 1, 1, c32, f32, "r"),
                    "node 'r' (random_uniform): the counter must be an i64 scalar, got i32[]");
  CHECK_THROWS_WITH(random_uniform(g, {2}, 1, 0, 1, {}, f32, "r"),
                    Contains("lo and hi must be finite with lo <= hi, got 1 and 0"));
  CHECK_THROWS_WITH(random_normal(g, {2}, 0, -1, 1, {}, f32, "r"),
                    Contains("stddev >= 0, got 0 and -1"));
  CHECK_THROWS_WITH(random_normal(g, {2}, 0, 1, 1, {}, i32, "r"),
                    Contains("dtype must be f32 or f64, got i32"));
}
