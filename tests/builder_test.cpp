// The builder API builds the graph structure we expect: node names, inferred
// types, attributes and errors. Running graphs is tested elsewhere.
#include "frontends/nn.h"
#include "ops/builder.h"

#include "ir/error.h"

#include <catch2/catch.hpp>

using namespace kiln;
using Catch::Matchers::Contains;

namespace {

std::string type_of(Value v) { return to_string(v.type()); }

Value named(Graph &g, std::string_view name) { return {&g, g.at(name)}; }

std::vector<std::string> input_names(Value v) {
  std::vector<std::string> names;
  for (NodeId id : v.node().inputs) names.push_back(v.graph->node(id).name);
  return names;
}

} // namespace

TEST_CASE("an MLP on a batch placeholder keeps the symbolic batch dim", "[builder]") {
  Graph g;
  Value x = placeholder(g, "x", f32, {batch, 784});
  Value h = nn::dense(g, x, 512, nn::relu);
  Value logits = nn::dense(g, h, 10);

  CHECK(type_of(x) == "f32[?, 784]");
  CHECK(type_of(h) == "f32[?, 512]");
  CHECK(type_of(logits) == "f32[?, 10]");
  CHECK(h.name() == "dense/relu");
  CHECK(logits.name() == "dense_1/add");
  CHECK(input_names(h) == std::vector<std::string>{"dense/add"});
  CHECK(input_names(named(g, "dense/add")) == std::vector<std::string>{"dense/matmul", "dense/b"});
  CHECK(input_names(named(g, "dense_1/matmul")) ==
        std::vector<std::string>{"dense/relu", "dense_1/W"});

  const Node &w = g.node(g.at("dense/W"));
  CHECK(w.op->name == "variable");
  CHECK(w.attr_string("initializer") == "glorot_uniform");
  CHECK(w.attr_ints("shape") == Shape{784, 512});
  CHECK(w.attr_dtype("dtype") == f32);
  CHECK(w.attr_int("seed") == -1);
  const Node &b = g.node(g.at("dense_1/b"));
  CHECK(b.attr_string("initializer") == "zeros");
  CHECK(b.attr_ints("shape") == Shape{10});
}

TEST_CASE("dense options: no bias, seeds, scope name, activations", "[builder]") {
  Graph g;
  Value x = placeholder(g, "x", f64, {batch, 3});
  nn::DenseOptions options{.use_bias = false, .seed = 7, .scope = "proj"};
  options.bias_init = Init::ones();
  Value y = nn::dense(g, x, 4, nn::tanh, options);
  CHECK(y.name() == "proj/tanh");
  CHECK(type_of(y) == "f64[?, 4]");
  CHECK_FALSE(g.find("proj/b"));
  CHECK(g.node(g.at("proj/W")).attr_int("seed") == 7);

  options = {.kernel_init = Init::he_normal().seed(3), .seed = 9};
  auto leaky = [](Value v) { return leaky_relu(v, 0.2); };
  nn::dense(g, x, 2, leaky, options);
  CHECK(g.node(g.at("dense/W")).attr_int("seed") == 3);
  CHECK(g.node(g.at("dense/b")).attr_int("seed") == 9);
  CHECK(g.node(g.at("dense/leaky_relu")).attr_float("alpha") == 0.2);
}

TEST_CASE("dense checks its input", "[builder]") {
  Graph g, other;
  Value v = placeholder(g, "v", f32, {batch});
  CHECK_THROWS_WITH(nn::dense(g, v, 4), Contains("dense: input 'v'") && Contains("known last dim"));
  Value x = placeholder(other, "x", f32, {2, 3});
  CHECK_THROWS_WITH(nn::dense(g, x, 4), Contains("another graph"));
}

TEST_CASE("scopes prefix and uniquify default names", "[builder]") {
  Graph g;
  Value x = placeholder(g, "x", f32, {2});
  {
    Scope outer(g, "block");
    CHECK((x + x).name() == "block/add");
    CHECK((x + x).name() == "block/add_1");
    Scope inner(g, "inner");
    CHECK(exp(x).name() == "block/inner/exp");
    CHECK(placeholder(g, "y", f32, {}).name() == "block/inner/y");
  }
  CHECK((x + x).name() == "add");
  CHECK(mul(x, x, "scaled").name() == "scaled");
  CHECK_THROWS_WITH(mul(x, x, "scaled"), Contains("node 'scaled' (mul): duplicate node name"));
  CHECK_THROWS_WITH(placeholder(g, "x", f32, {}), Contains("node 'x' (placeholder)"));
}

