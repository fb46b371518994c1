#include "frontends/sequence.h"

#include "frontends/layer_seeds.h"
#include "ir/error.h"

#include <cmath>
#include <functional>

namespace kiln::nn {

Value embedding(Graph &g, Value ids, int64_t vocabulary, int64_t dim, EmbeddingOptions options) {
  if (ids.graph != &g) fail("embedding: ids '{}' belong to another graph", ids.name());
  if (!is_int(ids.dtype()))
    fail("embedding: ids '{}' must be integers, got {}", ids.name(), to_string(ids.type()));
  if (vocabulary < 1 || dim < 1)
    fail("embedding: vocabulary {} and dim {} must be positive", vocabulary, dim);
  Scope scope(g, unique_scope(g, options.scope));
  Value table =
      seeded_variable(g, "W", options.dtype, {vocabulary, dim}, options.init, options.seed);
  return gather(table, ids);
}

namespace {

// A recurrent layer's state after a step; `c` only for the LSTM. Empty
// values stand for the zero initial state.
struct State {
  Value h, c;
};

struct Cell {
  const char *name;
  int64_t gates;
  // The step from the step's input projection [N, gates * hidden] (x W_ih^T
  // plus the biases that `fold_bias_hh` says) and the previous state.
  std::function<State(Value x_proj, const State &prev, Value W_hh, Value b_hh)> step;
  bool fold_bias_hh; // b_hh joins the input projection (LSTM), or stays per step (GRU)
};

// h W_hh^T (+ b_hh), or b_hh alone for the zero initial state.
Value hidden_projection(Value h, Value W_hh, std::optional<Value> b_hh) {
  if (!h.graph) return *b_hh;
  Value p = matmul(h, W_hh, {.transpose_b = true}, "hidden_projection");
  return b_hh ? p + *b_hh : p;
}

State lstm_step(Value x_proj, const State &prev, Value W_hh, Value) {
  Value gates = prev.h.graph ? x_proj + hidden_projection(prev.h, W_hh, {}) : x_proj;
  std::vector<Value> p = split(gates, 4, 1, "gates");
  Value i = sigmoid(p[0], "i"), f = sigmoid(p[1], "f"), gg = tanh(p[2], "g");
  Value o = sigmoid(p[3], "o");
  Value c = prev.c.graph ? f * prev.c + i * gg : i * gg;
  return {mul(o, tanh(c), "h"), c};
}

State gru_step(Value x_proj, const State &prev, Value W_hh, Value b_hh) {
  Value hp = hidden_projection(prev.h, W_hh, b_hh);
  std::vector<Value> xs = split(x_proj, 3, 1, "input_gates");
  std::vector<Value> hs = split(hp, 3, hp.rank() - 1, "hidden_gates");
  Value r = sigmoid(xs[0] + hs[0], "r"), z = sigmoid(xs[1] + hs[1], "z");
  Value n = tanh(xs[2] + r * hs[2], "n");
  Value keep = 1.0 - z;
  return {prev.h.graph ? add(keep * n, z * prev.h, "h") : mul(keep, n, "h"), {}};
}

const Cell kLstm{"lstm", 4, lstm_step, true};
const Cell kGru{"gru", 3, gru_step, false};

// Step k of x [N, T, width] as [N, width], for every k. A slice's offset
// is a constant in its unit of code, so T slices of x would compile T units
// that deduplication cannot merge (measured: one more unit per step, 3.5x the
// compile time for 4x the steps). Slicing chunks of c = ceil(sqrt(T)) steps
// first, then steps out of the chunks, needs ~2 sqrt(T) distinct units
// (chunks of one size share their inner slices) for one more copy of x.
std::vector<Value> unstack_steps(Graph &g, Value x) {
  int64_t steps = x.shape()[1], width = x.shape()[2];
  auto chunk = int64_t(std::ceil(std::sqrt(double(steps))));
  std::vector<Value> out;
  auto step_of = [&](Value from, int64_t k) {
    return reshape(slice(from, {0, k}, {to_end, k + 1}), {-1, width});
  };
  if (steps <= 4) {
    for (int64_t k = 0; k < steps; ++k) out.push_back(step_of(x, k));
    return out;
  }
  Scope scope(g, "steps");
  for (int64_t begin = 0; begin < steps; begin += chunk) {
    Value part = slice(x, {0, begin}, {to_end, std::min(steps, begin + chunk)});
    for (int64_t k = 0; k < part.shape()[1]; ++k) out.push_back(step_of(part, k));
  }
  return out;
}

// One layer over x [N, T, in]: all hidden states [N, T, hidden] when
// `sequences`, else the last [N, hidden].
Value recurrent_layer(Graph &g, const Cell &cell, Value x, int64_t hidden, int64_t seed,
                      bool sequences) {
  int64_t in = x.shape()[2], steps = x.shape()[1], width = cell.gates * hidden;
  Init init = Init::uniform(1 / std::sqrt(double(hidden))); // PyTorch's
  DType t = x.dtype();
  Value W_ih = seeded_variable(g, "W_ih", t, {width, in}, init, seed);
  Value W_hh = seeded_variable(g, "W_hh", t, {width, hidden}, init, seed);
  Value b_ih = seeded_variable(g, "b_ih", t, {width}, init, seed);
  Value b_hh = seeded_variable(g, "b_hh", t, {width}, init, seed);
  // Every step's input projection in one matmul: [N, T, width].
  Value x_proj = matmul(x, W_ih, {.transpose_b = true}, "input_projection") +
                 (cell.fold_bias_hh ? b_ih + b_hh : b_ih);
  std::vector<Value> x_steps = unstack_steps(g, x_proj);
  State state;
  std::vector<Value> outputs;
  for (int64_t k = 0; k < steps; ++k) {
    Scope step(g, fmt::format("t{}", k));
    state = cell.step(x_steps[size_t(k)], state, W_hh, b_hh);
    if (sequences) outputs.push_back(reshape(state.h, {-1, 1, hidden}));
  }
  return sequences ? concat(outputs, 1, "hidden_states") : state.h;
}

Value recurrent(Graph &g, const Cell &cell, Value x, int64_t hidden,
                const RecurrentOptions &options) {
  if (x.graph != &g) fail("{}: input '{}' belongs to another graph", cell.name, x.name());
  Shape s = x.shape();
  if (s.size() != 3 || is_batch(s[1]) || is_batch(s[2]) || s[1] < 1 || !is_float(x.dtype()))
    fail("{}: input '{}' must be float [N, T, features] with T >= 1 and features known, got {}",
         cell.name, x.name(), to_string(x.type()));
  if (hidden < 1 || options.layers < 1)
    fail("{}: hidden size {} and layers {} must be positive", cell.name, hidden, options.layers);
  Scope scope(g, unique_scope(g, options.scope.empty() ? cell.name : options.scope));
  Value h = x;
  for (int64_t l = 0; l < options.layers; ++l) {
    Scope layer(g, fmt::format("layer_{}", l));
    bool last = l + 1 == options.layers;
    h = recurrent_layer(g, cell, h, hidden, options.seed, !last || options.return_sequences);
  }
  return h;
}

} // namespace

Value lstm(Graph &g, Value x, int64_t hidden, RecurrentOptions options) {
  return recurrent(g, kLstm, x, hidden, options);
}

Value gru(Graph &g, Value x, int64_t hidden, RecurrentOptions options) {
  return recurrent(g, kGru, x, hidden, options);
}

} // namespace kiln::nn
