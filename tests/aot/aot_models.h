// The graphs the ahead-of-time tests compile: built the same way by
// make_models (whose files kiln_add_model compiles at build time) and by the
// tests (whose Sessions are the reference), so both start from equal
// variables.
#pragma once

#include "../../examples/models.h"
#include "frontends/losses.h"
#include "frontends/optim.h"

namespace kiln::aot_test {

// MLP 784-512-10: fetches "probabilities" and "predicted" (the class); train
// target "adam/train" with fetch "loss" (feeds x f32[N, 784], y i32[N]).
inline Graph mlp_graph() {
  Graph g;
  Value x = placeholder(g, "x", f32, {batch, 784});
  Value y = placeholder(g, "y", i32, {batch});
  Value logits = models::mlp(g, x, 7);
  softmax(logits, -1, "probabilities");
  argmax(logits, 1, false, "predicted");
  Value loss = mean(nn::softmax_cross_entropy(logits, y), {}, false, "loss");
  optim::Adam{.lr = 1e-3}.minimize(loss);
  return g;
}

// LeNet-5: fetch "probabilities" (feed x f32[N, 1, 28, 28]).
inline Graph lenet_graph() {
  Graph g;
  Value x = placeholder(g, "x", f32, {batch, 1, 28, 28});
  softmax(models::lenet(g, x, 3), -1, "probabilities");
  return g;
}

} // namespace kiln::aot_test
