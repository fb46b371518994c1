// Loop fusion: groups of elementwise nodes of one shape become one fused
// node each (ops/fusion.h), which the compiler emits as one loop; slices
// read by a group join it as views of their input. Greedy, from the last
// node back, as XLA's instruction fusion does: a node joins the group of its
// users when all of them are in one group and it has that group's shape (so
// nothing is computed twice), otherwise it starts a group.
// A group holds at most kMaxMembers nodes: LLVM's time on one loop body grows
// faster than its size (a 1,000-relu body took 0.29 s, 10,000 took 6.7 s),
// while a long chain cut into equal groups compiles one of them, once
// (compiler/compile.h deduplicates equal kernels).
//
// Members move to the group's last position. That is safe for data (their
// users are in the group) but not always for state: a member that updates a
// variable must not move past a node that reads the variable, nor a member
// that reads a variable past an update of it (docs/decisions.md, "Training").
#include "passes/fused_body.h"
#include "passes/passes.h"

namespace kiln {

namespace {

constexpr size_t kMaxMembers = 128;

bool elementwise(const Node &n) {
  return n.op->scalar && (!n.op->stateful || n.op->updates_variable);
}

// Only orders its inputs before it (optimizer targets): a fused node can
// stand in for a member it takes.
bool control_only(const Node &n) { return n.op->name == "group"; }

class Fusion {
public:
  explicit Fusion(const RootedGraph &in)
      : in_(in), g_(in.graph), users_(users_of(g_)), is_root_(root_mask(in)), group_(g_.size(), -1),
        size_(g_.size(), 0), storage_(variable_storage(g_)) {}

  RootedGraph run() {
    for (NodeId id = NodeId(g_.size()); id-- > 0;) {
      const Node &n = g_.node(id);
      bool view = view_of_input(n);
      if (!elementwise(n) && !view) continue;
      std::optional<NodeId> joined = joinable_group(n);
      if (!joined && view) continue; // alone, a view stays a copy
      NodeId group = joined.value_or(id);
      group_[size_t(id)] = group;
      ++size_[size_t(group)];
    }
    return rewrite();
  }

private:
  // A view of its input (a slice) joins the group of its users, which then
  // read its elements from the input in place, but starts none. Its input
  // has another shape, so it stays outside the group: a body parameter.
  bool view_of_input(const Node &n) const {
    return n.op->input_view && n.inputs.size() == 1 &&
           g_.node(n.inputs[0]).type.shape != n.type.shape;
  }

  // The group `n` can join, if any.
  std::optional<NodeId> joinable_group(const Node &n) const {
    if (is_root_[size_t(n.id)]) return std::nullopt;
    std::optional<NodeId> group;
    for (NodeId u : users_[size_t(n.id)]) {
      if (control_only(g_.node(u))) continue;
      NodeId ug = group_[size_t(u)];
      if (ug < 0 || (group && *group != ug)) return std::nullopt;
      group = ug;
    }
    if (!group || size_[size_t(*group)] >= kMaxMembers) return std::nullopt;
    const Node &root = g_.node(*group);
    for (NodeId u : users_[size_t(n.id)])
      if (control_only(g_.node(u)) && u < root.id) return std::nullopt;
    if (n.type.shape != root.type.shape) return std::nullopt;
    if (n.op->updates_variable && (!root.op->updates_variable || root.inputs[0] == n.id))
      return std::nullopt;
    if (!state_allows_move(n, *group)) return std::nullopt;
    return group;
  }

  // Whether `n` may move to its group's position (after the nodes between).
  bool state_allows_move(const Node &n, NodeId group) const {
    std::vector<NodeId> reads = variables_read(n, storage_),
                        writes = variables_written(n, storage_);
    if (reads.empty() && writes.empty()) return true;
    auto shares = [](const std::vector<NodeId> &a, const std::vector<NodeId> &b) {
      return std::find_first_of(a.begin(), a.end(), b.begin(), b.end()) != a.end();
    };
    for (NodeId x = n.id + 1; x < group; ++x) {
      if (group_[size_t(x)] == group) continue;
      const Node &other = g_.node(x);
      if (shares(reads, variables_written(other, storage_)) ||
          shares(writes, variables_read(other, storage_)))
        return false;
    }
    return true;
  }

  RootedGraph rewrite() {
    std::vector<std::vector<NodeId>> members(g_.size());
    for (const Node &n : g_.nodes())
      if (group_[size_t(n.id)] >= 0) members[size_t(group_[size_t(n.id)])].push_back(n.id);
    Rewriter r(in_);
    for (const Node &n : g_.nodes()) {
      NodeId group = group_[size_t(n.id)];
      if (group < 0 || members[size_t(group)].size() == 1) {
        r.copy(n);
      } else if (group == n.id) {
        add_fused(r, members[size_t(group)]);
      }
    }
    return std::move(r).finish();
  }

  // One fused node for `members` (in graph order; the last is the root).
  void add_fused(Rewriter &r, const std::vector<NodeId> &members) {
    const Node &root = g_.node(members.back());
    FusedBody body(g_);
    // A fused update's input 0 is the variable it updates.
    if (root.op->updates_variable) body.value(root.inputs[0]);
    for (NodeId m : members) body.add(g_.node(m));
    body.finish(r, root.op->updates_variable ? "fused_update" : "fusion", root.name, "loop");
  }

  const RootedGraph &in_;
  const Graph &g_;
  std::vector<std::vector<NodeId>> users_;
  std::vector<bool> is_root_;
  std::vector<NodeId> group_;   // the id of the group's root (its last node); -1: not fused
  std::vector<size_t> size_;    // by group root: its members so far
  std::vector<NodeId> storage_; // variable_storage(g_)
};

} // namespace

RootedGraph fuse_loops(const RootedGraph &in) { return Fusion(in).run(); }

} // namespace kiln
