// LSTM and GRU, unrolled over the static sequence length as kiln's own layers
// are (frontends/sequence.h), from the ONNX weights: forward, reverse and
// bidirectional, layout 0 (X [seq, batch, input]), the default activations,
// no peepholes, sequence_lens or clip.
#include "onnx/converter.h"

#include "ir/error.h"

#include <fmt/format.h>

#include <functional>

namespace kiln::onnx_import {

namespace {

// Row block `k` (of `size` rows) of direction d's [dirs, rows, cols] weights,
// as [size, cols]; of a bias [dirs, n], the block as [size].
Value block(Value w, int64_t d, int64_t k, int64_t size) {
  Shape s = w.shape();
  Value rows = slice(w, {d, k * size}, {d + 1, (k + 1) * size});
  if (s.size() == 2) return reshape(rows, {size});
  return reshape(rows, {size, s[2]});
}

// Step t of X [seq, batch, input] as [batch, input].
Value step(Value x, int64_t t) { return reshape(slice(x, {t}, {t + 1}), {batch, x.shape()[2]}); }

// Direction d of an initial state [dirs, batch, hidden], or nullopt when omitted.
std::optional<Value> initial(const Inputs &in, size_t k, int64_t d) {
  if (!in.has(k)) return std::nullopt;
  Value s = in.at(k);
  return reshape(slice(s, {d}, {d + 1}), {batch, s.shape()[2]});
}

// x W^T + h R^T + Wb + Rb for gate k of direction d (h absent: zero).
struct Gates {
  Value w, r;
  std::optional<Value> b;
  int64_t hidden;