TEST_CASE("unique_scope skips scopes that hold nodes", "[builder]") {
  Graph g;
  Value x = placeholder(g, "x", f32, {2});
  CHECK(unique_scope(g, "dense") == "dense");
  {
    Scope s(g, unique_scope(g, "dense"));
    relu(x);
    CHECK(unique_scope(g, "dense") == "dense"); // "dense/dense" is free
  }
  CHECK(unique_scope(g, "dense") == "dense_1");
  CHECK(unique_scope(g, "x") == "x_1"); // a node's own name is taken too
}

TEST_CASE("scalar operands take the Value's dtype", "[builder]") {
  Graph g;
  Value x = placeholder(g, "x", f32, {batch, 3});
  Value y = x * 2.0;
  CHECK(type_of(y) == "f32[?, 3]");
  Value two = {&g, y.node().inputs[1]};
  CHECK(two.node().op->name == "constant");
  CHECK(two.node().attr_tensor("value").get(0) == 2.0);
  CHECK(type_of(two) == "f32[]");

  Value z = 1.0 - x;
  CHECK(z.node().op->name == "sub");
  CHECK(g.node(z.node().inputs[0]).op->name == "constant");
  CHECK(z.node().inputs[1] == x.id);

  Value i = placeholder(g, "i", i64, {4});
  CHECK(type_of(i / 2) == "i64[4]");
  CHECK(type_of(maximum(x, 0)) == "f32[?, 3]");
  CHECK(type_of(less(x, 0.5f)) == "bool[?, 3]");
  CHECK(type_of(pow(2.0, x)) == "f32[?, 3]");
  CHECK((-x).node().op->name == "neg");
  CHECK_THROWS_WITH(add(1.0, 2), Contains("needs at least one Value operand"));
}

TEST_CASE("constants and variables", "[builder]") {
  Graph g;
  CHECK(constant(g, 2.0f).dtype() == f32);
  CHECK(constant(g, 2.0).dtype() == f64);
  CHECK(constant(g, 2).dtype() == i32);
  CHECK(constant(g, int64_t{2}).dtype() == i64);
  CHECK(constant(g, true).dtype() == boolean);
  CHECK(constant(g, 3.0, i32, "three").name() == "three");
  Value t = constant(g, Tensor::from<float>({2, 2}, {1, 2, 3, 4}));
  CHECK(type_of(t) == "f32[2, 2]");
  CHECK(t.name() == "constant_5");

  Value v = variable(g, "v", f32, {3, 4}, Init::uniform(0.5).seed(42));
  const Node &n = v.node();
  CHECK(n.attr_string("initializer") == "uniform");
  CHECK(n.attr_float("scale") == 0.5);
  CHECK(n.attr_int("seed") == 42);
  CHECK(variable(g, "z", f32, {2}).node().attr_string("initializer") == "zeros");
  CHECK(variable(g, "c", f32, {2}, Init::constant(0.1)).node().attr_float("scale") == 0.1);
  CHECK(variable(g, "h", f32, {2}, Init::he_normal(2)).node().attr_float("scale") == 2.0);
  CHECK_THROWS_WITH(variable(g, "bad", f32, {batch, 2}), Contains("node 'bad' (variable)"));
}

TEST_CASE("op attributes land on the node", "[builder]") {
  Graph g;
  Value a = placeholder(g, "a", f32, {batch, 4, 3});
  Value w = placeholder(g, "w", f32, {5, 3});

  Value m = matmul(a, w, {.transpose_b = true});
  CHECK(m.node().attr_bool("transpose_b"));
  CHECK_FALSE(m.node().attr_bool("transpose_a"));
  CHECK(type_of(m) == "f32[?, 4, 5]");

  Value s = sum(m, {1}, true);
  CHECK(s.node().attr_ints("axes") == std::vector<int64_t>{1});
  CHECK(type_of(s) == "f32[?, 1, 5]");
  CHECK(type_of(mean(m)) == "f32[]");
  CHECK(type_of(max(m, {-1})) == "f32[?, 4]");
  CHECK(type_of(argmax(m)) == "i64[?, 4]");
  CHECK(softmax(m).node().attr_int("axis") == -1);
  CHECK(log_softmax(m, 1).node().attr_int("axis") == 1);

  Value c = clip(a, -1, 1);
  CHECK(c.node().attr_float("min") == -1.0);
  CHECK(c.node().attr_float("max") == 1.0);
  CHECK(type_of(cast(a, i64)) == "i64[?, 4, 3]");
  CHECK(elu(a, 0.5).node().attr_float("alpha") == 0.5);

  Value sl = slice(a, {0, 1, 0}, {to_end, to_end, 3}, {1, 2, 1});
  CHECK(sl.node().attr_ints("steps") == std::vector<int64_t>{1, 2, 1});
  CHECK(type_of(sl) == "f32[?, 2, 3]");
}

