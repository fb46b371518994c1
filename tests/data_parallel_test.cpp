// The data-parallel pass and the collective steps in one process (a job of
// one, where a mean over the ranks is the value itself): the pass's buckets,
// their place in the schedule, and training that bucketing leaves bit for
// bit as it was. Across processes: tests/distributed/data_parallel_test.cpp.
#include "frontends/losses.h"
#include "frontends/nn.h"
#include "frontends/optim.h"
#include "passes/passes.h"
#include "runtime/plan.h"
#include "session/ahead_of_time.h"
#include "session/compiled_graph.h"
#include "session/profile.h"
#include "session/session.h"
#include "test_util.h"

#include <nlohmann/json.hpp>

#include <cstring>
#include <limits>
#include <random>

using namespace kiln;
using Catch::Matchers::Contains;

namespace {

struct Model {
  Graph g;
  Value x, y, loss, train;
};

// Two dense layers with Adam: four variables, four gradients.
std::unique_ptr<Model> classifier() {
  auto m = std::make_unique<Model>();
  m->x = placeholder(m->g, "x", f32, {batch, 5});
  m->y = placeholder(m->g, "y", i64, {batch});
  Value h = nn::dense(m->g, m->x, 7, nn::relu, {.seed = 1});
  m->loss = mean(nn::softmax_cross_entropy(nn::dense(m->g, h, 3, {}, {.seed = 2}), m->y));
  m->train = optim::Adam{.lr = 0.05}.minimize(m->loss);
  return m;
}

Feeds feeds(const Model &m, int step) {
  std::mt19937 rng{uint32_t(step)};
  Tensor y(i64, {8});
  for (int64_t i = 0; i < 8; ++i) y.set(i, double((i + step) % 3));
  return {{m.x, test::random_tensor(f32, {8, 5}, rng)}, {m.y, y}};
}

// The weights after four steps.
std::vector<Tensor> train(const SessionOptions &options) {
  auto m = classifier();
  Session s(m->g, options);
  for (int step = 0; step < 4; ++step) s.run(feeds(*m, step), {m->loss}, {m->train});
  std::vector<Tensor> weights;
  for (const char *name : {"dense/W", "dense/b", "dense_1/W", "dense_1/b"})
    weights.push_back(s.variable(name));
  return weights;
}

std::vector<const Node *> nodes_of(const Graph &g, std::string_view op) {
  std::vector<const Node *> found;
  for (const Node &n : g.nodes())
    if (n.op->name == op) found.push_back(&n);
  return found;
}

} // namespace

TEST_CASE("the data-parallel pass buckets the gradients' means, or drops them alone",
          "[passes][distributed]") {
  auto m = classifier();
  CHECK(nodes_of(m->g, "allreduce_mean").size() == 4); // one per variable
  RootedGraph in{m->g, {m->loss.id, m->train.id}};
  auto buckets = [&](PipelineOptions options) {
    return nodes_of(optimize(in, options).graph, "allreduce_mean_start").size();
  };
  CHECK(buckets({}) == 0);
  CHECK(nodes_of(optimize(in).graph, "allreduce_mean").empty());
  CHECK(buckets({.data_parallel = {.on = true, .bucket_bytes = 1}}) == 4);
  CHECK(buckets({.data_parallel = {.on = true}}) == 1);
  // dense_1's W (84 bytes) and b (12) fit in 100 bytes; dense's W (140) and
  // b (28) then take one bucket each.
  CHECK(buckets({.data_parallel = {.on = true, .bucket_bytes = 100}}) == 3);
}

TEST_CASE("a bucket's mean starts after its gradients and finishes after other kernels",
          "[passes][distributed]") {
  auto m = classifier();
  RootedGraph out = optimize({m->g, {m->loss.id, m->train.id}},
                             {.data_parallel = {.on = true, .bucket_bytes = 1}});
  const Graph &g = out.graph;
  std::vector<const Node *> starts = nodes_of(g, "allreduce_mean_start");
  REQUIRE(starts.size() == 4);
  // The first bucket (the last layer's gradient, produced first) starts
  // while the rest of the backward pass has yet to run: computed nodes lie
  // between its start and its finish.
  NodeId finish = g.at(starts[0]->name.substr(0, starts[0]->name.size() - 6) + "/finish");
  int between = 0;
  for (NodeId id = starts[0]->id + 1; id < finish; ++id) {
    const Node &n = g.node(id);
    between += n.op->source == Source::none && n.op->name.find("allreduce") == std::string::npos &&
               n.op->name != "gradient_bucket";
  }
  CHECK(between >= 3);
}

TEST_CASE("training with buckets of any size changes no bit in a job of one",
          "[session][distributed]") {
  std::vector<Tensor> alone = train({.threads = 1});
  for (size_t bytes : {size_t(1), size_t(100), size_t(1) << 30})
    for (bool planned : {true, false}) {
      INFO(bytes << "-byte buckets, memory planning " << planned);
      std::vector<Tensor> bucketed =
          train({.threads = 1,
                 .passes = {.data_parallel = {.on = true, .bucket_bytes = bytes}},
                 .memory_planning = planned});
      for (size_t w = 0; w < alone.size(); ++w)
        CHECK(std::memcmp(bucketed[w].raw(), alone[w].raw(), alone[w].bytes()) == 0);
    }
}

