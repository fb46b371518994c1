// Scheduling and memory planning: the verifier catches overlaps, training
// steps fit in a small arena and compute exactly what they compute without
// one, and the schedule keeps state order while lowering the peak. Every
// session verifies its plans (session/compiled_graph.cpp), so every model the
// other tests and the examples build is checked too.
#include "compiler/memory_plan.h"
#include "frontends/losses.h"
#include "frontends/nn.h"
#include "frontends/optim.h"
#include "ir/error.h"
#include "passes/passes.h"
#include "runtime/reference.h"
#include "session/compiled_graph.h"
#include "session/session.h"
#include "test_util.h"

using namespace kiln;
using Catch::Matchers::Contains;

namespace {

struct TrainingStep {
  Graph g;
  Value x, y, loss, train;
};

Value lenet(Graph &g, Value x) {
  Value h = max_pool2d(nn::conv2d(g, x, 6, 5, nn::relu, {.padding = "same", .seed = 1}));
  h = max_pool2d(nn::conv2d(g, h, 16, 5, nn::relu, {.seed = 2}));
  h = nn::dense(g, flatten(h), 120, nn::relu, {.seed = 3});
  h = nn::dense(g, h, 84, nn::relu, {.seed = 4});
  return nn::dense(g, h, 10, {}, {.seed = 5});
}

// The README's MLP 784-512-10, or LeNet on [batch, 1, 28, 28]; Adam.
std::unique_ptr<TrainingStep> training_step(bool conv) {
  auto m = std::make_unique<TrainingStep>();
  Graph &g = m->g;
  m->x =
      conv ? placeholder(g, "x", f32, {batch, 1, 28, 28}) : placeholder(g, "x", f32, {batch, 784});
  m->y = placeholder(g, "y", i32, {batch});
  Value logits =
      conv ? lenet(g, m->x)
           : nn::dense(g, nn::dense(g, m->x, 512, nn::relu, {.seed = 1}), 10, {}, {.seed = 2});
  m->loss = mean(nn::softmax_cross_entropy(logits, m->y));
  m->train = optim::Adam{.lr = 1e-3}.minimize(m->loss);
  return m;
}

struct Trained {
  std::vector<Tensor> losses;
  std::vector<Tensor> variables; // in graph order
  SessionStats stats;
};

Trained train_two_steps(const TrainingStep &m, bool memory_planning) {
  Session s(m.g, {.memory_planning = memory_planning});
  std::mt19937 rng(3);
  Shape x_shape = m.x.shape();
  x_shape[0] = 64;
  Trained t;
  for (int step = 0; step < 2; ++step) {
    Feeds feeds = {{m.x, test::random_tensor(f32, x_shape, rng, 0, 1)},
                   {m.y, test::random_tensor(i32, {64}, rng, 0, 9)}};
    t.losses.push_back(s.run(feeds, {m.loss}, {m.train})[0]);
  }
  for (const Node &n : m.g.nodes())
    if (n.op->source == Source::variable) t.variables.push_back(s.variable(n.name));
  t.stats = s.stats();
  return t;
}

// A two-buffer program whose kernels 0 and 1 both use both buffers.
compiler::Program two_buffers() {
  compiler::Program p;
  p.buffers = {{0, 0, f32, 256}, {1, 1, f32, 256}};
  p.kernels = {{nullptr, "k0", 0, 1, 1}, {nullptr, "k1", 1, 1, 1}};
  return p;
}

compiler::MemoryPlan plan_at(size_t second_offset, int32_t reuses, int64_t first_dies) {
  compiler::MemoryPlan plan;
  plan.buffers = {{true, 0, 0, first_dies, -1}, {true, second_offset, 1, 1, reuses}};
  plan.arena_bytes = 2048;
  return plan;
}

} // namespace

TEST_CASE("the memory plan verifier rejects overlapping live buffers", "[memory]") {
  compiler::Program p = two_buffers();
  CHECK_NOTHROW(compiler::verify(plan_at(1024, -1, 1), p));
  CHECK_THROWS_WITH(compiler::verify(plan_at(512, -1, 1), p),
                    Contains("overlaps buffer 0 (node 0) and buffer 1 (node 1)"));
  // Buffer 0 dying where buffer 1 is born may hand its bytes over, if recorded.
  CHECK_NOTHROW(compiler::verify(plan_at(0, 0, 1), p));
  CHECK_THROWS_WITH(compiler::verify(plan_at(0, -1, 1), p), Contains("overlaps"));
  CHECK_THROWS_WITH(compiler::verify(plan_at(1536, -1, 1), p), Contains("past the arena"));
  CHECK_THROWS_WITH(compiler::verify(plan_at(1000, -1, 1), p), Contains("aligned"));
}

