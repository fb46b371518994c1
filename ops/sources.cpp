// Source ops: placeholder (fed at run time), constant (a tensor attribute)
// and variable (state owned by the session). A variable's reference kernel is
// its initializer: the session calls it to create the initial value.
#include "ops/sources.h"

#include "ir/error.h"
#include "ir/graph.h"
#include "ops/random.h"

#include <algorithm>
#include <array>
#include <cmath>

namespace kiln::ops {

namespace {

OpDef placeholder_op() {
  OpDef def;
  def.name = "placeholder";
  def.source = Source::placeholder;
  def.attrs = {{"dtype", AttrKind::dtype, std::nullopt}, {"shape", AttrKind::ints, std::nullopt}};
  def.infer = [](const Node &node, std::span<const TensorType>) {
    check_dims(node.attr_ints("shape"), /*allow_batch=*/true);
    return TensorType{node.attr_dtype("dtype"), node.attr_ints("shape")};
  };
  return def;
}

OpDef constant_op() {
  OpDef def;
  def.name = "constant";
  def.source = Source::constant;
  def.attrs = {{"value", AttrKind::tensor, std::nullopt}};
  def.infer = [](const Node &node, std::span<const TensorType>) {
    const Tensor &v = node.attr_tensor("value");
    return TensorType{v.dtype(), v.shape()};
  };
  def.reference = [](const Node &node, std::span<const Tensor>, Tensor &out) {
    std::memcpy(out.raw(), node.attr_tensor("value").raw(), out.bytes());
  };
  return def;
}

constexpr std::array<std::string_view, 10> kInitializers = {
    "zeros",          "ones",          "constant",   "uniform",  "normal", "truncated_normal",
    "glorot_uniform", "glorot_normal", "he_uniform", "he_normal"};

// Fan-in and fan-out as Keras computes them: for a conv filter [O, I, kh, kw]
// each is multiplied by the receptive field; a matrix [in, out] is (in, out).
std::pair<double, double> fans(const Shape &s) {
  if (s.empty()) return {1, 1};
  if (s.size() == 1) return {double(s[0]), double(s[0])};
  if (s.size() == 2) return {double(s[0]), double(s[1])};
  double field = double(num_elements(s)) / double(s[0] * s[1]);
  return {double(s[1]) * field, double(s[0]) * field};
}

void initialize(const Node &node, Tensor &out) {
  const std::string &kind = node.attr_string("initializer");
  int64_t seed_attr = node.attr_int("seed");
  Random rng(seed_attr >= 0 ? uint64_t(seed_attr) : stable_hash(node.name));
  auto [fan_in, fan_out] = fans(out.shape());
  double scale = node.attr_float("scale");
  auto fill = [&](auto draw) {
    for (int64_t i = 0; i < out.size(); ++i) out.set(i, draw());
  };
  if (kind == "zeros")
    fill([] { return 0.0; });
  else if (kind == "ones")
    fill([] { return 1.0; });
  else if (kind == "constant")
    fill([&] { return scale; });
  else if (kind == "uniform")
    fill([&] { return rng.uniform(-scale, scale); });
  else if (kind == "normal")
    fill([&] { return rng.normal(0, scale); });
  else if (kind == "truncated_normal")
    fill([&] { return rng.truncated_normal(0, scale); });
  else if (kind == "glorot_uniform") {
    double limit = scale * std::sqrt(6.0 / (fan_in + fan_out));
    fill([&] { return rng.uniform(-limit, limit); });
  } else if (kind == "glorot_normal") {
    double stddev = scale * std::sqrt(2.0 / (fan_in + fan_out));
    fill([&] { return rng.truncated_normal(0, stddev); });
  } else if (kind == "he_uniform") {
    double limit = scale * std::sqrt(6.0 / fan_in);
    fill([&] { return rng.uniform(-limit, limit); });
  } else if (kind == "he_normal") {
    double stddev = scale * std::sqrt(2.0 / fan_in);
    fill([&] { return rng.truncated_normal(0, stddev); });
  }
}

// `scale` is the value for "constant", the half-width for "uniform", the
// standard deviation for the normals and a gain for Glorot/He.
OpDef variable_op() {
  OpDef def;
  def.name = "variable";
  def.source = Source::variable;
  def.stateful = true;
  def.attrs = {{"dtype", AttrKind::dtype, std::nullopt},
               {"shape", AttrKind::ints, std::nullopt},
               {"initializer", AttrKind::s, std::string("zeros")},
               {"scale", AttrKind::f, 1.0},
               {"seed", AttrKind::i, int64_t{-1}},
               // Optimizers train the trainable variables the loss depends on;
               // optimizer slots, step counters and running statistics are not.
               {"trainable", AttrKind::b, true}};
  def.infer = [](const Node &node, std::span<const TensorType>) {
    const Shape &shape = node.attr_ints("shape");
    check_dims(shape, /*allow_batch=*/false);
    const std::string &init = node.attr_string("initializer");
    if (std::find(kInitializers.begin(), kInitializers.end(), init) == kInitializers.end())
      fail("unknown initializer '{}'", init);
    return TensorType{node.attr_dtype("dtype"), shape};
  };
  def.reference = [](const Node &node, std::span<const Tensor>, Tensor &out) {
    initialize(node, out);
  };
  return def;
}

} // namespace

void register_source_ops(OpRegistry &registry) {
  registry.add(placeholder_op());
  registry.add(constant_op());
  registry.add(variable_op());
}

} // namespace kiln::ops
