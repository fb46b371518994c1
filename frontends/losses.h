// Losses, per example unless said otherwise: average them with kiln::mean.
// Each is built from ops, so it differentiates like any other graph.
#pragma once

#include "ops/builder.h"

#include <vector>

namespace kiln::nn {

// -log softmax(logits)[label] for logits [N, C] and integer labels [N]; a
// label outside [0, C) fails the run, naming its row and value.
Value softmax_cross_entropy(Value logits, Value labels, std::string name = {});
// -sum(targets * log_softmax(logits)) over the last axis, targets [N, C]
// (one-hot or any distribution).
Value softmax_cross_entropy_with_probs(Value logits, Value targets, std::string name = {});
// Binary cross-entropy on logits, elementwise, computed stably:
// max(x, 0) - x * z + log(1 + exp(-|x|)).
Value sigmoid_cross_entropy(Value logits, Value targets, std::string name = {});
// mean((prediction - target)^2): a scalar.
Value mse(Value prediction, Value target, std::string name = {});
// sum of squares of every weight, times `scale`: a scalar to add to a loss
// (coupled L2; the optimizers' weight_decay is the decoupled alternative).
Value l2_penalty(const std::vector<Value> &weights, double scale, std::string name = {});

// The fraction of rows whose largest logit is at the label: a scalar.
Value accuracy(Value logits, Value labels, std::string name = {});

} // namespace kiln::nn
