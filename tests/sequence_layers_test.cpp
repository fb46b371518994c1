// nn::embedding, nn::lstm and nn::gru: forward results against a per-step
// reference written here with PyTorch's equations, gradients against finite
// differences (layer_check.h), and their errors.
#include "frontends/sequence.h"
#include "layer_check.h"

#include <cmath>

using namespace kiln;
using test::check_layer_gradients;

namespace {

double sigmoid(double x) { return 1 / (1 + std::exp(-x)); }

struct LayerWeights {
  std::vector<double> W_ih, W_hh, b_ih, b_hh;
};

LayerWeights weights(const Session &s, const std::string &layer) {
  return {test::values(s, layer + "/W_ih"), test::values(s, layer + "/W_hh"),
          test::values(s, layer + "/b_ih"), test::values(s, layer + "/b_hh")};
}

// W v + b for W [rows, v.size()].
std::vector<double> affine(const std::vector<double> &W, const std::vector<double> &b,
                           const std::vector<double> &v) {
  std::vector<double> out = b;
  for (size_t r = 0; r < out.size(); ++r)
    for (size_t c = 0; c < v.size(); ++c) out[r] += W[r * v.size() + c] * v[c];
  return out;
}

// One step of torch.nn.LSTM (gates i, f, g, o) or torch.nn.GRU (r, z, n):
// the new h (and c, for the LSTM) from x W_ih^T + b_ih and h W_hh^T + b_hh.
void lstm_step(const std::vector<double> &gi, const std::vector<double> &gh, std::vector<double> &h,
               std::vector<double> &c) {
  size_t H = h.size();
  for (size_t j = 0; j < H; ++j) {
    auto gate = [&](size_t k) { return gi[k * H + j] + gh[k * H + j]; };
    c[j] = sigmoid(gate(1)) * c[j] + sigmoid(gate(0)) * std::tanh(gate(2));
    h[j] = sigmoid(gate(3)) * std::tanh(c[j]);
  }
}

void gru_step(const std::vector<double> &gi, const std::vector<double> &gh, std::vector<double> &h,
              std::vector<double> &) {
  size_t H = h.size();
  for (size_t j = 0; j < H; ++j) {
    double r = sigmoid(gi[j] + gh[j]), z = sigmoid(gi[H + j] + gh[H + j]);
    double n = std::tanh(gi[2 * H + j] + r * gh[2 * H + j]);
    h[j] = (1 - z) * n + z * h[j];
  }
}

using Step = void (*)(const std::vector<double> &, const std::vector<double> &,
                      std::vector<double> &, std::vector<double> &);

// Every hidden state of the last layer, [N, T, H] flattened, for x [N, T, I].
std::vector<double> reference(const Session &s, const std::string &scope, Step step,
                              const Tensor &x, int64_t hidden, int64_t layers) {
  int64_t N = x.shape()[0], T = x.shape()[1], I = x.shape()[2];
  std::vector<double> seq(size_t(N * T * I));
  for (int64_t i = 0; i < x.size(); ++i) seq[size_t(i)] = x.get(i);
  for (int64_t l = 0, in = I; l < layers; ++l, in = hidden) {
    LayerWeights w = weights(s, scope + "/layer_" + std::to_string(l));
    std::vector<double> out(size_t(N * T * hidden));
    for (int64_t n = 0; n < N; ++n) {
      std::vector<double> h(size_t(hidden), 0), c(size_t(hidden), 0);
      for (int64_t t = 0; t < T; ++t) {
        auto from = seq.begin() + (n * T + t) * in;
        std::vector<double> xt(from, from + in);
        step(affine(w.W_ih, w.b_ih, xt), affine(w.W_hh, w.b_hh, h), h, c);
        std::copy(h.begin(), h.end(), out.begin() + (n * T + t) * hidden);
      }
    }
    seq = std::move(out);
  }
  return seq;
}

void check_forward(const char *name, Step step, int64_t layers) {
  INFO(name << ", " << layers << " layers");
  constexpr int64_t N = 3, T = 5, I = 4, H = 6;
  auto build = name == std::string("lstm") ? nn::lstm : nn::gru;
  std::mt19937 rng(11);
  Tensor xv = test::random_tensor(f32, {N, T, I}, rng, -1, 1);
  std::vector<Tensor> results;
  for (bool sequences : {true, false}) {
    Graph g;
    Value x = placeholder(g, "x", f32, {batch, T, I});
    Value y = build(g, x, H, {.layers = layers, .return_sequences = sequences, .seed = 3});
    CHECK(y.shape() == (sequences ? Shape{batch, T, H} : Shape{batch, H}));
    Session s(g);
    Tensor out = s.run({{x, xv}}, {y})[0];
    std::vector<double> expected = reference(s, name, step, xv, H, layers);
    if (!sequences) // the last step's rows
      for (int64_t n = 0; n < N; ++n)
        std::copy_n(expected.begin() + ((n + 1) * T - 1) * H, H, expected.begin() + n * H);
    expected.resize(size_t(out.size()));
    Tensor want(f32, out.shape());
    for (int64_t i = 0; i < want.size(); ++i) want.set(i, expected[size_t(i)]);
    // f32 against double: a few ulp per op over 5 steps and 2 layers.
    CHECK(test::compare(out, want, 2e-5) == "");
  }
}

} // namespace

