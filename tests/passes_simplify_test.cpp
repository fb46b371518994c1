// The passes on graphs beyond one pass's text cases (tests/passes/, run by
// tests/pass_text_test.cpp): the pipeline on a gradient graph and on a
// training step, and what passes must never fold, merge or drop.
//
// Golden files: tests/data/passes/gradients.txt is a gradient graph in the
// listing form (ir/listing.h) and gradients.after-PASS.txt the expected
// listing after the pipeline up to PASS, as `kiln dump --after=PASS` shows
// it, run with the graph's sink nodes as roots. To rewrite the expected
// files after an intended change, run scripts/update-pass-tests.sh and
// review the diff: it is the change in what the passes do.
//
// Numerical checks run a graph before and after with the reference
// interpreter on random feeds (tests/pass_check.h).
#include "frontends/losses.h"
#include "frontends/nn.h"
#include "frontends/optim.h"
#include "ir/error.h"
#include "ir/file_io.h"
#include "ir/listing.h"
#include "ir/listing_parser.h"
#include "pass_check.h"
#include "passes/passes.h"
#include "passes/rewrite.h"
#include "runtime/reference.h"
#include "session/session.h"
#include "test_util.h"

#include <cstdlib>
#include <filesystem>
#include <map>

using namespace kiln;
using test::check_same_values;
using test::random_feeds;

namespace {

const std::filesystem::path kDataDir = std::filesystem::path(KILN_TEST_DATA) / "passes";

// Compares the listing of `out` with tests/data/passes/FILE (or rewrites it:
// see the top).
void check_listing(const RootedGraph &out, const std::string &file) {
  const char *update = std::getenv("KILN_UPDATE_GOLDEN");
  if (update && std::string(update) == "1")
    write_file_atomically(kDataDir / file, to_listing(out.graph));
  else
    CHECK(to_listing(out.graph) == read_file(kDataDir / file));
}

RootedGraph load_with_sinks(const std::string &name) {
  Graph g = parse_listing(read_file(kDataDir / (name + ".txt")), name + ".txt");
  std::vector<NodeId> roots = sink_nodes(g);
  return {std::move(g), std::move(roots)};
}

size_t count_op(const Graph &g, std::string_view op) {
  return size_t(std::count_if(g.nodes().begin(), g.nodes().end(),
                              [&](const Node &n) { return n.op->name == op; }));
}

} // namespace

TEST_CASE("the pipeline tidies a gradient graph", "[passes]") {
  // The gradients of a small dense layer's loss: the listing after dce shows
  // what remains of autodiff's output.
  RootedGraph in = load_with_sinks("gradients");
  for (const Pass &p : pipeline()) {
    INFO(p.name);
    check_same_values(in, p.run(in, {}));
  }
  RootedGraph out = optimize(in, {}, "dce");
  check_listing(out, "gradients.after-dce.txt");
  check_same_values(in, out);
  CHECK(out.graph.size() < in.graph.size());
  // Fusion shows each fused node's body.
  RootedGraph fused = optimize(in, {}, "fuse-loops");
  check_listing(fused, "gradients.after-fuse-loops.txt");
  check_same_values(in, fused);
}

TEST_CASE("folding, cse and dce each fire on a graph made for them", "[passes]") {
  Graph g;
  Value x = placeholder(g, "x", f32, {batch, 4});
  Value six = mul(constant(g, 2.0f), constant(g, 3.0f), "six");
  Value y = add(exp(x) * six, exp(x) * six, "y");
  sqrt(x, "unused");
  RootedGraph in{g, {y.id}};

  RootedGraph folded = fold_constants(in);
  CHECK(folded.graph.node(folded.graph.at("six")).op->name == "constant");
  CHECK(folded.graph.size() == g.size());
  RootedGraph merged = eliminate_common_subexpressions(folded);
  CHECK(count_op(merged.graph, "exp") == 1);
  CHECK(count_op(merged.graph, "mul") == 1);
  RootedGraph live = eliminate_dead_code(merged);
  // x, six, exp, mul, y: the factors of six, the second exp and mul and sqrt are gone.
  CHECK(live.graph.size() == 5);
  CHECK(!live.graph.find("unused"));
  check_same_values(in, live);
}

