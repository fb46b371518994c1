// Helpers shared by the tests: random tensors and comparisons with a stated
// tolerance, small datasets and the classifier fit()'s tests train.
#pragma once

#include "data/dataset.h"
#include "frontends/losses.h"
#include "frontends/nn.h"
#include "frontends/optim.h"
#include "ir/error.h"
#include "ir/tensor.h"
#include "ops/builder.h"
#include "session/trainer.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <functional>
#include <memory>
#include <random>
#include <string>

namespace kiln::test {

// The message of the kiln::Error that `f` throws, or "no error".
inline std::string error_of(const std::function<void()> &f) {
  try {
    f();
  } catch (const Error &e) {
    return e.what();
  }
  return "no error";
}

// A fused node (ops/fusion.h) over `inputs` whose body computes
// `members(parameters)`: what the fusion pass makes, built by hand.
inline Value fused(const std::vector<Value> &inputs,
                   const std::function<Value(const std::vector<Value> &)> &members,
                   const std::string &op = "fusion") {
  auto body = std::make_shared<Graph>();
  std::vector<Value> parameters;
  for (size_t i = 0; i < inputs.size(); ++i)
    parameters.push_back(
        apply(*body, "parameter", {},
              {{"index", int64_t(i)}, {"dtype", inputs[i].dtype()}, {"shape", inputs[i].shape()}},
              inputs[i].name()));
  members(parameters);
  return apply(*inputs[0].graph, op, inputs,
               {{"kind", std::string("loop")}, {"body", std::shared_ptr<const Graph>(body)}});
}

// Uniform values in [lo, hi]; integers round, bools are 0/1.
inline Tensor random_tensor(DType dtype, const Shape &shape, std::mt19937 &rng, double lo = -3,
                            double hi = 3) {
  Tensor t(dtype, shape);
  std::uniform_real_distribution<double> u(lo, hi);
  for (int64_t i = 0; i < t.size(); ++i) {
    double v = u(rng);
    t.set(i, dtype == DType::boolean ? double(v > (lo + hi) / 2)
             : is_int(dtype)         ? std::round(v)
                                     : v);
  }
  return t;
}

// Equal within `tol`, relative to max(1, |expected|); NaN matches NaN and
// infinities must match exactly. Returns "" or a description of the first
// mismatch.
inline std::string compare(const Tensor &actual, const Tensor &expected, double tol) {
  if (actual.dtype() != expected.dtype() || actual.shape() != expected.shape())
    return "got " + actual.summary() + ", expected " + expected.summary();
  for (int64_t i = 0; i < actual.size(); ++i) {
    double a = actual.get(i), e = expected.get(i);
    if (std::isnan(e) && std::isnan(a)) continue;
    if (std::isinf(e) && a == e) continue;
    if (std::abs(a - e) <= tol * std::max(1.0, std::abs(e))) continue;
    return "element " + std::to_string(i) + ": got " + std::to_string(a) + ", expected " +
           std::to_string(e);
  }
  return "";
}

// 3 features, 2 classes (the sign of the first feature), `n` items: a
// dataset a linear model learns in a few steps.
inline Dataset sign_dataset(int64_t n, std::mt19937 &rng) {
  Dataset d{random_tensor(f32, {n, 3}, rng), Tensor(i32, {n})};
  for (int64_t i = 0; i < n; ++i) d.labels.set(i, d.inputs.get(i * 3) > 0);
  return d;
}

// What fit()'s tests train: one dense layer from `features` inputs ("x") to 2
// classes ("y"), SGD at `lr`.
inline Classifier linear_classifier(Graph &g, int64_t features, double lr = 0.1) {
  Value x = placeholder(g, "x", f32, {batch, features});
  Value y = placeholder(g, "y", i32, {batch});
  Value logits = nn::dense(g, x, 2, {}, {.seed = 1});
  Value loss = mean(nn::softmax_cross_entropy(logits, y));
  Value accuracy = nn::accuracy(logits, y);
  return {x, y, loss, accuracy, optim::SGD{.lr = lr}.minimize(loss)};
}

} // namespace kiln::test
