// The pipeline's debugging aids (passes/pass.h): verification after each
// pass names the pass that broke the graph, and the observer sees each pass
// that runs, in order, with the graphs it took and made.
#include "ir/error.h"
#include "ir/listing_parser.h"
#include "passes/passes.h"

#include <catch2/catch.hpp>

using namespace kiln;
using Catch::Matchers::Contains;

namespace {

RootedGraph small_graph() {
  Graph g = parse_listing("%x = placeholder() {dtype=f32, shape=[-1, 3]}\n"
                          "%e = exp(%x)\n"
                          "%s = sum(%e) {axes=[1]}\n");
  return {g, {g.at("s")}};
}

// Fails verify_each with the message of the pipeline that runs `broken`
// after dce.
std::string error_of(std::function<RootedGraph(const RootedGraph &)> broken) {
  auto graph_only = [](std::function<RootedGraph(const RootedGraph &)> pass) {
    return [pass](const RootedGraph &in, const PipelineOptions &) { return pass(in); };
  };
  std::vector<Pass> passes = {{"dce", "", graph_only(eliminate_dead_code)},
                              {"broken", "", graph_only(std::move(broken))}};
  try {
    run_passes(passes, small_graph(), {.verify_each = true});
  } catch (const Error &e) {
    return e.what();
  }
  return "no error";
}

} // namespace

TEST_CASE("verify-each names the pass that made an invalid graph", "[passes]") {
  CHECK(error_of([](const RootedGraph &in) {
          RootedGraph out = in;
          out.roots.push_back(0);
          return out;
        }) == "pass 'broken' made an invalid graph: 2 roots, the graph it took has 1");
  CHECK(error_of([](const RootedGraph &in) {
          RootedGraph out = in;
          out.roots[0] = in.graph.at("e");
          return out;
        }) == "pass 'broken' made an invalid graph: root 0 was 's', is 'e'");
  CHECK(error_of([](const RootedGraph &) {
          Graph g = parse_listing("%x = placeholder() {dtype=f32, shape=[-1, 3]}\n"
                                  "%s = sum(%x) {axes=[1], keepdims=true}\n");
          return RootedGraph{g, {g.at("s")}};
        }) == "pass 'broken' made an invalid graph: root 0 's' was f32[?], is f32[?, 1]");
  CHECK(error_of([](const RootedGraph &in) {
          RootedGraph out = in;
          out.roots[0] = 7;
          return out;
        }) == "pass 'broken' made an invalid graph: root 0 is node id 7, the graph has 3 nodes");
  // Without verification the broken graph goes through.
  std::vector<Pass> passes = {{"broken", "", [](const RootedGraph &in, const PipelineOptions &) {
                                 RootedGraph out = in;
                                 out.roots.clear();
                                 return out;
                               }}};
  CHECK(run_passes(passes, small_graph(), {}).roots.empty());
  // The real pipeline passes its own checks.
  CHECK_NOTHROW(optimize(small_graph(), {.verify_each = true}));
}

TEST_CASE("the pipeline reports each pass it runs to its observer", "[passes]") {
  std::vector<std::string> seen;
  PipelineOptions options{.fusion = false};
  options.after_pass = [&](const Pass &p, const RootedGraph &before, const RootedGraph &after,
                           double seconds) {
    seen.push_back(p.name);
    CHECK(seconds >= 0);
    if (p.name == "dce") CHECK(after.graph.size() <= before.graph.size());
  };
  optimize(small_graph(), options, "schedule");
  std::vector<std::string> unfused;
  for (const Pass &p : pipeline())
    if (!p.fusion) unfused.push_back(p.name);
  CHECK(seen == unfused);
  seen.clear();
  optimize(small_graph(), options, "cse");
  CHECK(seen == std::vector<std::string>{"fold-constants", "simplify", "cse"});
}
