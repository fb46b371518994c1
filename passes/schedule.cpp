// Scheduling: re-emits the graph in a topological order that keeps live
// memory low, by greedy list scheduling. Among the nodes whose inputs are
// all placed, it takes the one that frees the most bytes net of what its
// output allocates (a tie keeps graph order); but a collective starts as
// soon as it can and finishes as late as it can, so that the kernels in
// between hide its communication. Graph order carries the state
// semantics (docs/decisions.md, "Training"), so the order between updates of
// a variable and every reader of it, and between random ops, becomes extra
// dependency edges that the new order keeps.
#include "passes/passes.h"
#include "passes/rewrite.h"

#include <algorithm>
#include <limits>

namespace kiln {

namespace {

// The graph's types have a symbolic batch dim; sizes are weighed at this
// batch. Only their ratios steer the choice, and at any realistic batch
// the batch-sized buffers dominate as they do here.
constexpr int64_t kNominalBatch = 64;

using Edges = std::vector<std::vector<NodeId>>; // deps[i]: what node i must follow

bool collective(const Node &n) {
  return n.op->name == "allreduce_mean_start" || n.op->name == "allreduce_mean_finish";
}

// Every node that reads a variable (directly or through one of its updates)
// stays between the nodes that write it before and after it in graph order
// (updates, and fused updates for each variable their members write); the
// writers of a variable stay in graph order; so do random ops. (Collectives
// are stateful too, but need no order beyond their inputs': every rank
// schedules the same graph the same way.)
void add_state_edges(const Graph &g, Edges &deps) {
  std::vector<NodeId> storage = variable_storage(g);
  std::vector<std::vector<NodeId>> writers(g.size()); // by variable, in graph order
  for (const Node &n : g.nodes())
    for (NodeId v : variables_written(n, storage)) writers[size_t(v)].push_back(n.id);
  NodeId last_random = -1;
  for (const Node &n : g.nodes()) {
    if (n.op->stateful && !n.op->updates_variable && n.op->source == Source::none &&
        !collective(n)) {
      if (last_random >= 0) deps[size_t(n.id)].push_back(last_random);
      last_random = n.id;
    }
    std::vector<NodeId> own = variables_written(n, storage);
    for (NodeId v : own) {
      const std::vector<NodeId> &w = writers[size_t(v)];
      auto self = std::lower_bound(w.begin(), w.end(), n.id);
      if (self != w.begin()) deps[size_t(n.id)].push_back(*(self - 1));
    }
    for (NodeId v : variables_read(n, storage)) {
      // A writer reads its own variables in its chain's turn.
      if (std::find(own.begin(), own.end(), v) != own.end()) continue;
      const std::vector<NodeId> &w = writers[size_t(v)];
      auto next = std::upper_bound(w.begin(), w.end(), n.id);
      if (next != w.begin()) deps[size_t(n.id)].push_back(*(next - 1));
      if (next != w.end()) deps[size_t(*next)].push_back(n.id);
    }
  }
}

struct Scheduler {
  const Graph &g;
  std::vector<int64_t> bytes; // what a node's output takes while live; 0: not a buffer
  std::vector<int> unplaced;  // per node: users not yet placed (once per user)
  std::vector<bool> is_root;
  std::vector<int> urgency; // per node: ranks above any gain (urgency_of)

  explicit Scheduler(const RootedGraph &in) : g(in.graph), is_root(root_mask(in)) {
    bytes.assign(g.size(), 0);
    unplaced.assign(g.size(), 0);
    for (const Node &n : g.nodes()) {
      urgency.push_back(urgency_of(n));
      // Sources and updates use storage that exists anyway.
      if (n.op->source == Source::none && !n.op->updates_variable)
        bytes[size_t(n.id)] = nominal_bytes(n.type);
      for (NodeId in : distinct_inputs(n)) ++unplaced[size_t(in)];
    }
  }

  // Bytes at the nominal batch, capped at the most a tensor can hold (2^48
  // elements of 8 bytes): a shape too large at this batch may well fit at
  // the batch compiled for, and sums of a few thousand stay in range.
  static int64_t nominal_bytes(const TensorType &t) {
    constexpr int64_t kCap = kMaxElements * 8;
    int64_t bytes = int64_t(byte_size(t.dtype));
    for (int64_t d : t.shape)
      if (__builtin_mul_overflow(bytes, is_batch(d) ? kNominalBatch : d, &bytes) || bytes > kCap)
        return kCap;
    return bytes;
  }

  static std::vector<NodeId> distinct_inputs(const Node &n) {
    std::vector<NodeId> inputs = n.inputs;
    std::sort(inputs.begin(), inputs.end());
    inputs.erase(std::unique(inputs.begin(), inputs.end()), inputs.end());
    return inputs;
  }

  // Collectives starting first (with the copy into their bucket), those
  // finishing last, the rest between.
  static int urgency_of(const Node &n) {
    if (n.op->name == "gradient_bucket" || n.op->name == "allreduce_mean_start") return 2;
    return n.op->name == "allreduce_mean_finish" ? 0 : 1;
  }

  // Bytes freed minus bytes allocated if `n` ran next.
  int64_t gain(const Node &n) const {
    int64_t freed = 0;
    for (NodeId in : distinct_inputs(n))
      if (unplaced[size_t(in)] == 1 && !is_root[size_t(in)]) freed += bytes[size_t(in)];
    return freed - bytes[size_t(n.id)];
  }

  void place(const Node &n) {
    for (NodeId in : distinct_inputs(n)) --unplaced[size_t(in)];
  }
};

} // namespace

RootedGraph schedule(const RootedGraph &in) {
  const Graph &g = in.graph;
  Edges deps(g.size());
  for (const Node &n : g.nodes()) deps[size_t(n.id)] = n.inputs;
  add_state_edges(g, deps);
  Edges successors(g.size());
  std::vector<int> waiting(g.size(), 0);
  for (const Node &n : g.nodes()) {
    std::vector<NodeId> &d = deps[size_t(n.id)];
    std::sort(d.begin(), d.end());
    d.erase(std::unique(d.begin(), d.end()), d.end());
    waiting[size_t(n.id)] = int(d.size());
    for (NodeId before : d) successors[size_t(before)].push_back(n.id);
  }

  Scheduler s(in);
  std::vector<NodeId> ready;
  for (const Node &n : g.nodes())
    if (waiting[size_t(n.id)] == 0) ready.push_back(n.id);
  Rewriter r(in);
  while (!ready.empty()) {
    // ready stays sorted by id, so the first best is the earliest in graph order.
    auto best = ready.begin();
    std::pair<int, int64_t> best_rank = {-1, std::numeric_limits<int64_t>::min()};
    for (auto it = ready.begin(); it != ready.end(); ++it) {
      const Node &n = g.node(*it);
      if (std::pair rank{s.urgency[size_t(n.id)], s.gain(n)}; rank > best_rank)
        best = it, best_rank = rank;
    }
    const Node &n = g.node(*best);
    ready.erase(best);
    s.place(n);
    r.copy(n);
    for (NodeId after : successors[size_t(n.id)])
      if (--waiting[size_t(after)] == 0)
        ready.insert(std::upper_bound(ready.begin(), ready.end(), after), after);
  }
  return std::move(r).finish();
}

} // namespace kiln