TEST_CASE("a fetched mean over the ranks is a collective of its own", "[session][distributed]") {
  Graph g;
  Value x = placeholder(g, "x", f64, {3});
  Value m = allreduce_mean(x * 2.0, "m");
  Tensor in = Tensor::from<double>({3}, {1, -2, 0.5});
  for (bool on : {false, true}) {
    Session s(g, {.passes = {.data_parallel = {.on = on}}});
    CHECK(test::compare(s.run({{x, in}}, {m})[0], Tensor::from<double>({3}, {2, -4, 1}), 0) == "");
  }
  CHECK_THAT(test::error_of([&] {
               allreduce_mean(placeholder(g, "b", f32, {batch, 2}));
             }),
             Contains("without the batch dim"));
  // A part past its bucket, however far (the fuzzer found an overflow here).
  Value bucket = apply("gradient_bucket", {x});
  for (int64_t offset : {int64_t{2}, std::numeric_limits<int64_t>::max()})
    CHECK_THAT(
        test::error_of([&] {
          apply("bucket_part", {bucket}, {{"offset", offset}, {"shape", Shape{2}}}, "p");
        }),
        Contains(fmt::format("2 elements from offset {} lie outside the bucket's 3", offset)));
}

TEST_CASE("the profile's trace shows each bucket's mean in flight beside the kernels",
          "[session][distributed][profile]") {
  auto m = classifier();
  Session s(m->g, {.threads = 1,
                   .passes = {.data_parallel = {.on = true, .bucket_bytes = 1}},
                   .profile = true});
  s.run(feeds(*m, 0), {m->loss}, {m->train});
  const Profile::Program &p = s.profile().programs().at(0);
  REQUIRE(p.collectives.size() == 4); // a bucket a gradient
  int overlapped = 0;
  for (auto [start, finish] : p.collectives) {
    CHECK(p.kernels[start].op == "allreduce_mean_start");
    CHECK(p.kernels[finish].op == "allreduce_mean_finish");
    overlapped += finish > start + 1; // kernels ran in between
  }
  CHECK(overlapped >= 3); // all but the last gradient's, which nothing follows
  nlohmann::json trace = nlohmann::json::parse(chrome_trace(s.profile()));
  int spans = 0;
  for (const nlohmann::json &e : trace["traceEvents"])
    if (e["ph"] == "X" && e["cat"] == "collective") {
      ++spans;
      CHECK(e["tid"] == 3);
      CHECK(e["dur"].get<double>() >= 0);
    }
  CHECK(spans == 4);
}

TEST_CASE("an ahead-of-time train step has its collectives when data-parallel, none alone",
          "[aot][distributed]") {
  auto m = classifier();
  AheadOfTimeOptions options{
      .fetches = {m->loss}, .targets = {m->train}, .train_fetches = {m->loss}, .batch_size = 8};
  auto steps = [&] {
    AheadOfTimeModel model = compile_ahead_of_time(m->g, options);
    REQUIRE(model.model.entries.size() == 2);
    CHECK(!has_collectives(model.model.entries[0])); // predict
    return has_collectives(model.model.entries[1]);  // train_step
  };
  CHECK(!steps());
  options.passes.data_parallel.on = true;
  CHECK(steps());
}

TEST_CASE("a plan whose means over the ranks do not pair up fails naming it",
          "[session][distributed]") {
  Graph g;
  Value x = placeholder(g, "x", f32, {4});
  Value started = apply("allreduce_mean_start", {apply("gradient_bucket", {x * 2.0f})});
  Session s(g);
  CHECK(test::error_of([&] {
          s.run({{x, Tensor(f32, {4})}}, {started});
        }) == "plan 'batch 1': its means over the ranks do not pair up (1 more started than "
              "finished): each allreduce_mean_start needs one allreduce_mean_finish");
}

TEST_CASE("the memory plan puts gradients and parts inside their buckets",
          "[memory][distributed]") {
  auto m = classifier();
  compiler::Compiler compiler({.cache = false});
  CompiledGraph c = compile_graph(compiler,
                                  optimize({m->g, {m->loss.id, m->train.id}},
                                           {.data_parallel = {.on = true, .bucket_bytes = 100}}),
                                  8, /*plan_memory=*/true);
  const Graph &g = c.graph.graph;
  const compiler::MemoryPlan &plan = *c.memory;
  int inside = 0, members = 0;
  for (const Node &n : g.nodes()) {
    std::vector<NodeId> held = n.op->name == "gradient_bucket" ? n.inputs : std::vector<NodeId>{};
    if (n.op->name == "allreduce_mean_finish")
      for (const Node &user : g.nodes())
        if (user.op->name == "bucket_part" && user.inputs[0] == n.id) held.push_back(user.id);
    for (NodeId member : held) {
      ++members;
      const compiler::PlannedBuffer &b = plan.buffers[size_t(member)];
      if (b.within < 0) continue;
      ++inside;
      // At its place in the bucket, which the mean's chain shares.
      CHECK(b.offset == plan.buffers[size_t(b.within)].offset + b.within_offset);
    }
  }
  CHECK(members == 8); // four gradients, four parts
  CHECK(inside == members);
}
