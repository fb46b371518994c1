// The `kiln` command line, run as a separate process the way a user runs it:
// dump formats, `run` results equal to an in-process Session bit for bit,
// help texts, and a clear error (exit status 1, "kiln: error: ...") for every
// bad model, feed and fetch.
#include "cli_fixture.h"
#include "data/npy.h"
#include "frontends/nn.h"
#include "frontends/optim.h"
#include "ir/listing_parser.h"
#include "ir/serialize.h"
#include "ops/builder.h"
#include "passes/pass.h"
#include "session/checkpoint.h"
#include "session/session.h"
#include "test_util.h"

#include <catch2/catch.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <sys/wait.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <random>

using namespace kiln;
using Catch::Matchers::Contains;
using Catch::Matchers::EndsWith;
using test::CliFixture;
using test::Result;
namespace fs = std::filesystem;

namespace {

bool have_graphviz() { return std::system("command -v dot >/dev/null 2>&1") == 0; }

} // namespace

TEST_CASE_METHOD(CliFixture, "cli: kiln dump prints every node in each format", "[cli]") {
  for (std::string model : {"@mlp.kiln", "@mlp.kiln.txt"}) {
    INFO(model);
    Result text = kiln({"dump", model});
    REQUIRE(text.status == 0);
    CHECK_THAT(text.out, Contains("%x = placeholder() {dtype=f32, shape=[-1, 4]} : f32[?, 4]"));
    CHECK_THAT(text.out, Contains("%dense/matmul = matmul(%x, %dense/W)"));
    CHECK_THAT(text.out, Contains("%dense_1/add = add(%dense_1/matmul, %dense_1/b) : f32[?, 3]"));
  }

  Result proto = kiln({"dump", "@mlp.kiln", "--format", "proto"});
  REQUIRE(proto.status == 0);
  CHECK_THAT(proto.out, Contains("name: \"dense_1/add\""));
  CHECK(kiln({"dump", "@mlp.kiln", "-f", "proto", "-o", "@copy.kiln.txt"}).status == 0);
  CHECK(load_graph(path("copy.kiln.txt")) == graph);
  // -o with a binary name converts back to binary.
  CHECK(kiln({"dump", "@copy.kiln.txt", "-f", "proto", "-o", "@copy.kiln"}).status == 0);
  CHECK(load_graph(path("copy.kiln")) == graph);

  Result dot = kiln({"dump", "@mlp.kiln", "--format", "dot"});
  REQUIRE(dot.status == 0);
  CHECK_THAT(dot.out, Contains("digraph kiln {"));
  CHECK_THAT(dot.out, Contains("subgraph \"cluster_dense\" {"));
  CHECK_THAT(dot.out, Contains("subgraph \"cluster_dense_1\" {"));
  CHECK_THAT(dot.out, Contains("\"x\" -> \"dense/matmul\" [label=\"f32[?, 4]\"]"));
  for (const Node &n : graph.nodes()) CHECK_THAT(dot.out, Contains("\"" + n.name + "\" [label="));
}

TEST_CASE_METHOD(CliFixture, "cli: kiln dump --format svg renders with Graphviz", "[cli]") {
  if (!have_graphviz()) {
    WARN("Graphviz 'dot' is not on PATH: skipping the SVG check");
    return;
  }
  Result svg = kiln({"dump", "@mlp.kiln", "--format", "svg"});
  REQUIRE(svg.status == 0);
  CHECK_THAT(svg.out, Contains("<svg"));
  CHECK_THAT(svg.out, Contains("dense_1"));
  CHECK(kiln({"dump", "@mlp.kiln", "--format", "svg", "-o", "@mlp.svg"}).status == 0);
  CHECK_THAT(read_file(path("mlp.svg")), Contains("<svg"));
}

