// A sum of products A_t^T B_t becomes one product: a weight used at every
// step of a sequence gets one gradient term per step (h_t^T dgates_t for an
// LSTM's W_hh), each a GEMM with K = the batch, too short to run at speed
// (33 µs each at batch 32, ~130 GFLOP/s), and then an add per step.
// Here the terms' A_t and B_t are concatenated along a non-batch axis, viewed
// as [..., T, M] and [..., T, N], and multiplied once with matmul's sum_batch:
// one GEMM with K = T * the batch.
//
// A term qualifies when it is a 2-D matmul with transpose_a and not
// transpose_b, read only by the sum, not a root, and its operands are not a
// variable's storage (the merged product reads them where the sum stands,
// possibly after an update). The sum is a tree of same-typed adds whose inner
// adds have one reader; terms whose operands have the same shapes merge, at
// least two of them. The result differs from the step-by-step sum in
// rounding only (the GEMM sums K in blocks). The operands now live until the
// sum; the partial products they replace do not live at all.
#include "passes/passes.h"
#include "passes/rewrite.h"

#include <algorithm>
#include <map>

namespace kiln {

namespace {

// An add of two values of its own type (no broadcasting).
bool is_plain_add(const Graph &g, const Node &n) {
  return n.op->name == "add" && n.inputs.size() == 2 &&
         std::all_of(n.inputs.begin(), n.inputs.end(),
                     [&](NodeId in) { return g.node(in).type == n.type; });
}

struct SumTree {
  std::vector<NodeId> adds;  // every add of the tree
  std::vector<NodeId> terms; // its leaves, left to right
};

// Terms that merge, by their operands' shapes.
using Groups = std::map<std::pair<Shape, Shape>, std::vector<NodeId>>;

// What a sum becomes: a product per group, plus the terms that stay.
struct Merge {
  Groups groups;
  std::vector<NodeId> rest;
};

class SumFinder {
  const Graph &g_;
  std::vector<std::vector<NodeId>> users_;
  std::vector<bool> is_root_;

public:
  explicit SumFinder(const RootedGraph &in)
      : g_(in.graph), users_(users_of(g_)), is_root_(root_mask(in)) {}

  // The sums with terms to merge, by their top add.
  std::map<NodeId, Merge> merges;
  // The adds and merging terms of those trees: the rewrite drops them.
  std::vector<bool> merged = std::vector<bool>(g_.size(), false);

  void find() {
    for (const Node &n : g_.nodes()) {
      if (!is_plain_add(g_, n) || inner(n.id)) continue;
      SumTree tree;
      collect(n.id, tree);
      Merge merge{groups(tree), {}};
      if (merge.groups.empty()) continue;
      for (NodeId a : tree.adds) merged[size_t(a)] = true;
      for (const auto &[shapes, terms] : merge.groups)
        for (NodeId t : terms) merged[size_t(t)] = true;
      for (NodeId t : tree.terms)
        if (!merged[size_t(t)]) merge.rest.push_back(t);
      merges.emplace(n.id, std::move(merge));
    }
  }

private:
  // The tree's merging terms, two or more of the same shapes per group.
  Groups groups(const SumTree &tree) const {
    Groups found;
    for (NodeId t : tree.terms)
      if (mergeable(t)) {
        const Node &n = g_.node(t);
        found[{g_.node(n.inputs[0]).type.shape, g_.node(n.inputs[1]).type.shape}].push_back(t);
      }
    std::erase_if(found, [](const auto &group) { return group.second.size() < 2; });
    return found;
  }

  bool single_reader(NodeId id) const {
    return users_[size_t(id)].size() == 1 && !is_root_[size_t(id)];
  }

  // A plain add whose one reader is a plain add of its type.
  bool inner(NodeId id) const {
    const Node &n = g_.node(id);
    if (!is_plain_add(g_, n) || !single_reader(id)) return false;
    const Node &user = g_.node(users_[size_t(id)][0]);
    return is_plain_add(g_, user) && user.type == n.type;
  }

  void collect(NodeId id, SumTree &tree) const {
    tree.adds.push_back(id);
    for (NodeId in : g_.node(id).inputs) {
      if (inner(in))
        collect(in, tree);
      else
        tree.terms.push_back(in);
    }
  }

  bool mergeable(NodeId id) const {
    const Node &n = g_.node(id);
    if (n.op->name != "matmul" || !single_reader(id) || n.type.shape.size() != 2) return false;
    if (!n.attr_bool("transpose_a") || n.attr_bool("transpose_b") || n.attr_bool("sum_batch"))
      return false;
    return std::none_of(n.inputs.begin(), n.inputs.end(), [&](NodeId in) {
      const Node &operand = g_.node(in);
      return operand.type.shape.size() != 2 || aliases_variable(operand);
    });
  }
};

// A [K, X] operand of every term, concatenated along X and viewed as
// [K, terms, X]: the batch dims of a sum_batch matmul are then [K] and its
// matrices [terms, X], whose rows follow one another as K * terms rows.
NodeId stacked(Rewriter &r, const std::vector<NodeId> &terms, size_t operand,
               const std::string &name) {
  const Graph &g = r.input();
  std::vector<NodeId> parts;
  for (NodeId t : terms) parts.push_back(r[g.node(t).inputs[operand]]);
  Graph &out = r.output();
  NodeId joined =
      out.add_node("concat", out.unique_name(name + "/joined"), parts, {{"axis", int64_t{1}}});
  const Shape &piece = g.node(g.node(terms[0]).inputs[operand]).type.shape;
  Shape view = {piece[0], int64_t(terms.size()), piece[1]};
  return out.add_node("reshape", out.unique_name(name), {joined}, {{"shape", view}});
}

} // namespace

RootedGraph merge_matmul_sums(const RootedGraph &in) {
  SumFinder finder(in);
  finder.find();
  Rewriter r(in);
  Graph &out = r.output();
  for (const Node &n : in.graph.nodes()) {
    auto found = finder.merges.find(n.id);
    if (found == finder.merges.end()) {
      if (!finder.merged[size_t(n.id)]) r.copy(n);
      continue;
    }
    const Merge &merge = found->second;
    // The sum keeps the top add's name: its last add, or its one product.
    const bool one_term = merge.groups.size() == 1 && merge.rest.empty();
    std::vector<NodeId> sum;
    for (const auto &[shapes, terms] : merge.groups) {
      std::string name = one_term ? n.name : out.unique_name(n.name + "/merged");
      NodeId a = stacked(r, terms, 0, name + "/a"), b = stacked(r, terms, 1, name + "/b");
      sum.push_back(
          out.add_node("matmul", name, {a, b},
                       {{"transpose_a", true}, {"transpose_b", false}, {"sum_batch", true}}));
    }
    for (NodeId t : merge.rest) sum.push_back(r[t]);
    NodeId acc = sum[0];
    for (size_t i = 1; i < sum.size(); ++i)
      acc = out.add_node("add", i + 1 == sum.size() ? n.name : out.unique_name(n.name + "/part"),
                         {acc, sum[i]}, {});
    r.replace(n.id, acc);
  }
  return std::move(r).finish();
}

} // namespace kiln
