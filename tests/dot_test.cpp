// Graphviz DOT output: scopes become nested clusters, names are escaped,
// labels leave out what is redundant, and Graphviz accepts the result.
#include "ir/dot.h"

#include "ir/serialize.h"
#include "ops/builder.h"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>

using namespace kiln;
using Catch::Matchers::Contains;

namespace {

Graph scoped_graph() {
  Graph g;
  Value x = placeholder(g, "in\"put", f32, {batch, 2});
  Scope outer(g, "outer");
  Value w = variable(g, "w", f32, {2}, Init::ones());
  Scope inner(g, "inner");
  relu(x * w, "act");
  return g;
}

} // namespace

TEST_CASE("dot: to_dot nests clusters by name scope", "[dot]") {
  std::string dot = to_dot(scoped_graph());
  size_t outer = dot.find("subgraph \"cluster_outer\" {");
  size_t inner = dot.find("  subgraph \"cluster_outer/inner\" {");
  REQUIRE(outer != std::string::npos);
  REQUIRE(inner != std::string::npos);
  CHECK(outer < inner);
  CHECK_THAT(dot, Contains("label=\"inner\";"));
  CHECK_THAT(dot, Contains("\"outer/inner/act\" [label=\"act\\nrelu : f32[?, 2]\""));
}

TEST_CASE("dot: to_dot escapes names and keeps labels short", "[dot]") {
  std::string dot = to_dot(scoped_graph());
  CHECK_THAT(dot, Contains("\"in\\\"put\" [label=\"in\\\"put\\nplaceholder : f32[?, 2]\", "
                           "shape=invhouse"));
  CHECK_THAT(dot, Contains("\"in\\\"put\" -> \"outer/inner/mul\" [label=\"f32[?, 2]\"]"));
  // The variable's dtype and shape are in its type, and seed and scale are at
  // their defaults: only the initializer is worth a line.
  CHECK_THAT(dot,
             Contains("\"outer/w\" [label=\"w\\nvariable : f32[2]\\ninitializer=\\\"ones\\\"\", "
                      "shape=cylinder"));
  CHECK_THAT(dot, Contains("penwidth=2")); // the output, outer/inner/act
}

TEST_CASE("dot: Graphviz accepts the DOT", "[dot]") {
  if (std::system("command -v dot >/dev/null 2>&1") != 0) {
    WARN("Graphviz 'dot' is not on PATH: skipping");
    return;
  }
  auto path = std::filesystem::temp_directory_path() / "kiln_dot_test.dot";
  write_file_atomically(path, to_dot(scoped_graph()));
  CHECK(std::system(("dot -Tsvg -o /dev/null " + path.string()).c_str()) == 0);
  std::filesystem::remove(path);
}