TEST_CASE_METHOD(CliFixture, "cli: kiln run writes the values a Session computes", "[cli]") {
  Result r = kiln({"run", "@mlp.kiln", "--feed", "x=@x.npy", "--fetch", "dense_1/add", "--fetch",
                   "dense/relu", "--out", "@results/nested", "--threads", "1"});
  INFO(r.err);
  REQUIRE(r.status == 0);
  CHECK_THAT(r.out, Contains("dense_1/add: f32[5, 3] ["));
  CHECK_THAT(r.out, Contains("dense/relu: f32[5, 8] ["));

  Session session(graph, SessionOptions{.threads = 1});
  std::vector<Tensor> expected = session.run({{"x", feed}}, {"dense_1/add", "dense/relu"});
  CHECK(read_npy(path("results/nested/dense_1_add.npy")).identical(expected[0]));
  CHECK(read_npy(path("results/nested/dense_relu.npy")).identical(expected[1]));
}

TEST_CASE_METHOD(CliFixture, "cli: kiln info summarizes the model", "[cli]") {
  Result r = kiln({"info", "@mlp.kiln"});
  REQUIRE(r.status == 0);
  CHECK_THAT(r.out, Contains("10 nodes"));
  CHECK_THAT(r.out, Contains("variable     4"));
  CHECK_THAT(r.out, Contains("x  f32[?, 4]"));
  CHECK_THAT(r.out, Contains("dense/W    f32[4, 8]  glorot_uniform"));
  CHECK_THAT(r.out, Contains("67 parameters (268 bytes)"));
  CHECK_THAT(r.out, Contains("outputs (consumed by no node):\n  dense_1/add  f32[?, 3]\n"));
}

TEST_CASE_METHOD(CliFixture, "cli: kiln dump shows the pipeline and the graph after a pass",
                 "[cli]") {
  Result passes = kiln({"dump", "--passes"});
  REQUIRE(passes.status == 0);
  for (const Pass &p : pipeline()) CHECK_THAT(passes.out, Contains(p.name + " "));
  Result fused = kiln({"dump", "@mlp.kiln", "--after=fuse-epilogues"});
  REQUIRE(fused.status == 0);
  CHECK_THAT(fused.out,
             Contains("%dense/relu = fusion(%x, %dense/W, %dense/b) {kind=\"output\"} "
                      ": f32[?, 8] body {\n"
                      "  %x = parameter() {dtype=f32, index=0, shape=[-1, 4]} : f32[?, 4]\n"));
  Result plain = kiln({"dump", "@mlp.kiln", "--after=fuse-epilogues", "--no-fusion"});
  REQUIRE(plain.status == 0);
  CHECK_THAT(plain.out, !Contains("fusion("));
  Result unknown = kiln({"dump", "@mlp.kiln", "--after=fusion"});
  CHECK(unknown.status == 1);
  CHECK_THAT(unknown.err, Contains("no pass named 'fusion'; the passes are: fold-constants"));

  // A training graph: alone the gradients' means go; --data-parallel buckets them.
  Graph training = graph;
  Value logits{&training, training.at("dense_1/add")};
  optim::SGD{}.minimize(mean(logits * logits));
  save_graph(training, path("train.kiln"));
  Result alone = kiln({"dump", "@train.kiln", "--after=data-parallel"});
  REQUIRE(alone.status == 0);
  CHECK_THAT(alone.out, !Contains("allreduce_mean"));
  Result ranks = kiln({"dump", "@train.kiln", "--after=data-parallel", "--data-parallel"});
  REQUIRE(ranks.status == 0);
  CHECK_THAT(ranks.out, Contains("%data_parallel/bucket_0/start = allreduce_mean_start("));
  CHECK_THAT(ranks.out, Contains("= bucket_part(%data_parallel/bucket_0/finish) {offset=0"));
}

