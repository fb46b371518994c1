// Loop fusion (passes/fuse.cpp): what it groups, that it keeps graph-order
// state semantics, and that fused training computes what unfused training
// does.
#include "frontends/losses.h"
#include "frontends/nn.h"
#include "frontends/optim.h"
#include "ir/listing_parser.h"
#include "passes/autodiff.h"
#include "passes/passes.h"
#include "runtime/reference.h"
#include "session/session.h"
#include "test_util.h"

#include <fmt/format.h>

using namespace kiln;

namespace {

int count_op(const Graph &g, std::string_view op) {
  return int(std::count_if(g.nodes().begin(), g.nodes().end(),
                           [&](const Node &n) { return n.op->name == op; }));
}

const Graph &body_of(const Node &n) {
  return *std::get<std::shared_ptr<const Graph>>(n.attr("body"));
}

struct Mlp {
  Graph g;
  Value x, y, loss, train;
  Mlp() {
    x = placeholder(g, "x", f32, {batch, 12});
    y = placeholder(g, "y", i32, {batch});
    Value h = nn::dense(g, x, 16, nn::relu);
    loss = mean(nn::softmax_cross_entropy(nn::dense(g, h, 5), y));
    train = optim::Adam{.lr = 1e-2}.minimize(loss);
  }
};

// The fetches computed fused equal the unfused program's bit for bit, and
// the reference kernels' within 1e-5.
void check_fusion_changes_no_bit(const Graph &g, const Feeds &feeds,
                                 const std::vector<NodeRef> &fetches) {
  std::vector<Tensor> on = Session(g).run(feeds, fetches);
  std::vector<Tensor> off = Session(g, {.passes = {.fusion = false}}).run(feeds, fetches);
  std::vector<Tensor> reference = run_reference(g, feeds, fetches);
  for (size_t i = 0; i < on.size(); ++i) {
    CHECK(test::compare(on[i], off[i], 0) == "");
    CHECK(test::compare(on[i], reference[i], 1e-5) == "");
  }
}

} // namespace

TEST_CASE("an elementwise chain with a broadcast operand becomes one fused node", "[fusion]") {
  Graph g;
  Value x = placeholder(g, "x", f32, {batch, 8});
  Value b = variable(g, "b", f32, {8});
  Value y = tanh(relu(x + b) * 2.0f);
  RootedGraph fused = fuse_loops({g, {y.id}});
  const Node &root = fused.graph.node(fused.roots[0]);
  CHECK(root.op->name == "fusion");
  CHECK(root.name == y.name()); // a fetch keeps its name
  std::vector<std::string> members;
  for (const Node &n : body_of(root).nodes())
    if (n.op->source == Source::none) members.push_back(n.op->name);
  CHECK(members == std::vector<std::string>{"add", "relu", "mul", "tanh"});
  // x, b and the constant 2 are its inputs.
  CHECK(root.inputs.size() == 3);
}

TEST_CASE("fusion keeps a value that is fetched or used outside the group", "[fusion]") {
  Graph g;
  Value x = placeholder(g, "x", f32, {4});
  Value a = exp(x);
  Value b = a + 1.0f, c = a * 2.0f; // a has users in two groups
  Value d = neg(b);
  RootedGraph fused = fuse_loops({g, {d.id, c.id, b.id}});
  // b is fetched, so neg(b) cannot absorb it; a feeds two groups.
  CHECK(count_op(fused.graph, "fusion") == 0);
  CHECK(fused.graph.size() == g.size());
}

TEST_CASE("an optimizer step for one variable becomes one fused update", "[fusion]") {
  Mlp m;
  RootedGraph fused = fuse_loops({m.g, {m.loss.id, m.train.id}});
  // Adam: two moving averages and the update, per variable (4 variables).
  CHECK(count_op(m.g, "adam_update") == 4);
  CHECK(count_op(fused.graph, "adam_update") == 0);
  CHECK(count_op(fused.graph, "moving_average") == 0);
  CHECK(count_op(fused.graph, "fused_update") == 4);
  for (const Node &n : fused.graph.nodes())
    if (n.op->name == "fused_update") CHECK(count_op(body_of(n), "moving_average") == 2);
}