TEST_CASE("training steps fit a small arena and match unplanned runs bit for bit", "[memory]") {
  for (bool conv : {false, true}) {
    INFO((conv ? "LeNet" : "MLP"));
    auto m = training_step(conv);
    Trained planned = train_two_steps(*m, true), unplanned = train_two_steps(*m, false);
    const SessionStats &s = planned.stats;
    INFO("arena " << s.last_arena_bytes << ", buffers " << s.last_buffer_bytes
                  << ", largest live set " << s.last_peak_live_bytes);
    // LeNet's activations dominate its buffers. The MLP's do not: its 784x512
    // weight gradient (1.6 of 2.3 MB) is live, whole, beside the 64x512 one it
    // is computed from, so no plan goes below 74% of its sum; the bound on the
    // largest live set below is the one that says the plan is good.
    if (conv) CHECK(s.last_arena_bytes <= s.last_buffer_bytes / 2);
    // Greedy placement may leave a few gaps above the lower bound.
    CHECK(double(s.last_arena_bytes) <= 1.05 * double(s.last_peak_live_bytes));
    CHECK(unplanned.stats.last_arena_bytes == 0);
    for (size_t i = 0; i < 2; ++i) CHECK(planned.losses[i].identical(unplanned.losses[i]));
    REQUIRE(planned.variables.size() == unplanned.variables.size());
    for (size_t i = 0; i < planned.variables.size(); ++i)
      CHECK(planned.variables[i].identical(unplanned.variables[i]));
  }
}

TEST_CASE("the schedule keeps reads of a variable between its updates", "[memory]") {
  Graph g;
  Value x = placeholder(g, "x", f32, {4});
  Value v = variable(g, "v", f32, {4}, Init::constant(1));
  Value before = v * 3.0;
  Value first = assign(v, x);
  Value after = v * 2.0;
  Value second = assign_add(v, x); // input 0 is the variable, not the first update
  Value last = v + 1.0;

  Value updates = group(g, {first, second});

  RootedGraph scheduled = schedule({g, {before.id, after.id, last.id, updates.id}});
  auto at = [&](Value n) { return scheduled.graph.at(n.name()); };
  CHECK(at(before) < at(first));
  CHECK(at(first) < at(after));
  CHECK(at(after) < at(second));
  CHECK(at(second) < at(last));

  // Both run the updates: the group needs them.
  std::vector<NodeRef> fetches = {before, after, last, updates};
  Tensor in = Tensor::from<float>({4}, {1, 2, 3, 4});
  Session s(g);
  std::vector<Tensor> got = s.run({{x, in}}, fetches);
  std::vector<Tensor> want = run_reference(g, {{x, in}}, fetches);
  for (size_t i = 0; i < want.size(); ++i) CHECK(test::compare(got[i], want[i], 0) == "");
  CHECK(test::compare(got[2], Tensor::from<float>({4}, {3, 5, 7, 9}), 0) == "");
}

TEST_CASE("the schedule finishes one branch before starting the next", "[memory]") {
  // Four branches, each a big elementwise chain reduced to a scalar, built
  // breadth first: in graph order all four big buffers are live at once.
  Graph g;
  Value x = placeholder(g, "x", f32, {batch, 1024});
  std::vector<Value> big;
  for (int b = 0; b < 4; ++b) big.push_back(exp(x + double(b)));
  Value total = sum(big[0]);
  for (int b = 1; b < 4; ++b) total = total + sum(big[size_t(b)]);

  compiler::Compiler compiler;
  RootedGraph in = eliminate_dead_code({g, {total.id}});
  CompiledGraph graph_order = compile_graph(compiler, in, 64, true);
  CompiledGraph scheduled = compile_graph(compiler, schedule(in), 64, true);
  size_t branch = 64 * 1024 * sizeof(float);
  CHECK(graph_order.memory->peak_live_bytes >= 4 * branch);
  // One branch's input and output at its handover, plus the scalars.
  CHECK(scheduled.memory->peak_live_bytes < 2 * branch + 1024);
  CHECK(scheduled.memory->arena_bytes < graph_order.memory->arena_bytes);
}

TEST_CASE("a reshape whose input dies at it takes its bytes and runs no task", "[memory]") {
  Graph g;
  Value x = placeholder(g, "x", f32, {batch, 6});
  Value kept = exp(x);                                // fetched: not in the arena
  Value dying = reshape(exp(x + 1.0), {batch, 2, 3}); // its input read by the reshape only
  Value out = sum(reshape(kept, {batch, 3, 2}), {1, 2}) + sum(dying, {1, 2});
  compiler::Compiler compiler;
  RootedGraph in = eliminate_dead_code({g, {out.id, kept.id}});
  CompiledGraph c = compile_graph(compiler, in, 4, true);
  Plan plan = make_plan(c, "test", 2,
                        {[](const Node &) { return 0; }, [](const Node &) { return 0; },
                         [](size_t k) { return uint32_t(k); }});
  int64_t skipped = 0, copies = 0;
  for (size_t k = 0; k < c.program.kernels.size(); ++k) {
    const Node &n = c.graph.graph.node(c.program.kernels[k].node);
    if (n.op->name != "reshape") continue;
    ++copies;
    bool in_place = c.memory->buffers[size_t(n.id)].reuses == n.inputs[0];
    CHECK(in_place == (plan.kernels[k].num_tasks == 0));
    skipped += in_place;
  }
  CHECK(copies == 2);
  CHECK(skipped == 1); // the dying one's
  Session s(g);
  Tensor xs = Tensor::from<float>({2, 6}, {0, 1, 2, 3, 4, 5, -1, -2, -3, -4, -5, -6});
  Tensor got = s.run({{x, xs}}, {out})[0];
  for (int64_t r = 0; r < 2; ++r) {
    double want = 0;
    for (int64_t i = 0; i < 6; ++i) {
      double v = xs.get(r * 6 + i);
      want += std::exp(v) + std::exp(v + 1);
    }
    CHECK(got.get(r) == Approx(want).epsilon(1e-5));
  }
}