TEST_CASE_METHOD(CliFixture, "cli: kiln dump verifies, prints and times each pass", "[cli]") {
  Result optimized = kiln({"dump", "@mlp.kiln", "--after=schedule"});
  REQUIRE(optimized.status == 0);
  // Each flag runs the whole pipeline and leaves the dump on stdout as it is.
  Result verified = kiln({"dump", "@mlp.kiln", "--verify-each"});
  REQUIRE(verified.status == 0);
  CHECK(verified.out == optimized.out);
  CHECK(verified.err.empty());

  Result printed = kiln({"dump", "@mlp.kiln", "--print-after-all"});
  REQUIRE(printed.status == 0);
  CHECK(printed.out == optimized.out);
  for (const Pass &p : pipeline()) CHECK_THAT(printed.err, Contains("# after " + p.name));
  CHECK_THAT(printed.err, Contains("# after fold-constants: unchanged\n"));
  CHECK_THAT(printed.err, Contains("# after fuse-epilogues\n%x = placeholder()"));
  // The last listing is the graph the pipeline made, or it is unchanged.
  std::string last = printed.err.substr(printed.err.rfind("# after schedule"));
  CHECK((last == "# after schedule: unchanged\n" || last == "# after schedule\n" + optimized.out));

  Result timed = kiln({"dump", "@mlp.kiln", "--after=dce", "--time-passes"});
  REQUIRE(timed.status == 0);
  CHECK_THAT(timed.err, Contains("pass              time (ms)  nodes\n"));
  CHECK_THAT(timed.err, Contains("fold-constants "));
  CHECK_THAT(timed.err, Contains("dce "));
  CHECK_THAT(timed.err, !Contains("fuse-loops"));
  CHECK_THAT(timed.err, Contains("\ntotal "));
  CHECK_THAT(timed.err, Contains("  10 -> 10\n")); // the MLP has 10 nodes, all live
}

TEST_CASE_METHOD(CliFixture, "cli: kiln dump leaves out large tensors' values unless asked",
                 "[cli]") {
  Graph g;
  std::vector<float> values(100);
  for (size_t i = 0; i < values.size(); ++i) values[i] = float(i) / 4;
  relu(constant(g, Tensor::from<float>({100}, values), "weights"), "y");
  save_graph(g, path("big.kiln"));
  Result shown = kiln({"dump", "@big.kiln"});
  REQUIRE(shown.status == 0);
  CHECK_THAT(shown.out, Contains("%weights = constant() {value=f32[100]{...}} : f32[100]\n"));
  Result all = kiln({"dump", "@big.kiln", "--all-values"});
  REQUIRE(all.status == 0);
  CHECK_THAT(all.out, Contains("{value=f32[100]{0, 0.25, 0.5, 0.75, 1, 1.25, "));
  CHECK(parse_listing(all.out) == g);
}

TEST_CASE_METHOD(CliFixture, "cli: kiln info --memory prints the plan", "[cli]") {
  Result r = kiln({"info", "@mlp.kiln", "--memory", "--batch", "32"});
  REQUIRE(r.status == 0);
  CHECK_THAT(r.out, Contains("memory (batch 32):"));
  // dense/relu (32 x 8) is the one intermediate: the fetched output is not in the arena.
  CHECK_THAT(r.out, Contains("kernels                   2\n"));
  CHECK_THAT(r.out, Contains("arena                     1.0 KiB"));
  CHECK_THAT(r.out, Contains("arena / buffers           1.00"));
}

TEST_CASE_METHOD(CliFixture, "cli: kiln and each subcommand explain themselves", "[cli]") {
  Result top = kiln({"--help"});
  CHECK(top.status == 0);
  for (std::string command : {"dump", "run", "info"}) {
    INFO(command);
    CHECK_THAT(top.out, Contains(command));
    Result help = kiln({command, "--help"});
    CHECK(help.status == 0);
    CHECK_THAT(help.out, Contains("Usage: kiln " + command));
    CHECK_THAT(help.out, Contains("kiln " + command + " mlp.kiln"));
  }
  Result none = kiln({});
  CHECK(none.status > 0);
  CHECK_THAT(none.err, Contains("subcommand is required"));
  CHECK(kiln({"dump", "@mlp.kiln", "--format", "png"}).status > 0);
}