TEST_CASE("lstm and gru match PyTorch's equations step by step", "[sequence]") {
  check_forward("lstm", lstm_step, 1);
  check_forward("lstm", lstm_step, 2);
  check_forward("gru", gru_step, 1);
  check_forward("gru", gru_step, 2);
}

TEST_CASE("lstm and gru variables follow PyTorch's names and shapes", "[sequence]") {
  Graph g;
  Value x = placeholder(g, "x", f32, {batch, 3, 5});
  nn::lstm(g, x, 7, {.layers = 2});
  nn::gru(g, x, 4);
  auto shape = [&](const char *name) { return g.node(g.at(name)).type.shape; };
  CHECK(shape("lstm/layer_0/W_ih") == Shape{28, 5});
  CHECK(shape("lstm/layer_1/W_ih") == Shape{28, 7});
  CHECK(shape("lstm/layer_1/W_hh") == Shape{28, 7});
  CHECK(shape("lstm/layer_1/b_hh") == Shape{28});
  CHECK(shape("gru/layer_0/W_ih") == Shape{12, 5});
  CHECK(shape("gru/layer_0/b_ih") == Shape{12});
  // One scope per step: the dumps read step by step.
  CHECK(g.find("lstm/layer_0/t2/h"));
  CHECK(g.find("gru/layer_0/t2/n"));
  CHECK(g.find("gru/layer_0/t2/h"));
}

TEST_CASE("lstm and gru gradients match finite differences", "[sequence][grad]") {
  for (auto layer : {nn::lstm, nn::gru}) {
    for (int64_t steps : {1, 3}) {
      INFO(steps << " steps");
      check_layer_gradients({{batch, steps, 2}}, [&](auto &v) {
        return layer(*v[0].graph, v[0], 3, {.return_sequences = true});
      });
    }
    check_layer_gradients({{batch, 2, 2}},
                          [&](auto &v) { return layer(*v[0].graph, v[0], 2, {.layers = 2}); });
  }
}

TEST_CASE("embedding picks rows and its gradient scatters", "[sequence][grad]") {
  Graph g;
  Value ids = placeholder(g, "ids", i32, {batch, 3});
  Value y = nn::embedding(g, ids, 5, 2);
  CHECK(y.shape() == Shape{batch, 3, 2});
  Session s(g);
  Tensor out = s.run({{ids, Tensor::from<int32_t>({1, 3}, {4, 0, 4})}}, {y})[0];
  std::vector<double> table = test::values(s, "embedding/W");
  Tensor want(f32, {1, 3, 2});
  for (int64_t i = 0; i < 6; ++i) want.set(i, table[size_t((i / 2 == 1 ? 0 : 4) * 2 + i % 2)]);
  CHECK(test::compare(out, want, 0) == "");

  // Repeated ids: the gradient adds their rows.
  check_layer_gradients({{batch, 3, 2}}, [](auto &v) {
    Graph &g = *v[0].graph;
    Value ids = constant(g, Tensor::from<int32_t>({1, 3}, {2, 0, 2}));
    return nn::embedding(g, ids, 3, 2, {.dtype = f64}) * v[0];
  });
}

TEST_CASE("sequence layers explain bad input", "[sequence][errors]") {
  Graph g;
  Value flat = placeholder(g, "flat", f32, {batch, 4});
  Value ints = placeholder(g, "ints", i32, {batch, 3, 4});
  Value seq = placeholder(g, "seq", f32, {batch, 3, 4});
  CHECK_THROWS_WITH(nn::lstm(g, flat, 4),
                    "lstm: input 'flat' must be float [N, T, features] with T >= 1 and features "
                    "known, got f32[?, 4]");
  CHECK_THROWS_WITH(nn::gru(g, ints, 4), Catch::Contains("gru: input 'ints' must be float"));
  CHECK_THROWS_WITH(nn::lstm(g, seq, 0), "lstm: hidden size 0 and layers 1 must be positive");
  CHECK_THROWS_WITH(nn::embedding(g, seq, 4, 2),
                    "embedding: ids 'seq' must be integers, got f32[?, 3, 4]");
}
