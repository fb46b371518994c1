// Algebraic simplification: identities that drop a node or make two one.
//   x * 1, 1 * x, x + 0, 0 + x, x - 0, x / 1  -> x  (constants of any shape, all 1s or 0s)
//   neg(neg(x))                               -> x
//   transpose(transpose(x))                   -> x, or one transpose
//   reshape or flatten of a reshape or flatten -> one reshape (or x)
//   reshape, flatten, broadcast_to/like, cast, slice, pad, concat, sum, mean,
//   max, min whose result has the type of input 0 -> input 0 (a reshape to
//   its own shape, a cast to its own dtype, a sum over kept size-1 dims, a
//   concat with only empty others: autodiff builds such nodes)
// All are exact, except that x + 0 -> x keeps a -0 of x that the add makes +0.
//
// A node is replaced by another only when that one has exactly its type
// (x * ones([4, 3]) with x of [3] broadcasts: it stays), and never when the
// node is a root, which must stay visible under its name. A root is only ever
// rebuilt under its own name (one transpose or reshape for two).
#include "passes/passes.h"
#include "passes/rewrite.h"

#include <algorithm>
#include <array>
#include <numeric>
#include <optional>
#include <string_view>

namespace kiln {

namespace {

// What a node simplifies to: a node already built (`same`), or a new node
// `op(input)` with `attrs`, built under the node's name.
struct Simpler {
  std::optional<NodeId> same;
  std::string op = {};
  NodeId input = -1;
  Attrs attrs = {};
};

// Ops whose result is input 0 unchanged whenever it has input 0's type.
constexpr std::array<std::string_view, 12> kSameWhenTypeKept = {
    "reshape", "flatten", "broadcast_to", "broadcast_like", "cast", "slice",
    "pad",     "concat",  "sum",          "mean",           "max",  "min"};

bool is_reshape(const Node &n) { return n.op->name == "reshape" || n.op->name == "flatten"; }

bool filled_with(const Node &n, double value) {
  if (n.op->source != Source::constant) return false;
  const Tensor &t = n.attr_tensor("value");
  for (int64_t i = 0; i < t.size(); ++i)
    if (t.get(i) != value) return false;
  return true;
}

// A transpose's permutation, the empty default (reverse the dims) spelled out.
std::vector<int64_t> permutation(const Node &t) {
  std::vector<int64_t> perm = t.attr_ints("perm");
  if (perm.empty()) {
    perm.resize(t.type.shape.size());
    std::iota(perm.rbegin(), perm.rend(), 0);
  }
  return perm;
}

bool is_identity(const std::vector<int64_t> &perm) {
  for (size_t d = 0; d < perm.size(); ++d)
    if (perm[d] != int64_t(d)) return false;
  return true;
}

Simpler simplify(const Graph &out, const Node &n, const std::vector<NodeId> &in) {
  if (in.empty()) return {};
  const std::string &op = n.op->name;
  auto fits = [&](NodeId x) { return out.node(x).type == n.type; };
  auto filled = [&](size_t i, double value) { return filled_with(out.node(in[i]), value); };
  double unit = op == "mul" || op == "div" ? 1 : 0;
  if ((op == "add" || op == "mul") && filled(0, unit) && fits(in[1])) return {in[1]};
  if ((op == "add" || op == "mul" || op == "sub" || op == "div") && filled(1, unit) && fits(in[0]))
    return {in[0]};
  const Node &a = out.node(in[0]);
  if (op == "neg" && a.op->name == "neg") return {a.inputs[0]};
  if (op == "transpose") {
    NodeId x = in[0];
    std::vector<int64_t> perm = permutation(n);
    bool merged = a.op->name == "transpose";
    if (merged) { // out[d] = a[perm[d]] = x[inner[perm[d]]]
      std::vector<int64_t> inner = permutation(a);
      for (int64_t &p : perm) p = inner[size_t(p)];
      x = a.inputs[0];
    }
    if (is_identity(perm)) return {x};
    if (merged) return {std::nullopt, "transpose", x, {{"perm", perm}}};
    return {};
  }
  bool kept =
      std::find(kSameWhenTypeKept.begin(), kSameWhenTypeKept.end(), op) != kSameWhenTypeKept.end();
  if (kept && fits(in[0])) return {in[0]};
  if (is_reshape(n) && is_reshape(a)) {
    NodeId x = a.inputs[0];
    if (fits(x)) return {x};
    // The output shape spells the batch dim -1, which reshape reads as it.
    return {std::nullopt, "reshape", x, {{"shape", n.type.shape}}};
  }
  return {};
}

} // namespace

RootedGraph simplify_algebra(const RootedGraph &in) {
  const Graph &g = in.graph;
  std::vector<bool> is_root = root_mask(in);
  std::vector<int> updates = updates_before(g);
  std::vector<NodeId> last_use(g.size());
  for (const Node &n : g.nodes()) {
    last_use[size_t(n.id)] = n.id;
    for (NodeId input : n.inputs) last_use[size_t(input)] = n.id;
  }
  Rewriter r(in);
  Graph &out = r.output();
  // Whether output node x, read at input position `at`, has the value it has
  // where it stands: not when it is a variable's storage and an update runs
  // in between. (Variables and updates are copied under their names.)
  auto stable_until = [&](NodeId x, NodeId at) {
    const Node &node = out.node(x);
    if (!aliases_variable(node)) return true;
    int from = updates[size_t(g.at(node.name))] + (node.op->updates_variable ? 1 : 0);
    return updates[size_t(at)] == from;
  };
  for (const Node &n : g.nodes()) {
    Simpler s = simplify(out, n, r.mapped_inputs(n));
    if (s.same && !is_root[size_t(n.id)] && stable_until(*s.same, last_use[size_t(n.id)]))
      r.replace(n.id, *s.same);
    else if (!s.op.empty() && stable_until(s.input, n.id))
      r.replace(n.id, out.add_node(s.op, n.name, {s.input}, std::move(s.attrs)));
    else
      r.copy(n);
  }
  return std::move(r).finish();
}

} // namespace kiln
