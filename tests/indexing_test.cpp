// gather, gather_grad, one_hot, pad and split on hand-checked values, their
// out-of-range indices (errors naming the position; gather_grad drops them)
// and other error cases, and the scatter-add kernel under every task
// split. The per-op comparison on many shapes is in ops_test.cpp.
#include "frontends/losses.h"
#include "frontends/optim.h"
#include "ir/error.h"
#include "passes/autodiff.h"
#include "runtime/reference.h"
#include "session/session.h"
#include "test_util.h"

#include "kernels/kernel_abi.h"
#include "kernels/kernels.h"

#include <algorithm>
#include <numeric>

using namespace kiln;
using Catch::Matchers::Contains;

namespace {

// Runs `v` compiled with the given feeds.
Tensor run(Value v, const Feeds &feeds = {}) { return Session(*v.graph).run(feeds, {v})[0]; }

} // namespace

TEST_CASE("gather picks rows; an index outside them fails the run, naming it", "[indexing]") {
  Graph g;
  Value table = constant(g, Tensor::from<float>({3, 2}, {1, 2, 3, 4, 5, 6}));
  Value ids = placeholder(g, "ids", i64, {batch, 2});
  Value rows = gather(table, ids, "rows");
  CHECK(to_string(rows.type()) == "f32[?, 2, 2]");
  Tensor out = run(rows, {{ids, Tensor::from<int64_t>({2, 2}, {2, 0, 1, 1})}});
  CHECK(test::compare(out, Tensor::from<float>({2, 2, 2}, {5, 6, 1, 2, 3, 4, 3, 4}), 0) == "");
  Feeds bad = {{ids, Tensor::from<int64_t>({2, 2}, {2, 0, -1, 3})}};
  CHECK(test::error_of([&] { run(rows, bad); }) ==
        "node 'rows' (gather): index -1 at [1, 0] of 'ids' is outside [0, 3)");
  CHECK(test::error_of([&] { run_reference(g, bad, {rows}); }) ==
        "node 'rows' (gather): index -1 at [1, 0] of its indices is outside [0, 3)");
  Graph h;
  Value ids32 = placeholder(h, "ids32", i32, {3});
  Value g32 = gather(constant(h, Tensor::from<float>({3, 1}, {1, 2, 3})), ids32, "g32");
  CHECK(test::error_of([&] {
          run(g32, {{ids32, Tensor::from<int32_t>({3}, {1, 1, INT32_MIN})}});
        }) == "node 'g32' (gather): index -2147483648 at row 2 of 'ids32' is outside [0, 3)");
  // Without memory planning the check's record has storage of its own.
  Session unplanned(g, {.memory_planning = false});
  CHECK(test::error_of([&] { unplanned.run(bad, {rows}); }) ==
        "node 'rows' (gather): index -1 at [1, 0] of 'ids' is outside [0, 3)");
}

TEST_CASE("the first bad index is the one reported, on any thread count", "[indexing]") {
  // 200,000 computed indices (fed ones are checked before the run): enough
  // work for the kernels to split among threads.
  Graph g;
  Value table = constant(g, Tensor::from<float>({4, 1}, {1, 2, 3, 4}));
  Value fed = placeholder(g, "fed", f32, {batch});
  Value ids = cast(fed, i32, "ids");
  Value rows = gather(table, ids, "rows");
  Value hot = one_hot(ids, 4, f32, 1, 0, "hot");
  Tensor values(f32, {200000});
  for (int64_t i = 0; i < values.size(); ++i) values.set(i, double(i % 4));
  values.set(170000, 4);
  values.set(60001, -7);
  for (int threads : {1, 2, 8}) {
    INFO(threads << " threads");
    Session s(g, {.threads = threads});
    CHECK(test::error_of([&] {
            s.run({{fed, values}}, {rows});
          }) == "node 'rows' (gather): index -7 at row 60001 of 'ids' is outside [0, 4)");
    CHECK(test::error_of([&] {
            s.run({{fed, values}}, {hot});
          }) == "node 'hot' (one_hot): index -7 at row 60001 of 'ids' is outside [0, 4)");
    // A good run after a bad one: the record starts afresh.
    values.set(60001, 1);
    values.set(170000, 2);
    CHECK_NOTHROW(s.run({{fed, values}}, {rows, hot}));
    values.set(170000, 4);
    values.set(60001, -7);
  }
}