TEST_CASE_METHOD(CliFixture, "cli: kiln reports bad models, feeds and fetches", "[cli]") {
  std::string binary = read_file(path("mlp.kiln"));
  write("truncated.kiln", binary.substr(0, binary.size() - 3));
  std::mt19937 rng(3);
  std::string noise(256, '\0');
  for (char &c : noise) c = char(rng());
  write("noise.kiln", noise);
  write("unknown_op.kiln.txt", R"(format_version: 1 nodes { name: "a" op: "frobnicate" })");
  write("missing_input.kiln.txt", R"(format_version: 1
    nodes { name: "r" op: "relu" inputs: "ghost" })");
  write("cycle.kiln.txt", R"(format_version: 1
    nodes { name: "a" op: "add" inputs: "b" inputs: "b" }
    nodes { name: "b" op: "relu" inputs: "a" })");
  write_npy(path("x_f64.npy"), feed.cast(f64));
  write_npy(path("x_wide.npy"), Tensor(f32, {5, 5}));
  std::string npy = read_file(path("x.npy"));
  write("x_truncated.npy", npy.substr(0, npy.size() - 5));
  write("header.csv", "a,b,c,d\n");

  struct Case {
    std::string name;
    std::vector<std::string> args;
    std::vector<std::string> message;
  };
  std::vector<std::string> run = {"run", "@mlp.kiln", "--fetch", "dense_1/add", "--feed"};
  auto run_with = [&](std::string feed) {
    std::vector<std::string> args = run;
    args.push_back(feed);
    return args;
  };
  std::vector<Case> cases = {
      {"missing model", {"info", "@nothing.kiln"}, {"cannot open", "nothing.kiln"}},
      {"truncated model", {"info", "@truncated.kiln"}, {"truncated.kiln", "truncated or corrupt"}},
      {"corrupt model", {"dump", "@noise.kiln"}, {"noise.kiln"}},
      {"unknown op", {"info", "@unknown_op.kiln.txt"}, {"node 'a'", "unknown op 'frobnicate'"}},
      {"missing input",
       {"dump", "@missing_input.kiln.txt"},
       {"node 'r' (relu): input 'ghost' does not exist"}},
      {"cycle", {"info", "@cycle.kiln.txt"}, {"node 'a' is part of a cycle: a -> b -> a"}},
      {"feed dtype", run_with("x=@x_f64.npy"), {"feed 'x': expected dtype f32, got f64"}},
      {"feed shape", run_with("x=@x_wide.npy"), {"feed 'x': expected shape [?, 4], got [5, 5]"}},
      {"truncated feed", run_with("x=@x_truncated.npy"), {"x_truncated.npy", "truncated data"}},
      {"feed without a file", run_with("x"), {"feed 'x': expected NAME=FILE.npy"}},
      {"feed of no node",
       run_with("z=@x.npy"),
       {"kiln: error: no placeholder named 'z'; placeholders: x\n"}},
      {"missing feed",
       {"run", "@mlp.kiln", "--fetch", "dense_1/add"},
       {"placeholder 'x' must be fed", "dense_1/add"}},
      {"unknown fetch",
       {"run", "@mlp.kiln", "--feed", "x=@x.npy", "--fetch", "nope"},
       {"kiln: error: no fetch named 'nope'; outputs: dense_1/add\n"}},
      {"misspelt fetch",
       {"run", "@mlp.kiln", "--feed", "x=@x.npy", "--fetch", "dense/rel"},
       {"kiln: error: no fetch named 'dense/rel'; did you mean 'dense/relu'? outputs: "
        "dense_1/add\n"}},
      {"empty fetch",
       {"run", "@mlp.kiln", "--feed", "x=@x.npy", "--fetch", ""},
       {"kiln: error: a fetch name is empty\n"}},
      {"unknown command",
       {"rnu", "@mlp.kiln"},
       {"kiln: error: no command named 'rnu'; did you mean 'run'? commands: dump, run, info, "
        "cache, compile, plot, import, export\n"}},
      {"directory as the model", {"info", "@"}, {"it is a directory"}},
      {"header-only csv feed",
       run_with("x=@header.csv"),
       {"header.csv': no rows: the file holds only a header (line 1)"}},
  };
  for (const Case &c : cases) {
    DYNAMIC_SECTION(c.name) {
      Result r = kiln(c.args);
      INFO(r.err);
      CHECK(r.status == 1);
      CHECK(r.out.empty());
      CHECK(r.err.starts_with("kiln: error: "));
      for (const std::string &part : c.message) CHECK_THAT(r.err, Contains(part));
    }
  }
}