TEST_CASE("fused training computes what unfused training does", "[fusion]") {
  Mlp m;
  std::mt19937 rng(3);
  Tensor labels(i32, {32});
  for (int64_t i = 0; i < labels.size(); ++i) labels.set(i, double(rng() % 5));
  Feeds feeds = {{"x", test::random_tensor(f32, {32, 12}, rng)}, {"y", labels}};
  Session fused(m.g, {.threads = 2});
  Session plain(m.g, {.threads = 2, .passes = {.fusion = false}});
  for (int step = 0; step < 3; ++step) {
    Tensor a = fused.run(feeds, {m.loss}, {m.train})[0];
    Tensor b = plain.run(feeds, {m.loss}, {m.train})[0];
    // The fused loops do the same operations in the same order.
    CHECK(test::compare(a, b, 0) == "");
  }
  for (const Node &n : m.g.nodes())
    if (n.op->source == Source::variable) {
      INFO(n.name);
      CHECK(test::compare(fused.variable(n.name), plain.variable(n.name), 0) == "");
    }
}

TEST_CASE("fusion does not move an update past a read of its variable", "[fusion]") {
  Graph g;
  Value x = placeholder(g, "x", f32, {3});
  Value s = variable(g, "s", f32, {3}, Init::ones());
  Value w = variable(g, "w", f32, {3}, Init::ones());
  Value s_new = assign_add(s, x);
  Value read = s * 3.0f; // after the update in graph order: sees the new s
  Value w_new = assign_add(w, s_new * 2.0f);
  RootedGraph fused = fuse_loops({g, {read.id, w_new.id}});
  // s_new * 2 joins w's update; s_new may not, `read` is between them.
  CHECK(count_op(fused.graph, "assign_add") == 1);
  Feeds feeds = {{"x", Tensor::from<float>({3}, {1, 2, 3})}};
  Session session(g);
  std::vector<Tensor> got = session.run(feeds, {read, w_new});
  std::vector<Tensor> want = run_reference(g, feeds, {read, w_new});
  CHECK(test::compare(got[0], want[0], 0) == "");
  CHECK(test::compare(got[1], want[1], 0) == "");
}

TEST_CASE("matmul and conv2d run their bias and activation in their own kernel", "[fusion]") {
  Graph g;
  Value x = placeholder(g, "x", f32, {batch, 3, 9, 9});
  Value h = nn::conv2d(g, x, 8, 3, nn::relu);
  // Depthwise (a task per plane), its bias and a residual add after it.
  std::mt19937 rng(5);
  Value depthwise = constant(g, test::random_tensor(f32, {8, 1, 3, 3}, rng));
  Value bias = constant(g, test::random_tensor(f32, {8, 1, 1}, rng));
  Value d = relu(conv2d(h, depthwise, {.padding = "same", .groups = 8}) + bias) + h;
  // 130 filters: two tile rows of the tiled path, one of them partial; times
  // a [7, 1] column, which does not walk H and W as one (tiles row by row).
  Value column = constant(g, test::random_tensor(f32, {7, 1}, rng));
  Value wide = nn::conv2d(g, d, 130, 1, nn::relu, {.seed = 3}) * column;
  Value y = nn::dense(g, flatten(wide), 10, nn::relu, {.seed = 2});
  RootedGraph in{g, {y.id}};
  RootedGraph fused = optimize(in);
  int outputs = 0;
  for (const Node &n : fused.graph.nodes())
    if (n.op->name == "fusion" && n.attr_string("kind") == "output") ++outputs;
  CHECK(outputs == 4);
  CHECK(count_op(fused.graph, "matmul") == 0);
  CHECK(count_op(fused.graph, "conv2d") == 0);
  // 1 and 3 images: the 130-filter convolution is tiled (the 8-filter one is
  // direct, its epilogue on image chunks). 37: the conv tasks' last chunk and
  // the matmul's edge tiles are partial.
  for (int64_t images : {1, 3, 37}) {
    INFO(images << " images");
    Feeds feeds = {{"x", test::random_tensor(f32, {images, 3, 9, 9}, rng)}};
    Tensor a = Session(g).run(feeds, {y})[0];
    Tensor b = Session(g, {.passes = {.fusion = false}}).run(feeds, {y})[0];
    CHECK(test::compare(a, b, 0) == "");
    CHECK(test::compare(a, run_reference(g, feeds, {y})[0], 1e-5) == "");
  }
}

