// The listing form (ir/listing.h) and its parser (ir/listing_parser.h):
// every graph prints, parses back to an equal graph and prints the same text
// (models built with frontends/, their gradients and optimized forms, and
// values that need care); bad text fails naming its line and column.
#include "frontends/losses.h"
#include "frontends/nn.h"
#include "frontends/optim.h"
#include "frontends/sequence.h"
#include "ir/error.h"
#include "ir/listing.h"
#include "ir/listing_parser.h"
#include "passes/pass.h"
#include "test_util.h"

#include <cmath>
#include <limits>

using namespace kiln;
using Catch::Matchers::Contains;

namespace {

void check_round_trip(const Graph &g) {
  std::string text = to_listing(g);
  Graph back = parse_listing(text);
  CHECK(back == g);
  CHECK(to_listing(back) == text);
}

// A training step for `logits` computed from x: the loss, the gradients and
// the optimizer's updates, as the graph and as the pipeline makes it.
void check_training_step(Graph &g, Value logits) {
  Value labels = placeholder(g, "labels", i32, {batch});
  Value loss = mean(nn::softmax_cross_entropy(logits, labels), {}, false, "loss");
  Value train = optim::Adam{.lr = 1e-3}.minimize(loss);
  INFO("the training step");
  check_round_trip(g);
  for (bool fusion : {true, false}) {
    INFO("optimized, fusion " << fusion);
    check_round_trip(optimize({g, {loss.id, train.id}}, {.fusion = fusion}).graph);
  }
}

} // namespace

TEST_CASE("an MLP, a conv net and an LSTM print and parse back", "[listing]") {
  SECTION("mlp") {
    Graph g;
    Value x = placeholder(g, "x", f32, {batch, 12});
    Value h = nn::dense(g, x, 16, nn::relu);
    check_training_step(g, nn::dense(g, h, 3));
  }
  SECTION("conv net") {
    Graph g;
    Value x = placeholder(g, "x", f32, {batch, 1, 8, 8});
    Value c = nn::conv2d(g, x, 4, 3, nn::relu, {.padding = "same"});
    Value p = max_pool2d(c, {});
    check_training_step(g, nn::dense(g, flatten(p), 3));
  }
  SECTION("lstm") {
    Graph g;
    Value x = placeholder(g, "x", f32, {batch, 4, 3});
    Value h = nn::lstm(g, x, 5, {.layers = 2});
    check_training_step(g, nn::dense(g, h, 3));
  }
}

TEST_CASE("values that need care print and parse back exactly", "[listing]") {
  // Quoted names, non-finite and negative-zero floats, f32 values at their
  // shortest, i64 extremes, bools, splats, an empty tensor, a fused body.
  std::string text =
      R"(%"a name, with \"quotes\"\n" = placeholder() {dtype=f64, shape=[-1, 4]} : f64[?, 4]
%größe = constant() {value=f64[4]{nan, inf, -inf, -0}} : f64[4]
%edges = add(%"a name, with \"quotes\"\n", %größe) : f64[?, 4]
%clipped = clip(%edges) {max=inf, min=-1e-300} : f64[?, 4]
%tenths = constant() {value=f32[3]{0.1, 1e-07, 3.4028235e+38}} : f32[3]
%ends = constant() {value=i64[2]{9223372036854775807, -9223372036854775808}} : i64[2]
%mask = constant() {value=bool[2, 2]{1, 0, 0, 1}} : bool[2, 2]
%halves = constant() {value=f32[4, 3]{0.5}} : f32[4, 3]
%none = constant() {value=f32[0, 3]{}} : f32[0, 3]
%f = fusion(%halves, %tenths) {kind="loop"} : f32[4, 3] body {
  %p0 = parameter() {dtype=f32, index=0, shape=[4, 3]} : f32[4, 3]
  %p1 = parameter() {dtype=f32, index=1, shape=[3]} : f32[3]
  %sum = add(%p0, %p1) : f32[4, 3]
  %f = exp(%sum) : f32[4, 3]
}
)";
  Graph g = parse_listing(text);
  CHECK(to_listing(g) == text);
  CHECK(parse_listing(to_listing(g)) == g);
  const Tensor &zeros = g.node(g.at("größe")).attr_tensor("value");
  CHECK(std::isnan(zeros.get(0)));
  CHECK(std::signbit(zeros.get(3)));
  CHECK(g.node(g.at("ends")).attr_tensor("value").data<int64_t>()[1] ==
        std::numeric_limits<int64_t>::min());
  CHECK(g.node(g.at("halves")).attr_tensor("value").get(11) == 0.5);
}

TEST_CASE("text written by hand may leave out defaults, types and layout", "[listing]") {
  Graph g = parse_listing("# a comment\n"
                          "%x = placeholder() {shape=[-1, 3], dtype=f32}   # any order\n"
                          "%w = variable() {dtype=f32, shape=[3, 2]}\n"
                          "%y = matmul(%x,%w)\n");
  CHECK(
      to_listing(g) ==
      "%x = placeholder() {dtype=f32, shape=[-1, 3]} : f32[?, 3]\n"
      "%w = variable() {dtype=f32, initializer=\"zeros\", scale=1, seed=-1, shape=[3, 2], "
      "trainable=true} : f32[3, 2]\n"
      "%y = matmul(%x, %w) {sum_batch=false, transpose_a=false, transpose_b=false} : f32[?, 2]\n");
}