TEST_CASE_METHOD(CliFixture, "cli: kiln run --repeat times the runs", "[cli]") {
  Result r = kiln({"run", "@mlp.kiln", "--feed", "x=@x.npy", "--fetch", "dense_1/add", "--repeat",
                   "3", "--threads", "1"});
  INFO(r.err);
  REQUIRE(r.status == 0);
  CHECK_THAT(r.out, Contains("dense_1/add: f32[5, 3] ["));
  CHECK_THAT(r.out, Contains("3 runs: min "));
  CHECK_THAT(r.out, Contains(" ms, median "));
  CHECK_THAT(r.out, Contains(" ms, max "));
  CHECK_THAT(r.out, Contains("compilation included"));
  CHECK_THAT(r.out, Contains("throughput at the median: "));
  CHECK_THAT(r.out, Contains(" items/s (batch 5)\n"));

  Result warm = kiln({"run", "@mlp.kiln", "--feed", "x=@x.npy", "--fetch", "dense_1/add",
                      "--repeat", "2", "--warmup", "4", "--threads", "1", "--profile"});
  INFO(warm.err);
  REQUIRE(warm.status == 0);
  CHECK_THAT(warm.out, Contains("2 runs after 4 warm-up: min "));
  // The first run, the warm-up and the timed runs: 7 in all.
  CHECK_THAT(warm.out, Contains("profile: 7 runs of 1 program"));
}

TEST_CASE_METHOD(CliFixture, "cli: kiln info lists the feeds each output and fetch needs",
                 "[cli]") {
  Value y = placeholder(graph, "unused", f32, {batch});
  neg(y, "negated");
  save_graph(graph, path("two.kiln"));
  Result r = kiln({"info", "@two.kiln"});
  REQUIRE(r.status == 0);
  CHECK_THAT(r.out,
             Contains("feeds each output needs:\n  dense_1/add  x\n  negated      unused\n"));
  Result fetch = kiln({"info", "@two.kiln", "--fetch", "dense/relu", "--fetch", "negated"});
  REQUIRE(fetch.status == 0);
  CHECK_THAT(fetch.out, Contains("feeds to fetch dense/relu, negated:\n  x       f32[?, 4]\n  "
                                 "unused  f32[?]\n"));
  Result unknown = kiln({"info", "@two.kiln", "--fetch", "nothing"});
  CHECK(unknown.status == 1);
  CHECK_THAT(unknown.err, Contains("no node named 'nothing'"));
}

TEST_CASE_METHOD(CliFixture, "cli: kiln run --profile prints the table and writes the trace",
                 "[cli][profile]") {
  Result table = kiln({"run", "@mlp.kiln", "--feed", "x=@x.npy", "--fetch", "dense_1/add",
                       "--repeat", "2", "--profile"});
  INFO(table.err);
  REQUIRE(table.status == 0);
  CHECK_THAT(table.out, Contains("profile: 3 runs of 1 program,"));
  CHECK_THAT(table.out, Contains("  dense/relu "));
  CHECK_THAT(table.out, Contains("compilations: 1,"));
  CHECK_THAT(table.out, !Contains("trace ->"));

  Result traced = kiln({"run", "@mlp.kiln", "--feed", "x=@x.npy", "--fetch", "dense_1/add",
                        "--profile", "@out/trace.json"});
  INFO(traced.err);
  REQUIRE(traced.status == 0);
  CHECK_THAT(traced.out, Contains("trace -> " + path("out/trace.json")));
  nlohmann::json trace = nlohmann::json::parse(read_file(path("out/trace.json")));
  int kernels = 0;
  for (const nlohmann::json &e : trace["traceEvents"]) kernels += e.value("cat", "") == "kernel";
  CHECK(kernels > 0);
}