  Value wx(Value x, int64_t d, int64_t k) const {
    Value y = matmul(x, block(w, d, k, hidden), {.transpose_b = true});
    return b ? add(y, block(*b, d, k, hidden)) : y;
  }
  Value rh(std::optional<Value> h, int64_t d, int64_t k, int64_t bias_block) const {
    if (!h) return b ? block(*b, d, bias_block, hidden) : constant(*w.graph, 0.0, w.dtype());
    Value y = matmul(*h, block(r, d, k, hidden), {.transpose_b = true});
    return b ? add(y, block(*b, d, bias_block, hidden)) : y;
  }
  Value sum(Value x, std::optional<Value> h, int64_t d, int64_t k, int64_t blocks) const {
    return add(wx(x, d, k), rh(h, d, k, blocks + k));
  }
};

int64_t directions(const OnnxNode &n) {
  return n.s("direction", "forward") == "bidirectional" ? 2 : 1;
}

std::string check_rnn(const OnnxNode &n, const std::vector<std::string> &activations) {
  std::string direction = n.s("direction", "forward");
  if (direction != "forward" && direction != "reverse" && direction != "bidirectional")
    return fmt::format("direction '{}' is not an ONNX direction", direction);
  if (n.i("layout", 0) != 0) return "layout=1 is not supported";
  if (n.has("clip")) return "clip is not supported";
  if (n.i("input_forget", 0) != 0) return "input_forget=1 is not supported";
  if (n.has("activation_alpha") || n.has("activation_beta"))
    return "activation_alpha/beta are not supported";
  if (n.has("activations")) {
    std::vector<std::string> given(n.attrs.at("activations")->strings().begin(),
                                   n.attrs.at("activations")->strings().end());
    for (size_t k = 0; k < given.size(); ++k)
      if (given[k] != activations[k % activations.size()])
        return fmt::format("activation '{}' is not supported (the defaults are)", given[k]);
  }
  if (n.i("hidden_size", 0) < 1) return "hidden_size is required";
  return "";
}

// The outputs: Y [seq, dirs, batch, hidden] and the last state of each direction [dirs, batch,
// hidden].
std::vector<Value> outputs(const std::vector<std::vector<Value>> &ys,
                           const std::vector<Value> &last_h, const std::vector<Value> &last_c,
                           const std::vector<std::string> &names) {
  int64_t hidden = ys[0][0].shape()[1];
  std::vector<Value> steps;
  for (size_t t = 0; t < ys[0].size(); ++t)
    for (const std::vector<Value> &y : ys) steps.push_back(reshape(y[t], {1, 1, batch, hidden}));
  auto dirs = int64_t(ys.size());
  Value y = reshape(concat(steps, 0), {int64_t(ys[0].size()), dirs, batch, hidden}, names[0]);
  auto stack = [&](const std::vector<Value> &states, const std::string &name) {
    std::vector<Value> parts;
    for (Value s : states) parts.push_back(reshape(s, {1, batch, hidden}));
    return reshape(concat(parts, 0), {dirs, batch, hidden}, name);
  };
  std::vector<Value> out = {y};
  if (names.size() > 1 && !names[1].empty()) out.push_back(stack(last_h, names[1]));
  if (names.size() > 2 && !names[2].empty()) out.push_back(stack(last_c, names[2]));
  return out;
}

void check_inputs(const Inputs &in) {
  if (in.has(4)) fail("sequence_lens is not supported (every sequence has the full length)");
  if (in.values.size() > 7 && in.has(7)) fail("peepholes (input P) are not supported");
  Shape x = in.at(0).shape();
  if (x.size() != 3 || is_batch(x[0]) || !is_batch(x[1]))
    fail("X is {}, expected [seq, batch, input] with the batch dim", to_string(in.at(0).type()));
}

// The state between steps: h, and c for an LSTM (absent before the first
// step without an initial state: zero).
struct State {
  std::optional<Value> h, c;
};
using Cell = std::function<State(const Gates &g, Value x, const State &s, int64_t d)>;

// Every direction of the cell over the sequence, and the ONNX outputs.
std::vector<Value> unroll(const OnnxNode &n, const Inputs &in,
                          const std::vector<std::string> &names, const Cell &cell) {
  check_inputs(in);
  Value x = in.at(0);
  Gates g{in.at(1), in.at(2), in.has(3) ? std::optional(in.at(3)) : std::nullopt,
          n.i("hidden_size", 0)};
  int64_t seq = x.shape()[0];
  std::vector<std::vector<Value>> ys;
  std::vector<Value> last_h, last_c;
  for (int64_t d = 0; d < directions(n); ++d) {
    bool reverse = d == 1 || n.s("direction", "forward") == "reverse";
    State s{initial(in, 5, d), initial(in, 6, d)};
    std::vector<Value> y(size_t(seq), Value{});
    for (int64_t k = 0; k < seq; ++k) {
      int64_t t = reverse ? seq - 1 - k : k;
      s = cell(g, step(x, t), s, d);
      y[size_t(t)] = *s.h;
    }
    ys.push_back(y);
    last_h.push_back(*s.h);
    if (s.c) last_c.push_back(*s.c);
  }
  return outputs(ys, last_h, last_c, names);
}

// ONNX's gates i, o, f, c: c_t = f c + i tanh(.); h_t = o tanh(c_t).
std::vector<Value> lstm(Graph &, const OnnxNode &n, const Inputs &in,
                        const std::vector<std::string> &names) {
  return unroll(n, in, names, [](const Gates &g, Value x, const State &s, int64_t d) {
    Value i = sigmoid(g.sum(x, s.h, d, 0, 4)), o = sigmoid(g.sum(x, s.h, d, 1, 4));
    Value f = sigmoid(g.sum(x, s.h, d, 2, 4)), cell = tanh(g.sum(x, s.h, d, 3, 4));
    Value c = s.c ? add(f * *s.c, i * cell) : i * cell;
    return State{o * tanh(c), c};
  });
}

// ONNX's gates z, r, h: h_t = (1 - z) n + z h, n = tanh(x Wh + r (h Rh + Rbh) + Wbh)
// (linear_before_reset=1, as PyTorch) or tanh(x Wh + (r h) Rh + Rbh + Wbh).
std::vector<Value> gru(Graph &, const OnnxNode &n, const Inputs &in,
                       const std::vector<std::string> &names) {
  bool before_reset = n.i("linear_before_reset", 0) != 0;
  return unroll(n, in, names, [before_reset](const Gates &g, Value x, const State &s, int64_t d) {
    Value z = sigmoid(g.sum(x, s.h, d, 0, 3)), r = sigmoid(g.sum(x, s.h, d, 1, 3));
    Value candidate = before_reset ? tanh(add(g.wx(x, d, 2), r * g.rh(s.h, d, 2, 5)))
                      : s.h        ? tanh(add(g.wx(x, d, 2), g.rh(r * *s.h, d, 2, 5)))
                                   : tanh(add(g.wx(x, d, 2), g.rh(s.h, d, 2, 5)));
    Value h = s.h ? add((1.0 - z) * candidate, z * *s.h) : (1.0 - z) * candidate;
    return State{h, std::nullopt};
  });
}

Converter rnn(Builder build, std::vector<std::string> activations, bool is_gru) {
  Converter c{.attributes = {{"activation_alpha", onnx::AttributeProto::FLOATS},
                             {"activation_beta", onnx::AttributeProto::FLOATS},
                             {"activations", onnx::AttributeProto::STRINGS},
                             {"clip", kFloat},
                             {"direction", kString},
                             {"hidden_size", kInt},
                             {"layout", kInt}},
              .min_inputs = 3,
              .max_inputs = is_gru ? 6 : 8,
              .max_outputs = is_gru ? 2 : 3};
  if (is_gru)
    c.attributes.insert({"linear_before_reset", kInt});
  else
    c.attributes.insert({"input_forget", kInt});
  c.check = [activations](const OnnxNode &n) { return check_rnn(n, activations); };
  c.build = std::move(build);
  return c;
}

} // namespace

void add_rnn_converters(ConverterTable &t) {
  t["LSTM"] = rnn(lstm, {"Sigmoid", "Tanh", "Tanh"}, false);
  t["GRU"] = rnn(gru, {"Sigmoid", "Tanh"}, true);
}

} // namespace kiln::onnx_import