TEST_CASE("a label outside the classes fails the training step before it runs",
          "[indexing][train]") {
  Graph g;
  Value x = placeholder(g, "x", f32, {batch, 3});
  Value y = placeholder(g, "y", i32, {batch});
  Value w = variable(g, "w", f32, {3, 4}, Init::uniform(1));
  Value loss = mean(nn::softmax_cross_entropy(matmul(x, w), y), {}, false, "loss");
  Value train = optim::SGD{.lr = 0.1}.minimize(loss);
  Session s(g);
  Tensor before = s.variable("w"), step = s.variable("global_step");
  Feeds bad = {{x, Tensor::from<float>({4, 3}, {1, 2, 3, 4, 5, 6, 7, 8, 9, 1, 2, 3})},
               {y, Tensor::from<int32_t>({4}, {0, 3, 1, 4})}};
  CHECK_THAT(test::error_of([&] { s.run(bad, {loss}, {train}); }),
             Catch::Matchers::EndsWith("(one_hot): index 4 at row 3 of 'y' is outside [0, 4)"));
  CHECK(test::compare(s.variable("w"), before, 0) == "");
  CHECK(test::compare(s.variable("global_step"), step, 0) == "");
}

TEST_CASE("the gradient of gather adds repeated rows and drops out-of-range ones", "[indexing]") {
  Graph g;
  Value table = placeholder(g, "table", f32, {4, 2});
  Value ids = constant(g, Tensor::from<int32_t>({5}, {1, 3, 1, 7, -2}));
  Value dy = constant(g, Tensor::from<float>({5, 2}, {1, 2, 10, 20, 100, 200, 5, 5, 7, 7}));
  Value dtable = gradients(gather(table, ids), {table}, dy)[0];
  CHECK(dtable.node().op->name == "gather_grad");
  CHECK(test::compare(run(dtable, {{table, Tensor(f32, {4, 2})}}),
                      Tensor::from<float>({4, 2}, {0, 0, 101, 202, 0, 0, 10, 20}), 0) == "");
}

TEST_CASE("scatter-add gives the same bits for every task split", "[indexing]") {
  // 2500 rows x 300 columns: 3 x 2 tiles; indices repeat and stray.
  constexpr int64_t rows = 2500, width = 300, n = 4000;
  std::mt19937 rng(5);
  std::vector<float> dy(size_t(n * width));
  std::vector<int64_t> ids(static_cast<size_t>(n));
  for (float &v : dy) v = std::uniform_real_distribution<float>(-1, 1)(rng);
  for (int64_t &i : ids) i = std::uniform_int_distribution<int64_t>(-10, rows + 10)(rng);
  int64_t tasks = abi::kiln_scatter_tasks(rows, width);
  REQUIRE(tasks == 6);
  auto scatter = [&](auto order) {
    std::vector<float> out(size_t(rows * width), NAN); // every element must be written
    for (int64_t t : order(tasks))
      kiln_scatter_add_f32_i64(dy.data(), ids.data(), out.data(), rows, width, n, t, t + 1);
    return out;
  };
  auto forward = [](int64_t k) {
    std::vector<int64_t> v(static_cast<size_t>(k));
    std::iota(v.begin(), v.end(), 0);
    return v;
  };
  auto backward = [&](int64_t k) {
    std::vector<int64_t> v = forward(k);
    std::reverse(v.begin(), v.end());
    return v;
  };
  std::vector<float> all(size_t(rows * width), NAN);
  kiln_scatter_add_f32_i64(dy.data(), ids.data(), all.data(), rows, width, n, 0, tasks + 3);
  CHECK(scatter(forward) == all);
  CHECK(scatter(backward) == all);
}