TEST_CASE_METHOD(CliFixture, "cli: kiln cache info and clear", "[cli][cache]") {
  // On whatever the caller's KILN_CACHE says.
  std::vector<std::string> env = {"XDG_CACHE_HOME=@cache", "KILN_CACHE=on"};
  Result empty = kiln({"cache", "info"}, env);
  INFO(empty.err);
  REQUIRE(empty.status == 0);
  CHECK_THAT(empty.out, Contains("directory: " + path("cache/kiln") + "\n"));
  CHECK_THAT(empty.out, Contains("state: on\n"));
  CHECK_THAT(empty.out, Contains("entries: 0\n"));

  // A run fills the cache with its units.
  REQUIRE(kiln({"run", "@mlp.kiln", "--feed", "x=@x.npy", "--fetch", "dense_1/add"}, env).status ==
          0);
  Result full = kiln({"cache", "info"}, env);
  REQUIRE(full.status == 0);
  CHECK_THAT(full.out, !Contains("entries: 0\n"));
  CHECK_THAT(full.out, !Contains("size: 0 bytes"));

  Result off = kiln({"cache", "info"}, {"XDG_CACHE_HOME=@cache", "KILN_CACHE=off"});
  REQUIRE(off.status == 0);
  CHECK_THAT(off.out, Contains("directory: " + path("cache/kiln") + "\n"));
  CHECK_THAT(off.out, Contains("state: off (KILN_CACHE=off)"));

  Result cleared = kiln({"cache", "clear"}, env);
  REQUIRE(cleared.status == 0);
  CHECK_THAT(cleared.out, Contains("removed "));
  CHECK_THAT(cleared.out, !Contains("removed 0 "));
  CHECK_THAT(cleared.out, Contains(" from " + path("cache/kiln")));
  CHECK_THAT(kiln({"cache", "info"}, env).out, Contains("entries: 0\n"));
  CHECK_THAT(kiln({"cache", "clear"}, env).out, Contains("removed 0 entries"));
  Result none = kiln({"cache"}, env);
  CHECK(none.status > 0);
}

TEST_CASE_METHOD(CliFixture,
                 "cli: kiln run says when trained variables come from initializers, "
                 "and restores a training checkpoint with --allow-extra-variables",
                 "[cli]") {
  Result fresh = kiln({"run", "@mlp.kiln", "--feed", "x=@x.npy", "--fetch", "dense_1/add"});
  REQUIRE(fresh.status == 0);
  CHECK_THAT(fresh.err, Contains("note: no --checkpoint: 4 trainable variables (dense/W, dense/b, "
                                 "dense_1/W, ...) come from their initializers"));

  // The same layers trained: the checkpoint also holds Adam's slots.
  Graph training = graph;
  Value logits{&training, training.at("dense_1/add")};
  Value loss = mean(logits * logits);
  optim::Adam{}.minimize(loss);
  Session trained(training);
  trained.run({{"x", feed}}, {}, {"adam/train"});
  save_checkpoint(trained, path("train.ckpt"));

  Result strict = kiln({"run", "@mlp.kiln", "--feed", "x=@x.npy", "--fetch", "dense_1/add",
                        "--checkpoint", "@train.ckpt"});
  CHECK(strict.status == 1);
  CHECK_THAT(strict.err, Contains("variable 'adam/dense/W/m' in the file is not in the graph"));
  Result lenient =
      kiln({"run", "@mlp.kiln", "--feed", "x=@x.npy", "--fetch", "dense_1/add", "--checkpoint",
            "@train.ckpt", "--allow-extra-variables", "--out", "@results"});
  REQUIRE(lenient.status == 0);
  CHECK(lenient.err.empty());
  Tensor expected = trained.run({{"x", feed}}, {"dense_1/add"})[0];
  Result limited = kiln(
      {"run", "@mlp.kiln", "--feed", "x=@x.npy", "--fetch", "dense_1/add", "--max-buffer", "64"});
  CHECK(limited.status == 1);
  CHECK_THAT(limited.err, EndsWith("\nkiln: error: node 'dense/W' (variable) (f32[4, 8] at batch "
                                   "5) needs 128 bytes, over SessionOptions::max_buffer_bytes (64 "
                                   "bytes)\n"));
  Tensor got = read_npy(path("results/dense_1_add.npy"));
  REQUIRE(got.bytes() == expected.bytes());
  CHECK(std::memcmp(got.raw(), expected.raw(), got.bytes()) == 0);
}

