// The numeric check for pass tests: a graph before and after a pass, run
// with the reference interpreter (runtime/reference.h) on the same random
// feeds, must give its roots identical values. The passes compute with the
// same reference kernels (folding, fused bodies) or only drop, merge and
// reorder nodes, so the values agree exactly; merge-matmul-sums sums in
// another order, so its cases name a tolerance.
#pragma once

#include "passes/pass.h"
#include "runtime/reference.h"
#include "test_util.h"

#include <random>
#include <string>
#include <vector>

namespace kiln::test {

// Random values for every placeholder of `g` (batch size 2); integers in
// [0, 2], so that labels are valid classes.
inline Feeds random_feeds(const Graph &g, uint32_t seed) {
  std::mt19937 rng(seed);
  Feeds feeds;
  for (const Node &n : g.nodes()) {
    if (n.op->source != Source::placeholder) continue;
    bool integer = is_int(n.type.dtype);
    feeds.emplace_back(n.name, random_tensor(n.type.dtype, bind_batch(n.type.shape, 2), rng,
                                             integer ? 0 : -3, integer ? 2 : 3));
  }
  return feeds;
}

// Runs both graphs with the reference interpreter and checks that their
// roots, and the nodes named in `also`, hold identical values (within
// `tolerance`, relative).
inline void check_same_values(const RootedGraph &before, const RootedGraph &after,
                              const std::vector<std::string> &also = {}, double tolerance = 0) {
  Feeds feeds = random_feeds(before.graph, 11), kept;
  for (const auto &[ref, tensor] : feeds)
    if (after.graph.find(before.graph.node(ref.resolve(before.graph)).name))
      kept.emplace_back(ref, tensor);
  std::vector<NodeRef> want_fetches(before.roots.begin(), before.roots.end());
  std::vector<NodeRef> got_fetches(after.roots.begin(), after.roots.end());
  for (const std::string &name : also) {
    want_fetches.emplace_back(name);
    got_fetches.emplace_back(name);
  }
  std::vector<Tensor> want = run_reference(before.graph, feeds, want_fetches);
  std::vector<Tensor> got = run_reference(after.graph, kept, got_fetches);
  for (size_t i = 0; i < want.size(); ++i) {
    INFO("fetch " << i << ": "
                  << (i < before.roots.size() ? before.graph.node(before.roots[i]).name
                                              : also[i - before.roots.size()]));
    CHECK(compare(got[i], want[i], tolerance) == "");
  }
}

} // namespace kiln::test
