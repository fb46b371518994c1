// Checks for the composite layers (frontends/sequence.h, attention.h):
// gradients with respect to inputs and weights against central finite
// differences in f64, and a reader of the layers' variables for the
// references the tests write out.
//
// A layer creates its weights as variables, which cannot be fed. The check
// copies the graph with every float variable turned into a placeholder of
// its name and type, feeds random values to all of them, and then
// differentiates loss = sum(y * w) (w a fed random weight) symbolically in a
// Session and numerically in the reference interpreter, as grad_test.cpp does
// for single ops.
#pragma once

#include "finite_difference.h"
#include "passes/autodiff.h"
#include "session/session.h"
#include "test_util.h"

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <functional>
#include <random>

namespace kiln::test {

// g's nodes in order, float variables replaced by placeholders.
inline Graph variables_as_placeholders(const Graph &g) {
  Graph out;
  for (const Node &n : g.nodes()) {
    if (n.op->name == "variable" && is_float(n.type.dtype))
      out.add_node("placeholder", n.name, {},
                   {{"dtype", n.type.dtype}, {"shape", n.attr_ints("shape")}});
    else
      out.add_node(n.op->name, n.name, n.inputs, n.attrs);
  }
  return out;
}

// Builds a layer on f64 placeholders shaped `inputs` (kiln::batch fed as 1:
// batch 1 is the edge case) and checks the gradients of all of them and of
// the layer's weights.
inline void check_layer_gradients(const std::vector<Shape> &inputs,
                                  const std::function<Value(const std::vector<Value> &)> &build,
                                  uint32_t seed = 1) {
  constexpr int64_t kBatch = 1;
  Graph built;
  std::vector<Value> placeholders;
  for (size_t i = 0; i < inputs.size(); ++i)
    placeholders.push_back(placeholder(built, fmt::format("x{}", i), f64, inputs[i]));
  Value y = build(placeholders);
  Value weight = placeholder(built, "weight", f64, y.shape());
  NodeId loss_id = sum(y * weight).id;

  Graph g = variables_as_placeholders(built);
  std::mt19937 rng(seed);
  std::vector<bool> used(g.size(), false); // by the loss: W_hh is not, over one step
  used[size_t(loss_id)] = true;
  for (NodeId id = loss_id; id >= 0; --id)
    if (used[size_t(id)])
      for (NodeId in : g.node(id).inputs) used[size_t(in)] = true;
  Feeds feeds;
  std::vector<Value> wrt;
  for (const Node &n : g.nodes()) {
    if (n.op->name != "placeholder" || !used[size_t(n.id)]) continue;
    // Weights in [-1, 1] keep the gates away from saturation, where the
    // differences would have nothing to measure.
    feeds.emplace_back(n.id, random_tensor(f64, bind_batch(n.type.shape, kBatch), rng, -1, 1));
    if (n.name != "weight") wrt.push_back(Value{&g, n.id});
  }
  Value loss{&g, loss_id};
  std::vector<Value> grads = gradients(loss, wrt);
  Session session(g);
  std::vector<Tensor> symbolic = session.run(feeds, {grads.begin(), grads.end()});
  for (size_t k = 0; k < wrt.size(); ++k) {
    auto fed = std::find_if(feeds.begin(), feeds.end(),
                            [&](auto &f) { return f.first.resolve(g) == wrt[k].id; });
    Tensor numeric = numeric_gradient(g, feeds, size_t(fed - feeds.begin()), loss);
    INFO("gradient of " << wrt[k].name());
    // As in grad_test.cpp: central differences with h = 1e-6 are good to
    // ~1e-10 on these O(1) functions; 1e-6 leaves room for rounding.
    CHECK(compare(symbolic[k], numeric, 1e-6) == "");
  }
}

// A variable's value in a session, as doubles.
inline std::vector<double> values(const Session &s, const std::string &name) {
  Tensor t = s.variable(name);
  std::vector<double> v(size_t(t.size()));
  for (int64_t i = 0; i < t.size(); ++i) v[size_t(i)] = t.get(i);
  return v;
}

} // namespace kiln::test
