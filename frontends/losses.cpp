#include "frontends/losses.h"

#include "ir/error.h"

namespace kiln::nn {

namespace {

void check_logits(std::string_view loss, Value logits) {
  if (logits.rank() != 2 || is_batch(logits.shape()[1]))
    fail("{}: logits must be [N, C] with C known, got '{}' of type {}", loss, logits.name(),
         to_string(logits.type()));
}

void check_labels(std::string_view loss, Value logits, Value labels) {
  if (!is_int(labels.dtype()) || labels.rank() != 1)
    fail("{}: labels must be integers [N], got '{}' of type {}", loss, labels.name(),
         to_string(labels.type()));
  check_logits(loss, logits);
}

} // namespace

Value softmax_cross_entropy(Value logits, Value labels, std::string name) {
  check_labels("softmax_cross_entropy", logits, labels);
  Value targets = one_hot(labels, logits.shape()[1], logits.dtype());
  return softmax_cross_entropy_with_probs(logits, targets, std::move(name));
}

Value softmax_cross_entropy_with_probs(Value logits, Value targets, std::string name) {
  check_logits("softmax_cross_entropy", logits);
  return neg(sum(targets * log_softmax(logits), {-1}), std::move(name));
}

Value sigmoid_cross_entropy(Value logits, Value targets, std::string name) {
  // softplus(x) - x z = max(x, 0) - x z + log1p(exp(-|x|)), stable for any x.
  return sub(softplus(logits), logits * targets, std::move(name));
}

Value mse(Value prediction, Value target, std::string name) {
  return mean(square(prediction - target), {}, false, std::move(name));
}

Value l2_penalty(const std::vector<Value> &weights, double scale, std::string name) {
  if (weights.empty()) fail("l2_penalty: no weights");
  Value total = sum(square(weights[0]));
  for (size_t i = 1; i < weights.size(); ++i) total = total + sum(square(weights[i]));
  return mul(total, scale, std::move(name));
}

Value accuracy(Value logits, Value labels, std::string name) {
  check_labels("accuracy", logits, labels);
  Value hit = equal(argmax(logits, 1), cast(labels, i64));
  return mean(cast(hit, f32), {}, false, std::move(name));
}

} // namespace kiln::nn