TEST_CASE("one_hot marks each index; an index outside the depth fails the run", "[indexing]") {
  Graph g;
  Value ids = constant(g, Tensor::from<int32_t>({2, 2}, {0, 2, 1, 0}), "ids");
  CHECK(test::compare(run(one_hot(ids, 3)),
                      Tensor::from<float>({2, 2, 3}, {1, 0, 0, 0, 0, 1, 0, 1, 0, 1, 0, 0}),
                      0) == "");
  CHECK(
      test::compare(run(one_hot(ids, 3, i64, 7, -1)),
                    Tensor::from<int64_t>({2, 2, 3}, {7, -1, -1, -1, -1, 7, -1, 7, -1, 7, -1, -1}),
                    0) == "");
  Graph h;
  Value fed = placeholder(h, "fed", i32, {batch, 2});
  Value hot = one_hot(fed, 3, f32, 1, 0, "hot");
  Feeds bad = {{fed, Tensor::from<int32_t>({2, 2}, {0, 2, 3, -1})}};
  CHECK(test::error_of([&] { run(hot, bad); }) ==
        "node 'hot' (one_hot): index 3 at [1, 0] of 'fed' is outside [0, 3)");
  CHECK(test::error_of([&] { run_reference(h, bad, {hot}); }) ==
        "node 'hot' (one_hot): index 3 at [1, 0] of its indices is outside [0, 3)");
  // Constant indices fold before the run: the reference kernel refuses them.
  Graph k;
  Value folded = one_hot(constant(k, int64_t{5}, "five"), 3, f32, 1, 0, "folded");
  CHECK(test::error_of([&] { run(folded); }) ==
        "node 'folded' (one_hot): index 5 of its indices is outside [0, 3)");
  CHECK_THROWS_WITH(one_hot(ids, 3, i32, 0.5, 0, "oh"),
                    "node 'oh' (one_hot): on 0.5 is not representable as i32");
  CHECK_THROWS_WITH(one_hot(ids, -1, f32, 1, 0, "oh2"), Contains("depth must be >= 0, got -1"));
  CHECK_THROWS_WITH(one_hot(constant(g, 1.0f), 3, f32, 1, 0, "oh3"),
                    Contains("indices must be i32 or i64, got f32"));
}

TEST_CASE("pad surrounds x with a constant and keeps the batch dim", "[indexing]") {
  Graph g;
  Value x = placeholder(g, "x", f32, {batch, 2});
  Value y = pad(x, {0, 0, 1, 2}, -1);
  CHECK(to_string(y.type()) == "f32[?, 5]");
  Tensor out = run(y, {{x, Tensor::from<float>({2, 2}, {1, 2, 3, 4})}});
  CHECK(test::compare(out, Tensor::from<float>({2, 5}, {-1, 1, 2, -1, -1, -1, 3, 4, -1, -1}), 0) ==
        "");
  CHECK_THROWS_WITH(pad(x, {1, 0, 0, 0}, 0, "p1"), "node 'p1' (pad): cannot pad the batch dim 0");
  CHECK_THROWS_WITH(pad(x, {0, 0, -1, 0}, 0, "p2"), Contains("must be between 0 and 2^48"));
  CHECK_THROWS_WITH(
      pad(x, {0, 0}, 0, "p3"),
      Contains("pads [0, 0] must hold two entries (before, after) per dim of [?, 2]"));
  Value i = placeholder(g, "i", i32, {2});
  CHECK_THROWS_WITH(pad(i, {1, 1}, 0.5, "p4"), Contains("value 0.5 is not representable as i32"));
}

TEST_CASE("split cuts an axis into named slices", "[indexing][builder]") {
  Graph g;
  Value x = placeholder(g, "x", f32, {batch, 10});
  std::vector<Value> parts = split(x, {2, -1, 3}, 1);
  REQUIRE(parts.size() == 3);
  CHECK(parts[0].name() == "split/0");
  CHECK(to_string(parts[1].type()) == "f32[?, 5]");
  CHECK(to_string(parts[2].type()) == "f32[?, 3]");
  std::vector<Value> halves = split(x, 2, -1, "halves");
  REQUIRE(halves.size() == 2);
  CHECK(halves[1].name() == "halves/1");
  CHECK(split(x, {10}, 1).size() == 10); // a braced single size is a count

  Tensor in(f32, {2, 10});
  for (int64_t e = 0; e < 20; ++e) in.set(e, double(e));
  std::vector<Tensor> out = Session(g).run({{x, in}}, {parts[1], halves[1]});
  CHECK(test::compare(out[0], Tensor::from<float>({2, 5}, {2, 3, 4, 5, 6, 12, 13, 14, 15, 16}),
                      0) == "");
  CHECK(test::compare(out[1], Tensor::from<float>({2, 5}, {5, 6, 7, 8, 9, 15, 16, 17, 18, 19}),
                      0) == "");

  CHECK_THROWS_WITH(split(x, {4, 4}, 1), "split of 'x': sizes [4, 4] do not add up to dim 1 (10)");
  CHECK_THROWS_WITH(split(x, {-1, -1}, 1), Contains("sizes [-1, -1] do not add up"));
  CHECK_THROWS_WITH(split(x, 3, 1), "split of 'x': dim 1 (10) cannot be split into 3 equal pieces");
  CHECK_THROWS_WITH(split(x, 2, 0), "split of 'x': cannot split the batch dim 0");
}