TEST_CASE("batched matmuls run their epilogue on each matrix's tiles", "[fusion]") {
  Graph g;
  // [N, 100, 12] x [12, 130], then a bias and gelu: 130 columns are two
  // tile columns, one partial; the rows of 1, 2 and 5 items one to six tile
  // rows, partial ones too.
  Value x = placeholder(g, "x", f32, {batch, 100, 12});
  Value hidden = nn::dense(g, x, 130, nn::gelu);
  // The weight is shared by every item: one GEMM of 100 N rows, whose tiles
  // span items. A [100, 130] operand does not walk the items and rows as
  // one: its epilogue goes row by row.
  std::mt19937 rng(11);
  Value w = constant(g, test::random_tensor(f32, {12, 130}, rng));
  Value positions = constant(g, test::random_tensor(f32, {100, 130}, rng));
  Value shifted = relu(matmul(x, w) + positions);
  // Two leading dims folded into the rows: [N, 3, 40, 12] x [12, 130] plus an
  // operand [3, 1, 130] that varies along the middle one only.
  Value x4 = placeholder(g, "x4", f32, {batch, 3, 40, 12});
  Value per_group = constant(g, test::random_tensor(f32, {3, 1, 130}, rng));
  Value grouped = matmul(x4, w) - per_group;
  // [N, 3, 5, 6] x [N, 3, 6, 7], scaled, plus an operand that varies along
  // both leading dims ([3, 1, 1] per head, [N, 1, 1, 7] per item).
  Value a = placeholder(g, "a", f32, {batch, 3, 5, 6});
  Value b = placeholder(g, "b", f32, {batch, 3, 6, 7});
  Value per_head = constant(g, test::random_tensor(f32, {3, 1, 1}, rng));
  Value per_item = placeholder(g, "m", f32, {batch, 1, 1, 7});
  Value scores = (matmul(a, b) * 0.5f + per_head) * per_item;
  RootedGraph fused = optimize({g, {hidden.id, shifted.id, grouped.id, scores.id}});
  int outputs = 0;
  for (const Node &n : fused.graph.nodes())
    if (n.op->name == "fusion" && n.attr_string("kind") == "output") ++outputs;
  CHECK(outputs == 4);
  CHECK(count_op(fused.graph, "matmul") == 0);
  for (int64_t items : {1, 2, 5}) {
    INFO(items << " items");
    Feeds feeds = {{"x", test::random_tensor(f32, {items, 100, 12}, rng)},
                   {"x4", test::random_tensor(f32, {items, 3, 40, 12}, rng)},
                   {"a", test::random_tensor(f32, {items, 3, 5, 6}, rng)},
                   {"b", test::random_tensor(f32, {items, 3, 6, 7}, rng)},
                   {"m", test::random_tensor(f32, {items, 1, 1, 7}, rng)}};
    check_fusion_changes_no_bit(g, feeds, {hidden, shifted, grouped, scores});
  }
}

