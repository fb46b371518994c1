// A structured fuzz target: the bytes drive a small graph generator (random
// ops from the registry, random inputs among the nodes so far, random
// attributes of each op's kinds and random shapes), so that verification and
// type inference see well-formed calls with hostile values, which mutated
// files rarely reach. Every node either is added or fails with kiln::Error;
// the graph built must round-trip through the binary form.
#include "targets.h"

#include "ir/error.h"
#include "ir/graph.h"
#include "ir/op.h"
#include "ir/serialize.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>

namespace kiln::fuzz {

namespace {

// Reads choices from the fuzzer's bytes; zeros once they run out.
class Choices {
public:
  explicit Choices(std::string_view bytes) : bytes_(bytes) {}
  bool empty() const { return at_ >= bytes_.size(); }
  size_t below(size_t n) { return n == 0 ? 0 : byte() % n; }
  template <typename T, size_t N> const T &pick(const T (&options)[N]) { return options[below(N)]; }

private:
  uint8_t byte() { return at_ < bytes_.size() ? uint8_t(bytes_[at_++]) : 0; }
  std::string_view bytes_;
  size_t at_ = 0;
};

constexpr DType kDTypes[] = {DType::f32, DType::f64, DType::i32, DType::i64, DType::boolean};
constexpr int64_t kInts[] = {0,
                             1,
                             2,
                             3,
                             4,
                             -1,
                             -2,
                             5,
                             7,
                             std::numeric_limits<int64_t>::max(),
                             std::numeric_limits<int64_t>::min(),
                             int64_t(1) << 40};
constexpr double kFloats[] = {0, 1, -1, 0.5, 2, 1e30, -1e-30, NAN, INFINITY, -INFINITY};
const char *const kStrings[] = {"same",    "valid",     "explicit",       "zeros",  "ones",
                                "uniform", "normal",    "glorot_uniform", "output", "loop",
                                "",        "he_normal", "x\xff"};

Shape random_shape(Choices &c, bool allow_batch) {
  Shape shape(c.below(4));
  for (int64_t &d : shape) d = allow_batch && c.below(5) == 0 ? batch : int64_t(c.below(5));
  return shape;
}

std::vector<int64_t> random_ints(Choices &c) {
  std::vector<int64_t> v(c.below(5));
  for (int64_t &x : v) x = c.pick(kInts);
  return v;
}

std::optional<AttrValue> random_attr(Choices &c, AttrKind kind) {
  switch (kind) {
  case AttrKind::i: return c.pick(kInts);
  case AttrKind::f: return c.pick(kFloats);
  case AttrKind::b: return c.below(2) == 1;
  case AttrKind::s: return std::string(c.pick(kStrings));
  case AttrKind::ints: {
    // Shapes are the most common list: give them plausible dims often.
    if (c.below(2) == 0) {
      Shape s = random_shape(c, true);
      return std::vector<int64_t>(s.begin(), s.end());
    }
    return random_ints(c);
  }
  case AttrKind::floats: {
    std::vector<double> v(c.below(4));
    for (double &x : v) x = c.pick(kFloats);
    return v;
  }
  case AttrKind::dtype: return c.pick(kDTypes);
  case AttrKind::tensor: return Tensor(c.pick(kDTypes), random_shape(c, false));
  case AttrKind::graph: return std::nullopt; // fused bodies come from the fusion pass
  }
  return std::nullopt;
}

// An op's attributes: each left to its default, or a random value of its kind.
Attrs random_attrs(Choices &c, const OpDef &op) {
  Attrs attrs;
  for (const AttrSpec &spec : op.attrs) {
    if (spec.default_value && c.below(3) == 0) continue;
    if (auto v = random_attr(c, spec.kind)) attrs.emplace(spec.name, std::move(*v));
  }
  return attrs;
}

void add_random_node(Graph &g, Choices &c, int index) {
  std::span<const OpDef> ops = OpRegistry::get().all();
  const OpDef &op = ops[c.below(ops.size())];
  int most = op.max_inputs < 0 ? op.min_inputs + 3 : op.max_inputs;
  int count = op.min_inputs + int(c.below(size_t(most - op.min_inputs + 1)));
  std::vector<NodeId> inputs;
  for (int i = 0; i < count && g.size() > 0; ++i) inputs.push_back(NodeId(c.below(g.size())));
  try {
    g.add_node(op.name, "n" + std::to_string(index), std::move(inputs), random_attrs(c, op));
  } catch (const Error &) {
  }
}

} // namespace

void graph_builder(std::string_view bytes) {
  Choices c(bytes);
  Graph g;
  // Placeholders of random types first, so that most ops find inputs.
  for (size_t i = 0, n = 1 + c.below(3); i < n; ++i) {
    try {
      g.add_node("placeholder", "p" + std::to_string(i), {},
                 {{"dtype", c.pick(kDTypes)}, {"shape", random_shape(c, true)}});
    } catch (const Error &) {
    }
  }
  for (int i = 0; i < 24 && !c.empty(); ++i) add_random_node(g, c, i);
  // The binary form only: the text form's round trip is graph_text's (and
  // halving the work here doubles the executions an hour gives).
  Graph back = deserialize(serialize(g, GraphFormat::binary), GraphFormat::binary);
  if (back == g) return;
  // Both graphs, for whoever triages the input.
  std::fprintf(stderr, "fuzz property failed: a built graph round-trips\n%s\nloaded back:\n%s\n",
               serialize(g, GraphFormat::text).c_str(), serialize(back, GraphFormat::text).c_str());
  std::abort();
}

} // namespace kiln::fuzz