TEST_CASE("a listing for reading may leave out large tensors' values", "[listing]") {
  Graph g = parse_listing("%small = constant() {value=f32[2, 2]{1, 2, 3, 4}}\n"
                          "%big = constant() {value=f32[5]{1, 2, 3, 4, 5}}\n"
                          "%equal = constant() {value=f32[6]{7}}\n");
  std::string text = to_listing(g, 4);
  CHECK(text == "%small = constant() {value=f32[2, 2]{1, 2, 3, 4}} : f32[2, 2]\n"
                "%big = constant() {value=f32[5]{...}} : f32[5]\n"
                "%equal = constant() {value=f32[6]{7}} : f32[6]\n");
  CHECK_THROWS_WITH(parse_listing(text, "t"),
                    "t:2:32: the values of f32[5] were left out of this listing (kiln dump prints "
                    "them with --all-values)");
}

TEST_CASE("bad listing text fails naming the line and column", "[listing]") {
  const std::string x = "%x = placeholder() {dtype=f32, shape=[-1, 3]}\n";
  struct Bad {
    std::string text, message;
  };
  const std::vector<Bad> cases = {
      {"%x = placeholder {dtype=f32}", "t:1:18: expected '(' after the op name, got '{'"},
      {x + "%y = relu(%z)", "t:2:11: '%z' is not defined above"},
      {x + "%y = rleu(%x)", "t:2:6: unknown op 'rleu'; did you mean 'relu'?"},
      {x + "%y = relu(%x) : f32[3]",
       "t:2:17: the type is written f32[3], op 'relu' infers f32[?, 3]"},
      {x + "%y = leaky_relu(%x) {alpah=0.1}",
       "t:2:22: op 'leaky_relu' has no attribute 'alpah'; did you mean 'alpha'?"},
      {x + "%y = leaky_relu(%x) {alpha=high}", "t:2:28: expected a number, got 'high'"},
      {x + "%y = leaky_relu(%x) {alpha=0.1, alpha=0.2}",
       "t:2:33: attribute 'alpha' is given twice"},
      {x + "%y = cast(%x) {dtype=f16}",
       "t:2:22: unknown dtype 'f16' (known: f32, f64, i32, i64, bool)"},
      {x + "%y = relu(%x, %x)", "t:2:1: node 'y' (relu): expected 1 inputs, got 2"},
      {x + "%x = relu(%x)", "t:2:1: node 'x' (relu): duplicate node name"},
      {"%c = constant() {value=f32[2]{1, 2, 3}}",
       "t:1:30: f32[2] holds 2 values, got 3 (one value fills it)"},
      {"%c = constant() {value=i32[1]{99999999999}}",
       "t:1:31: a value '99999999999' is out of range"},
      {"%c = constant() {value=bool[1]{2}}", "t:1:31: a bool value is 0 or 1, got 2"},
      {"%c = constant() {value=f32[-2]{}}", "t:1:24: dim -2 of shape [-2] must be >= 0"},
      {"%c = constant() {value=f64[4, 6666666666663]{0}}",
       "t:1:24: f64[4, 6666666666663] needs 213333333333216 bytes, past the 256 MiB that a "
       "listing's tensors hold in all (save the graph in binary)"},
      {"%a = constant() {value=f32[32, 1048576]{0}}\n"
       "%b = constant() {value=f32[33, 1048576]{1}}",
       "t:2:24: f32[33, 1048576] needs 138412032 bytes after 134217728 for the tensors above, "
       "past the 256 MiB that a listing's tensors hold in all (save the graph in binary)"},
      {x + "%y = relu(%x) {}\n}", "t:3:1: '}' closes no block"},
      {x + "relu(%x)", "t:2:1: expected a node ('%name = op(...)'), got 'relu'"},
      {x + "%y = relu(%x) body {\n}", "t:2:15: op 'relu' has no attribute 'body'"},
      {x + "%f = fusion(%x) {kind=\"loop\"} body {\n  %p = parameter() {dtype=f32, index=0, "
           "shape=[-1, 3]}\n  %e = exp(%p)\n",
       "t:5:1: expected '}' to close the block of 'body', got the end of the text"},
      {"%\"x = placeholder()", "t:1:2: unterminated string"},
      {x + std::string("\0", 1), "t:2:1: unexpected '\\x00'"},
      {"%\"\\q\" = placeholder()",
       "t:1:3: unknown escape in a string (known: \\\" \\\\ \\n \\t \\xNN)"},
  };
  for (const Bad &c : cases) {
    INFO(c.text);
    try {
      parse_listing(c.text, "t");
      FAIL("parsed");
    } catch (const Error &e) {
      CHECK(std::string(e.what()) == c.message);
    }
  }
}