TEST_CASE("shape ops infer shapes", "[builder]") {
  Graph g;
  Value x = placeholder(g, "x", f32, {batch, 784});
  CHECK(type_of(reshape(x, {-1, 28, 28})) == "f32[?, 28, 28]");
  CHECK(type_of(flatten(reshape(x, {-1, 28, 28}))) == "f32[?, 784]");
  Value w = placeholder(g, "w", f32, {2, 3, 4});
  CHECK(type_of(transpose(w)) == "f32[4, 3, 2]");
  CHECK(type_of(transpose(w, {0, 2, 1})) == "f32[2, 4, 3]");
  CHECK(type_of(concat({w, w, w}, 1)) == "f32[2, 9, 4]");
  CHECK(type_of(broadcast_to(constant(g, 1.0f), {2, 3})) == "f32[2, 3]");
  Value cond = greater(w, 0.0);
  CHECK(type_of(select(cond, w, 0.0)) == "f32[2, 3, 4]");
  CHECK(type_of(logical_and(cond, logical_not(cond))) == "bool[2, 3, 4]");
}

TEST_CASE("errors name the node", "[builder]") {
  Graph g;
  Value a = placeholder(g, "a", f32, {batch, 3});
  Value w = placeholder(g, "w", f32, {4, 2});
  {
    Scope s(g, "dense");
    CHECK_THROWS_WITH(matmul(a, w),
                      Contains("node 'dense/matmul' (matmul)") && Contains("inner dimensions"));
  }
  Value steps = placeholder(g, "steps", f32, {batch, 5, 3});
  Value proj = placeholder(g, "proj", f32, {batch, 3, 4}), v = placeholder(g, "v", f32, {5, 2});
  CHECK_THROWS_WITH(matmul(steps, proj, {.sum_batch = true}),
                    Contains("node 'matmul' (matmul)") &&
                        Contains("sum_batch needs transpose_a and not transpose_b"));
  CHECK_THROWS_WITH(matmul(steps, v, {.transpose_a = true, .sum_batch = true}),
                    Contains("sum_batch needs equal batch dims, got [?] and []"));
  Value i = placeholder(g, "i", i32, {batch, 3});
  CHECK_THROWS_AS(a + i, Error);
  CHECK_THROWS_WITH(a + i, Contains("node 'add' (add)"));

  Graph other;
  Value b = placeholder(other, "b", f32, {batch, 3});
  CHECK_THROWS_WITH(add(a, b, "sum_ab"),
                    Contains("node 'sum_ab' (add): input 1 ('b') belongs to another graph"));
  CHECK_THROWS_WITH(concat({}), Contains("op 'concat' needs an input Value"));
  CHECK_THROWS_WITH(relu(Value{}), Contains("needs an input Value"));
  CHECK_THROWS_WITH(Value{}.shape(), Contains("empty Value"));
  CHECK_THROWS_WITH(reshape(a, {-1, 4}), Contains("node 'reshape' (reshape)"));
}

TEST_CASE("builder: scalars an integer tensor cannot hold are errors", "[builder]") {
  kiln::Graph g;
  auto i = kiln::placeholder(g, "i", kiln::i32, {3});
  auto f = kiln::placeholder(g, "f", kiln::f32, {3});
  CHECK_THROWS_WITH(i * 0.5,
                    "the scalar 0.5 is not representable as i32; cast the tensor or the scalar");
  CHECK_NOTHROW(i * 2.0);
  CHECK_NOTHROW(f * 0.1);
}
