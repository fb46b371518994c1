#include "ir/error.h"
#include "passes/passes.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <chrono>

namespace kiln {

namespace {

// A pass that needs nothing but the graph.
template <RootedGraph (*pass)(const RootedGraph &)>
RootedGraph graph_only(const RootedGraph &in, const PipelineOptions &) {
  return pass(in);
}

} // namespace

const std::vector<Pass> &pipeline() {
  static const std::vector<Pass> kPasses = {
      {"fold-constants", "evaluate nodes whose inputs are all constants",
       graph_only<fold_constants>},
      {"simplify", "algebraic identities: x * 1, x + 0, double transposes, no-op reshapes",
       graph_only<simplify_algebra>},
      {"cse", "common subexpressions: merge nodes that compute the same value",
       graph_only<eliminate_common_subexpressions>},
      {"merge-matmul-sums", "a sum of products A_t^T B_t becomes one matmul over them joined",
       graph_only<merge_matmul_sums>},
      {"retarget-shapes", "inputs read only for their shape take a value kept anyway",
       graph_only<retarget_shape_inputs>},
      {"dce", "dead-code elimination: drop what no root needs", graph_only<eliminate_dead_code>},
      {"data-parallel", "the gradients' means over the ranks: none alone, else in buckets",
       data_parallel},
      {"fuse-loops", "elementwise chains and optimizer updates become one loop each",
       graph_only<fuse_loops>, /*fusion=*/true},
      {"fuse-epilogues", "matmul and conv2d absorb their elementwise user (bias, activation)",
       graph_only<fuse_epilogues>, /*fusion=*/true},
      {"fuse-reductions",
       "sum, mean, max and min absorb the elementwise node computing their input",
       graph_only<fuse_reductions>, /*fusion=*/true},
      {"schedule", "order the nodes to keep live memory low (state order kept)",
       graph_only<schedule>},
  };
  return kPasses;
}

namespace {

RootedGraph run_pass(const Pass &p, const RootedGraph &in, const PipelineOptions &options) {
  auto start = std::chrono::steady_clock::now();
  RootedGraph out = p.run(in, options);
  std::chrono::duration<double> seconds = std::chrono::steady_clock::now() - start;
  if (options.verify_each) {
    try {
      verify_pass_output(in, out);
    } catch (const Error &e) {
      fail("pass '{}' made an invalid graph: {}", p.name, e.what());
    }
  }
  if (options.after_pass) options.after_pass(p, in, out, seconds.count());
  return out;
}

} // namespace

RootedGraph optimize(RootedGraph in, const PipelineOptions &options, std::string_view last) {
  return run_passes(pipeline(), std::move(in), options, last);
}

RootedGraph run_passes(std::span<const Pass> passes, RootedGraph in, const PipelineOptions &options,
                       std::string_view last) {
  if (!last.empty() &&
      std::none_of(passes.begin(), passes.end(), [&](const Pass &p) { return p.name == last; })) {
    std::vector<std::string> names;
    for (const Pass &p : passes) names.push_back(p.name);
    fail("no pass named '{}'; the passes are: {}", last, fmt::join(names, ", "));
  }
  for (const Pass &p : passes) {
    if (p.fusion && !options.fusion) continue;
    in = run_pass(p, in, options);
    if (p.name == last) break;
  }
  return in;
}

} // namespace kiln
