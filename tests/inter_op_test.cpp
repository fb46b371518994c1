// Inter-op parallelism (runtime/kernel_graph.h): kernels that do not depend
// on each other run side by side, and every run computes what the plan's
// order computes, bit for bit, on any thread count.
#include "frontends/losses.h"
#include "frontends/nn.h"
#include "frontends/optim.h"
#include "runtime/kernel_graph.h"
#include "session/session.h"
#include "test_util.h"

using namespace kiln;

namespace {

// An inception-style block: four dense branches of one input, concatenated,
// then a classifier trained with Adam. The branches (and their gradients
// and updates) are independent of each other.
struct Inception {
  Graph g;
  Value x, y, loss, train;
  Inception() {
    x = placeholder(g, "x", f32, {batch, 32});
    y = placeholder(g, "y", i32, {batch});
    std::vector<Value> branches;
    for (int b = 0; b < 4; ++b)
      branches.push_back(nn::dense(g, x, 16 * (b + 1), nn::relu, {.seed = uint64_t(b)}));
    Value logits = nn::dense(g, concat(branches, 1), 10, {}, {.seed = 9});
    loss = mean(nn::softmax_cross_entropy(logits, y));
    train = optim::Adam{.lr = 1e-2}.minimize(loss);
  }
};

// Five training steps' losses and the variables after them.
std::vector<Tensor> train(const Inception &m, SessionOptions options) {
  Session s(m.g, options);
  std::mt19937 rng(1);
  std::vector<Tensor> out;
  for (int step = 0; step < 5; ++step) {
    Tensor labels(i32, {64});
    for (int64_t i = 0; i < 64; ++i) labels.set(i, double(rng() % 10));
    out.push_back(s.run({{m.x, test::random_tensor(f32, {64, 32}, rng)}, {m.y, labels}}, {m.loss},
                        {m.train})[0]);
  }
  for (const Node &n : m.g.nodes())
    if (n.op->source == Source::variable) out.push_back(s.variable(n.name));
  return out;
}

} // namespace

TEST_CASE("inter-op: independent branches run side by side with the results of one order",
          "[inter-op][thread]") {
  Inception m;
  std::vector<Tensor> in_order = train(m, {.threads = 1, .inter_op = false});
  for (int threads : {2, 8})
    for (int repeat = 0; repeat < 5; ++repeat) {
      INFO(threads << " threads, repeat " << repeat);
      std::vector<Tensor> side_by_side = train(m, {.threads = threads});
      REQUIRE(side_by_side.size() == in_order.size());
      for (size_t i = 0; i < in_order.size(); ++i)
        CHECK(test::compare(side_by_side[i], in_order[i], 0) == "");
    }
}

TEST_CASE("inter-op: a kernel follows what wrote its storage and what read it before a write",
          "[inter-op]") {
  // Buffers: 0 an input, 1 and 2 arena bytes [0, 8) and [8, 16), 3 a
  // variable, 4 over the variable (its update).
  Plan plan;
  plan.buffers = {{Place::input, DType::f32, 2, 0},
                  {Place::arena, DType::f32, 2, 0},
                  {Place::arena, DType::f32, 2, 8},
                  {Place::variable, DType::f32, 2, 0},
                  {Place::in_place, DType::f32, 2, 3}};
  auto call = [](std::vector<int32_t> buffers, uint32_t writes) {
    return KernelCall{.buffers = std::move(buffers), .writes = writes};
  };
  plan.kernels = {
      call({0, 1}, 0b10), // 0: input -> [0, 8)
      call({0, 2}, 0b10), // 1: input -> [8, 16): beside 0
      call({1, 2}, 0b00), // 2: reads both: after 0 and 1
      call({0, 1}, 0b10), // 3: rewrites [0, 8): after 0 (its writer) and 2 (its reader)
      call({3, 4}, 0b10), // 4: updates the variable
      call({3, 2}, 0b10), // 5: reads the variable (a variable counts as written): after 4
  };
  plan.arena_bytes = 16;
  KernelGraph g = kernel_graph(plan);
  CHECK(g.has_parallelism);
  CHECK(g.predecessors == std::vector<uint32_t>{0, 0, 2, 2, 0, 3});
  CHECK(g.successors[0] == std::vector<uint32_t>{2, 3});
  CHECK(g.successors[1] == std::vector<uint32_t>{2, 5});
  CHECK(g.successors[2] == std::vector<uint32_t>{3, 5});
  CHECK(g.successors[4] == std::vector<uint32_t>{5});

  plan.kernels = {call({0, 1}, 0b10), call({1, 2}, 0b10), call({2, 1}, 0b10)}; // a chain
  CHECK_FALSE(kernel_graph(plan).has_parallelism);
}