TEST_CASE_METHOD(CliFixture,
                 "cli: kiln compile writes an object, a header, weights and a "
                 "memory report, and names what is wrong",
                 "[cli]") {
  Result ok =
      kiln({"compile", "@mlp.kiln", "-o", "@aot/mlp", "--fetch", "dense_1/add", "--batch", "2"});
  REQUIRE(ok.status == 0);
  CHECK_THAT(ok.out, Contains("trainable variables"));
  CHECK_THAT(ok.err,
             Contains("note: no --checkpoint: the weights are the variables' initializers"));
  for (const char *file : {"mlp.o", "libmlp.a", "mlp.h", "mlp.weights", "mlp.memory.txt"})
    CHECK(fs::exists(path(std::string("aot/") + file)));
  std::string header = read_file(path("aot/mlp.h"));
  CHECK_THAT(header, Contains("static inline int mlp_predict(mlp_instance *m, const float *x, "
                              "float *dense_1_add)"));
  CHECK_THAT(header, Contains("static const int64_t mlp_predict_x_shape[] = {2, 4};"));
  CHECK(read_file(path("aot/mlp.memory.txt")) == ok.out.substr(0, ok.out.find("  -> ")));
  // --quiet (what kiln_add_model passes) prints only the note and writes the same.
  Result quiet = kiln({"compile", "@mlp.kiln", "-o", "@aot/quiet", "--fetch", "dense_1/add",
                       "--batch", "2", "--quiet"});
  CHECK(quiet.status == 0);
  CHECK(quiet.out.empty());
  CHECK(quiet.err == "note: no --checkpoint: the weights are the variables' initializers\n");
  CHECK(fs::exists(path("aot/quiet.o")));
  std::string report = read_file(path("aot/mlp.memory.txt"));
  std::string quiet_report = read_file(path("aot/quiet.memory.txt"));
  CHECK(quiet_report.substr(quiet_report.find('\n')) == report.substr(report.find('\n')));

  auto error = [&](std::vector<std::string> args) {
    Result r = kiln(args);
    CHECK(r.status == 1);
    return r.err;
  };
  CHECK(error({"compile", "@mlp.kiln", "-o", "@aot/1mlp", "--fetch", "dense_1/add"}) ==
        "kiln: error: model name '1mlp' is not a C identifier (letters, digits and _, not first a "
        "digit)\n");
  CHECK_THAT(error({"compile", "@mlp.kiln", "-o", "@aot/m", "--fetch", "dense_1/add",
                    "--target-cpu", "pentium9"}),
             Contains("'pentium9' is not a CPU LLVM knows"));
  CHECK_THAT(error({"compile", "@mlp.kiln", "-o", "@aot/m", "--fetch", "nope"}),
             Contains("no node named 'nope'"));
  CHECK_THAT(error({"compile", "@mlp.kiln", "-o", "@aot/m"}), Contains("nothing to compile"));
}
