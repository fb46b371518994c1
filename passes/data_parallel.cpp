// Data parallelism: the allreduce_mean nodes (the optimizers write one on
// each gradient) become few collectives. In a job of one each is its input.
// Otherwise they are grouped, in the order the backward pass produces their
// inputs, into buckets of about options.bucket_bytes of one dtype:
//
//   b = gradient_bucket(g1, g2)     after the last member's gradient
//   s = allreduce_mean_start(b)
//   r = allreduce_mean_finish(s)    before the first member's reader
//   g1' = bucket_part(r), g2' = bucket_part(r)
//
// so that each bucket's exchange runs under the rest of the backward pass
// (passes/schedule.cpp starts collectives at once and finishes them last).
// A bucket takes a member only while every member's reader comes after
// every member's gradient, so the graph stays in topological order. Fetched
// allreduce_mean nodes (roots keep their names) stay as they are: each is
// then a collective of its own.
#include "ir/error.h"
#include "ops/builder.h"
#include "passes/passes.h"
#include "passes/rewrite.h"

#include <algorithm>
#include <map>

namespace kiln {

namespace {

struct Bucket {
  std::vector<NodeId> members; // allreduce_mean nodes of the input graph
  NodeId last_gradient = -1;   // the latest member input
  NodeId first_reader = -1;    // the earliest member
  size_t bytes = 0;
  NodeId finished = -1; // allreduce_mean_finish, once added to the output
};

size_t bytes_of(const Node &n) {
  return size_t(num_elements(n.type.shape)) * byte_size(n.type.dtype);
}

// The means the pass replaces: every allreduce_mean but the roots.
std::vector<NodeId> replaced_means(const RootedGraph &in) {
  std::vector<bool> is_root = root_mask(in);
  std::vector<NodeId> means;
  for (const Node &n : in.graph.nodes())
    if (n.op->name == "allreduce_mean" && !is_root[size_t(n.id)]) means.push_back(n.id);
  return means;
}

std::vector<Bucket> form_buckets(const RootedGraph &in, size_t bucket_bytes) {
  const Graph &g = in.graph;
  std::vector<NodeId> means = replaced_means(in);
  std::stable_sort(means.begin(), means.end(),
                   [&](NodeId a, NodeId b) { return g.node(a).inputs[0] < g.node(b).inputs[0]; });
  if (bucket_bytes == 0) {
    size_t total = 0;
    for (NodeId m : means) total += bytes_of(g.node(m));
    bucket_bytes = std::clamp(total / 4, size_t(64) << 10, size_t(4) << 20);
  }
  std::vector<Bucket> buckets;
  std::map<DType, size_t> open; // the bucket each dtype fills
  for (NodeId m : means) {
    const Node &n = g.node(m);
    size_t bytes = bytes_of(n);
    auto found = open.find(n.type.dtype);
    if (found != open.end()) {
      Bucket &b = buckets[found->second];
      bool fits = b.bytes + bytes <= bucket_bytes;
      bool ordered = std::max(b.last_gradient, n.inputs[0]) < std::min(b.first_reader, m);
      if (fits && ordered) {
        b.members.push_back(m);
        b.last_gradient = std::max(b.last_gradient, n.inputs[0]);
        b.first_reader = std::min(b.first_reader, m);
        b.bytes += bytes;
        continue;
      }
    }
    open[n.type.dtype] = buckets.size();
    buckets.push_back({{m}, n.inputs[0], m, bytes});
  }
  return buckets;
}

} // namespace

RootedGraph data_parallel(const RootedGraph &in, const PipelineOptions &options) {
  const Graph &g = in.graph;
  Rewriter r(in);
  if (!options.data_parallel.on) {
    std::vector<bool> replaced(g.size(), false);
    for (NodeId m : replaced_means(in)) replaced[size_t(m)] = true;
    for (const Node &n : g.nodes())
      if (replaced[size_t(n.id)])
        r.replace(n.id, r[n.inputs[0]]);
      else
        r.copy(n);
    return std::move(r).finish();
  }

  std::vector<Bucket> buckets = form_buckets(in, options.data_parallel.bucket_bytes);
  std::multimap<NodeId, size_t> starts_after; // last gradient -> bucket
  std::vector<int64_t> bucket_of(g.size(), -1), offset_of(g.size(), 0);
  for (size_t i = 0; i < buckets.size(); ++i) {
    starts_after.emplace(buckets[i].last_gradient, i);
    int64_t offset = 0;
    for (NodeId m : buckets[i].members) {
      bucket_of[size_t(m)] = int64_t(i);
      offset_of[size_t(m)] = offset;
      offset += num_elements(g.node(m).type.shape);
    }
  }
  Graph &out = r.output();
  std::string scope = unique_scope(g, "data_parallel");
  auto bucket_name = [&](size_t i) { return fmt::format("{}/bucket_{}", scope, i); };
  for (const Node &n : g.nodes()) {
    if (int64_t i = bucket_of[size_t(n.id)]; i >= 0) {
      Bucket &b = buckets[size_t(i)];
      if (b.finished < 0)
        b.finished = out.add_node("allreduce_mean_finish", bucket_name(size_t(i)) + "/finish",
                                  {out.at(bucket_name(size_t(i)) + "/start")});
      r.replace(n.id, out.add_node("bucket_part", n.name, {b.finished},
                                   {{"offset", offset_of[size_t(n.id)]}, {"shape", n.type.shape}}));
    } else {
      r.copy(n);
    }
    for (auto [at, end] = starts_after.equal_range(n.id); at != end; ++at) {
      std::vector<NodeId> gradients;
      for (NodeId m : buckets[at->second].members) gradients.push_back(r[g.node(m).inputs[0]]);
      std::string name = bucket_name(at->second);
      NodeId bucket = out.add_node("gradient_bucket", name, gradients);
      out.add_node("allreduce_mean_start", name + "/start", {bucket});
    }
  }
  return std::move(r).finish();
}

} // namespace kiln