TEST_CASE("slices are read in place by the loops and epilogues that use them", "[fusion]") {
  Graph g;
  // An LSTM cell's gates: four slices of [N, 4 * 40], one with a step.
  Value gates = placeholder(g, "gates", f32, {batch, 160});
  Value c = placeholder(g, "c", f32, {batch, 40});
  auto gate = [&](int64_t k) { return slice(gates, {0, 40 * k}, {to_end, 40 * (k + 1)}); };
  Value every_other = slice(gates, {0, 81}, {to_end, 161}, {1, 2});
  Value c_next = sigmoid(gate(1)) * c + sigmoid(gate(0)) * tanh(every_other);
  Value h = sigmoid(gate(3)) * tanh(c_next);
  // A matmul's epilogue that adds a slice of a wider tensor.
  Value x = placeholder(g, "x", f32, {batch, 6});
  Value wide = placeholder(g, "wide", f32, {batch, 50});
  std::mt19937 rng(3);
  Value w = constant(g, test::random_tensor(f32, {6, 20}, rng));
  Value y = relu(matmul(x, w) + slice(wide, {0, 9}, {to_end, 49}, {1, 2}));
  // The same in a batched matmul whose batches fold into its rows: [N, 2, 6]
  // x [6, 20], plus a slice of [N, 2, 50] that does not walk the rows as one.
  Value xs = placeholder(g, "xs", f32, {batch, 2, 6});
  Value wides = placeholder(g, "wides", f32, {batch, 2, 50});
  Value ys = matmul(xs, w) * slice(wides, {0, 0, 30}, {to_end, 2, 50});
  RootedGraph fused = optimize({g, {c_next.id, h.id, y.id, ys.id}});
  CHECK(count_op(fused.graph, "slice") == 0);
  CHECK(count_op(fused.graph, "matmul") == 0);
  for (int64_t items : {1, 3, 33}) {
    INFO(items << " items");
    Feeds feeds = {{"gates", test::random_tensor(f32, {items, 160}, rng)},
                   {"c", test::random_tensor(f32, {items, 40}, rng)},
                   {"x", test::random_tensor(f32, {items, 6}, rng)},
                   {"wide", test::random_tensor(f32, {items, 50}, rng)},
                   {"xs", test::random_tensor(f32, {items, 2, 6}, rng)},
                   {"wides", test::random_tensor(f32, {items, 2, 50}, rng)}};
    check_fusion_changes_no_bit(g, feeds, {c_next, h, y, ys});
  }
}

TEST_CASE("a fused body's views are checked", "[fusion]") {
  auto fused = [](const std::string &kind, const std::string &slice_of, int end,
                  const std::string &last) {
    return fmt::format("%x = placeholder() {{dtype=f32, shape=[4, 6]}}\n"
                       "%f = fusion(%x) {{kind=\"{}\"}} body {{\n"
                       "  %p = parameter() {{dtype=f32, index=0, shape=[4, 6]}}\n"
                       "  %e = exp(%p)\n"
                       "  %s = slice({}) {{begin=[0, 0], end=[4, {}]}}\n"
                       "{}}}\n",
                       kind, slice_of, end, last);
  };
  CHECK_THROWS_WITH(parse_listing(fused("loop", "%e", 3, "  %n = neg(%s)\n")),
                    Catch::Contains("a view's input must be a parameter"));
  CHECK_THROWS_WITH(parse_listing(fused("loop", "%p", 1, "  %n = add(%e, %s)\n")),
                    Catch::Contains("a view is read in a loop of its shape"));
  CHECK_THROWS_WITH(parse_listing(fused("reduce", "%p", 3,
                                        "  %n = neg(%s)\n"
                                        "  %r = sum(%n) {axes=[1]}\n")),
                    Catch::Contains("a reduce fusion reads its inputs whole"));
  CHECK_NOTHROW(parse_listing(fused("loop", "%p", 3, "  %n = neg(%s)\n")));
}