TEST_CASE("random draws and updates are neither folded nor merged nor dropped", "[passes]") {
  Graph g;
  Value counter = constant(g, int64_t{0}, "counter");
  Value r1 = random_uniform(g, {3}, 0, 1, 5, counter, f32, "r1");
  Value r2 = random_uniform(g, {3}, 0, 1, 5, counter, f32, "r2");
  Value draws = add(r1, r2, "draws");
  Value w = variable(g, "w", f32, {3}, Init::ones());
  Value one = constant(g, 1.0f, "one");
  Value u1 = assign_add(w, one, "u1");
  Value u2 = assign_add(w, one, "u2");
  Value reset = assign(w, r1, "reset"); // a target whose value nobody uses
  RootedGraph in{g, {draws.id, u1.id, u2.id, reset.id}};

  RootedGraph out = optimize(in, {}, "dce");
  CHECK(count_op(out.graph, "random_uniform") == 2);
  CHECK(count_op(out.graph, "assign_add") == 2);
  CHECK(out.graph.find("reset"));
  for (const char *name : {"r1", "r2", "u1", "u2", "reset"}) {
    INFO(name);
    CHECK(out.graph.node(out.graph.at(name)).op->name != "constant");
  }
  check_same_values(in, out, {"w"});
}

namespace {

// A dense layer trained with softmax cross-entropy and Adam, in f64.
struct Training {
  Graph g;
  Value x, y, loss, train;
  std::vector<std::string> variables;
};

std::unique_ptr<Training> dense_training() {
  auto t = std::make_unique<Training>();
  t->x = placeholder(t->g, "x", f64, {batch, 5});
  t->y = placeholder(t->g, "y", i32, {batch});
  Value logits = nn::dense(t->g, t->x, 3, {}, {.seed = 3});
  t->loss = mean(nn::softmax_cross_entropy(logits, t->y), {}, false, "loss");
  t->train = optim::Adam{.lr = 0.125}.minimize(t->loss);
  for (const Node &n : t->g.nodes())
    if (n.op->source == Source::variable) t->variables.push_back(n.name);
  return t;
}

// `g` with every variable v read through assign(v, placeholder "v/start"),
// so that the reference interpreter, which starts from the initializers,
// can continue from any values. After a step the assign "v/load" holds v's
// new value (the optimizers update each variable once, in place).
Graph resumable(const Graph &g) {
  RootedGraph in{g, {}};
  Rewriter r(in);
  for (const Node &n : g.nodes()) {
    NodeId id = r.copy(n);
    if (n.op->source != Source::variable) continue;
    Graph &out = r.output();
    NodeId start = out.add_node("placeholder", n.name + "/start", {},
                                {{"dtype", n.type.dtype}, {"shape", n.type.shape}});
    r.replace(n.id, out.add_node("assign", n.name + "/load", {id, start}));
  }
  return std::move(r).finish().graph;
}

} // namespace

TEST_CASE("the pipeline keeps a training step's loss and updates", "[passes]") {
  auto t = dense_training();
  RootedGraph in{t->g, {t->loss.id, t->train.id}};
  for (const Pass &p : pipeline()) {
    INFO(p.name);
    check_same_values(in, p.run(in, {}), t->variables);
  }
  check_same_values(in, optimize(in), t->variables);
}

TEST_CASE("a session with the full pipeline trains like the reference interpreter", "[passes]") {
  auto t = dense_training();
  Session session(t->g);
  Graph reference = resumable(t->g);
  std::map<std::string, Tensor> values; // the reference's variables
  for (const std::string &v : t->variables) values[v] = session.variable(v);
  // f64 throughout, but compiled exp, log and sums round differently from the
  // reference's; Adam's step divides by sqrt(v) and keeps relative errors.
  constexpr double kTolerance = 1e-9;
  for (int step = 0; step < 3; ++step) {
    INFO("step " << step);
    Feeds feeds = random_feeds(t->g, uint32_t(step));
    Tensor loss = session.run(feeds, {t->loss}, {t->train})[0];
    std::vector<NodeRef> fetches = {"loss", t->train.name()};
    for (const std::string &v : t->variables) {
      feeds.emplace_back(v + "/start", values[v]);
      fetches.emplace_back(v + "/load");
    }
    std::vector<Tensor> want = run_reference(reference, feeds, fetches);
    CHECK(test::compare(loss, want[0], kTolerance) == "");
    for (size_t i = 0; i < t->variables.size(); ++i) {
      const std::string &v = t->variables[i];
      INFO(v);
      values[v] = want[i + 2];
      CHECK(test::compare(session.variable(v), values[v], kTolerance) == "");
    }
  }
}
