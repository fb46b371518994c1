// Builder functions for random numbers, indexing and padding, and split (a
// composite of slices: a node has one output).
#include "ops/builder.h"

#include "ir/error.h"

#include <fmt/ranges.h>

#include <algorithm>

namespace kiln {

namespace {

Value random_node(Graph &g, std::string_view op, const char *a_name, const char *b_name,
                  Shape shape, double a, double b, int64_t seed, std::optional<Value> counter,
                  DType dtype, std::string name) {
  Value c = counter ? *counter : constant(g, int64_t{0});
  Attrs attrs = {
      {"shape", std::move(shape)}, {"dtype", dtype}, {a_name, a}, {b_name, b}, {"seed", seed}};
  return apply(g, op, {c}, std::move(attrs), std::move(name));
}

// The normalized axis; the batch dim's size is unknown, so it cannot be split.
size_t split_axis(Value x, int64_t axis) {
  auto a = size_t(normalize_axis(axis, x.rank(), "split"));
  if (is_batch(x.shape()[a])) fail("split of '{}': cannot split the batch dim {}", x.name(), a);
  return a;
}

} // namespace

Value random_uniform(Graph &g, Shape shape, double lo, double hi, int64_t seed,
                     std::optional<Value> counter, DType dtype, std::string name) {
  return random_node(g, "random_uniform", "lo", "hi", std::move(shape), lo, hi, seed, counter,
                     dtype, std::move(name));
}

Value random_normal(Graph &g, Shape shape, double mean, double stddev, int64_t seed,
                    std::optional<Value> counter, DType dtype, std::string name) {
  return random_node(g, "random_normal", "mean", "stddev", std::move(shape), mean, stddev, seed,
                     counter, dtype, std::move(name));
}

Value random_uniform_like(Value x, double lo, double hi, int64_t seed, std::optional<Value> counter,
                          std::string name) {
  return random_uniform(*x.graph, x.shape(), lo, hi, seed, counter, x.dtype(), std::move(name));
}

Value random_normal_like(Value x, double mean, double stddev, int64_t seed,
                         std::optional<Value> counter, std::string name) {
  return random_normal(*x.graph, x.shape(), mean, stddev, seed, counter, x.dtype(),
                       std::move(name));
}

Value gather(Value params, Value indices, std::string name) {
  return apply("gather", {params, indices}, {}, std::move(name));
}

Value one_hot(Value indices, int64_t depth, DType dtype, double on, double off, std::string name) {
  Attrs attrs = {{"depth", depth}, {"dtype", dtype}, {"on", on}, {"off", off}};
  return apply("one_hot", {indices}, std::move(attrs), std::move(name));
}

Value pad(Value x, std::vector<int64_t> pads, double value, std::string name) {
  return apply("pad", {x}, {{"pads", std::move(pads)}, {"value", value}}, std::move(name));
}

std::vector<Value> split(Value x, std::vector<int64_t> sizes, int64_t axis, std::string name) {
  size_t a = split_axis(x, axis);
  int64_t dim = x.shape()[a], known = 0;
  auto unknown = std::count(sizes.begin(), sizes.end(), -1);
  for (int64_t s : sizes) known += s == -1 ? 0 : s;
  bool negative = std::any_of(sizes.begin(), sizes.end(), [](int64_t s) { return s < -1; });
  if (sizes.empty() || negative || unknown > 1 || known > dim || (!unknown && known != dim))
    fail("split of '{}': sizes [{}] do not add up to dim {} ({})", x.name(), fmt::join(sizes, ", "),
         a, dim);
  std::replace(sizes.begin(), sizes.end(), int64_t{-1}, dim - known);
  Graph &g = *x.graph;
  Scope scope(g, name.empty() ? unique_scope(g, "split") : name);
  std::vector<Value> pieces;
  std::vector<int64_t> begin(a + 1, 0), end(a + 1, to_end);
  for (size_t i = 0; i < sizes.size(); ++i) {
    end[a] = begin[a] + sizes[i];
    pieces.push_back(slice(x, begin, end, {}, std::to_string(i)));
    begin[a] = end[a];
  }
  return pieces;
}

std::vector<Value> split(Value x, int64_t num, int64_t axis, std::string name) {
  int64_t dim = x.shape()[split_axis(x, axis)];
  if (num < 1 || dim % num != 0)
    fail("split of '{}': dim {} ({}) cannot be split into {} equal pieces", x.name(), axis, dim,
         num);
  return split(x, std::vector<int64_t>(size_t(num), dim / num), axis, std::move(name));
}

} // namespace kiln