TEST_CASE("a reduction computes its elementwise input slab by slab", "[fusion]") {
  Graph g;
  Value x = placeholder(g, "x", f32, {batch, 300});
  Value v = placeholder(g, "v", f32, {70000});
  std::vector<Value> outs = {
      sum(x * x + 1.0f, {1}),           // inner 1: one row per task
      sum(abs(x) * 2.0f, {0}),          // inner 300: two blocks of columns per task row
      max(exp(x - 1.0f), {0, 1}, true), // everything
      mean(exp(v * 0.001f)),            // a slab too big for the stack: a scratch buffer
  };
  RootedGraph fused = optimize({g, {outs[0].id, outs[1].id, outs[2].id, outs[3].id}});
  int reduces = 0;
  for (const Node &n : fused.graph.nodes())
    if (n.op->name == "fusion" && n.attr_string("kind") == "reduce") ++reduces;
  CHECK(reduces == 4);
  std::mt19937 rng(9);
  Feeds feeds = {{"x", test::random_tensor(f32, {37, 300}, rng)},
                 {"v", test::random_tensor(f32, {70000}, rng)}};
  std::vector<NodeRef> fetches(outs.begin(), outs.end());
  std::vector<Tensor> a = Session(g).run(feeds, fetches);
  std::vector<Tensor> b = Session(g, {.passes = {.fusion = false}}).run(feeds, fetches);
  std::vector<Tensor> want = run_reference(g, feeds, fetches);
  for (size_t i = 0; i < outs.size(); ++i) {
    INFO(outs[i].name());
    // The library reduces each slab as it reduces the stored input.
    CHECK(test::compare(a[i], b[i], 0) == "");
    CHECK(test::compare(a[i], want[i], 1e-5) == "");
  }
}

TEST_CASE("an input read for its shape does not keep its producer", "[fusion]") {
  // mean's gradient reads the shape of the loss terms (size, broadcast_like):
  // pointed at the placeholder instead, the terms fuse into the mean.
  Graph g;
  Value x = placeholder(g, "x", f32, {batch});
  Value w = variable(g, "w", f32, {}, Init::ones());
  Value loss = mean(square(x * w));
  Value dw = gradients(loss, {w})[0];
  RootedGraph in{g, {loss.id, dw.id}};
  RootedGraph out = retarget_shape_inputs(in);
  for (const Node &n : out.graph.nodes())
    for (size_t i : n.op->shape_only_inputs) {
      INFO(n.name);
      CHECK(out.graph.node(n.inputs[i]).name == "x");
    }
  RootedGraph optimized = optimize(in);
  CHECK(optimized.graph.node(optimized.roots[0]).attr_string("kind") == "reduce");
  Feeds feeds = {{"x", Tensor::from<float>({3}, {1, -2, 3})}};
  std::vector<Tensor> got = Session(g).run(feeds, {loss, dw});
  std::vector<Tensor> want = run_reference(g, feeds, {loss, dw});
  CHECK(test::compare(got[0], want[0], 1e-6) == "");
  CHECK(test::compare(got[1], want[1], 1e-6) == "");
}

TEST_CASE("a fused member reads a variable as updated by an earlier member", "[fusion]") {
  Graph g;
  Value x = placeholder(g, "x", f32, {3});
  Value v = variable(g, "v", f32, {3}, Init::ones());
  Value w = variable(g, "w", f32, {3}, Init::ones());
  Value v_new = assign_add(v, x);
  Value read = v * 2.0f; // after the update: the new v
  Value w_new = assign(w, v_new + read);
  RootedGraph fused = fuse_loops({g, {w_new.id}});
  REQUIRE(count_op(fused.graph, "fused_update") == 1);
  CHECK(count_op(fused.graph, "assign_add") == 0); // v's update is a member
  Feeds feeds = {{"x", Tensor::from<float>({3}, {1, 2, 3})}};
  CHECK(test::compare(Session(g).run(feeds, {w_new})[0], run_reference(g, feeds, {w_new})[0], 0) ==
        "");
}
