// What kiln writes for people to look at: fit()'s run log (JSON lines, its
// steps/s and ETA without compilation), `kiln plot` pages of run logs, and
// `kiln dump --format html` pages (their data; tests/viewer/ checks them in a
// browser), with a clear error for every bad input.
#include "cli_fixture.h"
#include "frontends/losses.h"
#include "frontends/optim.h"
#include "session/profile.h"
#include "session/trainer.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <sstream>

using namespace kiln;
using Catch::Matchers::Contains;
using Json = nlohmann::json;
using test::CliFixture;
using test::Result;

namespace {

std::vector<Json> read_json_lines(const std::filesystem::path &path) {
  std::vector<Json> records;
  std::istringstream lines(read_file(path));
  for (std::string line; std::getline(lines, line);) records.push_back(Json::parse(line));
  return records;
}

std::vector<Json> of_type(const std::vector<Json> &records, const std::string &type) {
  std::vector<Json> out;
  for (const Json &r : records)
    if (r["type"] == type) out.push_back(r);
  return out;
}

// The JSON a page carries in its <script id=ID type="application/json">.
Json page_data(const std::string &page, const std::string &id) {
  std::string open = "<script id=\"" + id + "\" type=\"application/json\">";
  size_t begin = page.find(open);
  REQUIRE(begin != std::string::npos);
  begin += open.size();
  size_t end = page.find("</script>", begin);
  REQUIRE(end != std::string::npos);
  return Json::parse(page.substr(begin, end - begin));
}

// A linear classifier with SGD on the sign dataset, trained for 2 epochs of
// 3 steps (batches of 4, 4 and 2) with a run log at `log`.
std::vector<EpochResult> train_with_log(const std::filesystem::path &log, double lr = 0.1) {
  std::mt19937 rng(3);
  Dataset train = test::sign_dataset(10, rng), test = test::sign_dataset(7, rng);
  Graph g;
  Classifier model = test::linear_classifier(g, 3, lr);
  model.learning_rate = Value{&g, g.at("sgd/lr")};
  Session s(g, {.threads = 1});
  return fit(
      s, model, train, test,
      {.epochs = 2, .batch_size = 4, .progress = false, .eval_batch = 7, .run_log = log.string()});
}

} // namespace

TEST_CASE("fit writes a run log: a record per step and per epoch", "[train][pages]") {
  test::TempDir dir;
  std::vector<EpochResult> results = train_with_log(dir / "run.jsonl");
  std::vector<Json> records = read_json_lines(dir / "run.jsonl");
  REQUIRE(records.size() == 1 + 6 + 2);
  CHECK(records[0]["type"] == "run");
  CHECK(records[0]["epochs"] == 2);
  CHECK(records[0]["train_items"] == 10);

  std::vector<Json> steps = of_type(records, "step"), epochs = of_type(records, "epoch");
  REQUIRE(steps.size() == 6);
  for (size_t i = 0; i < steps.size(); ++i) {
    INFO(steps[i].dump());
    CHECK(steps[i]["step"] == i + 1);
    CHECK(steps[i]["epoch"] == i / 3 + 1);
    CHECK(std::isfinite(steps[i]["loss"].get<double>()));
    CHECK(steps[i]["lr"].get<double>() == Approx(0.1));
    CHECK(steps[i]["wall_s"].get<double>() >= (i ? steps[i - 1]["wall_s"].get<double>() : 0));
  }
  REQUIRE(epochs.size() == 2);
  for (size_t e = 0; e < 2; ++e) {
    INFO("epoch " << e + 1);
    CHECK(epochs[e]["test_accuracy"].get<double>() == results[e].test_accuracy);
    CHECK(epochs[e]["mean_loss"].get<double>() == results[e].mean_loss);
    CHECK(epochs[e]["train_s"].get<double>() == results[e].train_seconds);
    CHECK(epochs[e]["compile_s"].get<double>() == results[e].compile_seconds);
    CHECK(epochs[e]["step"] == 3 * (e + 1));
  }
}

TEST_CASE("steps/s and the ETA leave out the runs that compiled", "[train][pages]") {
  test::TempDir dir;
  std::vector<EpochResult> results = train_with_log(dir / "run.jsonl");
  std::vector<Json> records = read_json_lines(dir / "run.jsonl");
  std::vector<Json> steps = of_type(records, "step");
  // Epoch 1 compiles the training step for batches 4 (step 1) and 2 (step 3):
  // until a step runs without compiling there is no rate.
  CHECK(steps[0]["steps_per_s"].is_null());
  CHECK(steps[0]["eta_s"].is_null());
  REQUIRE(steps[1]["steps_per_s"].is_number());
  // Counting compilation, epoch 1 would run at steps / train_s: compiling
  // takes milliseconds, a step of this model microseconds.
  const EpochResult &first = results[0];
  REQUIRE(first.compile_seconds > 0);
  double with_compilation = double(first.steps) / first.train_seconds;
  CHECK(first.steps_per_second > 5 * with_compilation);
  // One step of epoch 1 ran without compiling, in at most what remains of
  // its time (the rate is taken at its last step, a little before the
  // epoch's end).
  CHECK(first.steps_per_second >= 1 / (first.train_seconds - first.compile_seconds));
  // The ETA is the steps left at that rate.
  double rate = steps[1]["steps_per_s"].get<double>();
  CHECK(steps[1]["eta_s"].get<double>() == Approx(1 / rate));
  // Epoch 2 compiles nothing: every step counts.
  CHECK(results[1].compile_seconds == 0);
  CHECK(results[1].steps_per_second >= 3 / results[1].train_seconds);
  CHECK(of_type(records, "epoch")[1]["steps_per_s"].get<double>() == results[1].steps_per_second);
}

TEST_CASE("fit creates a run log's directory and names a run log it cannot write",
          "[train][pages]") {
  test::TempDir dir;
  train_with_log(dir / "new" / "run.jsonl");
  CHECK(read_json_lines(dir / "new" / "run.jsonl").size() == 9);
  // A directory where the file should be.
  CHECK_THROWS_WITH(train_with_log(dir / "new"),
                    Contains("cannot write the run log '" + (dir / "new").string() + "'"));
}

#if KILN_VIEWER // built with its pages
TEST_CASE_METHOD(CliFixture, "cli: kiln plot overlays run logs on one page", "[cli][pages]") {
  train_with_log(path("sgd_0.1.jsonl"), 0.1);
  train_with_log(path("sgd_0.5.jsonl"), 0.5);
  Result r = kiln({"plot", "@sgd_0.1.jsonl", "@sgd_0.5.jsonl", "-o", "@runs.html"});
  INFO(r.err);
  REQUIRE(r.status == 0);
  CHECK_THAT(r.out, Contains("2 runs -> "));
  std::string page = read_file(path("runs.html"));
  CHECK_THAT(page, !Contains("@inline"));
  CHECK_THAT(page, Contains("uPlot"));         // the library is in the page
  CHECK_THAT(page, !Contains("<script src=")); // and nothing is fetched
  Json runs = page_data(page, "kiln-runs")["runs"];
  REQUIRE(runs.size() == 2);
  CHECK(runs[0]["name"] == "sgd_0.1");
  CHECK(runs[1]["name"] == "sgd_0.5");
  CHECK(runs[1]["steps"].size() == 6);
  CHECK(runs[1]["epochs"].size() == 2);
}
#endif

TEST_CASE_METHOD(CliFixture, "cli: kiln plot names a file that is not a run log", "[cli][pages]") {
  train_with_log(path("good.jsonl"));
  Result model = kiln({"plot", "@good.jsonl", "@mlp.kiln", "-o", "@runs.html"});
  CHECK(model.status == 1);
  CHECK_THAT(model.err, Contains("kiln: error: " + path("mlp.kiln") +
                                 ":1: not a JSON object (a run log has one per line)"));
  write_file_atomically(path("partial.jsonl"),
                        "{\"type\": \"run\"}\n{\"type\": \"step\", \"step\": 1}\n");
  Result partial = kiln({"plot", "@partial.jsonl", "-o", "@runs.html"});
  CHECK(partial.status == 1);
  CHECK_THAT(partial.err,
             Contains(path("partial.jsonl") + ":2: a \"step\" record without \"loss\""));
  write_file_atomically(path("empty.jsonl"), "{\"type\": \"run\"}\n");
  Result empty = kiln({"plot", "@empty.jsonl", "-o", "@runs.html"});
  CHECK(empty.status == 1);
  CHECK_THAT(empty.err, Contains("no step or epoch records: not a run log"));
  CHECK(!std::filesystem::exists(path("runs.html")));
}

#if KILN_VIEWER // built with its pages
TEST_CASE_METHOD(CliFixture, "cli: kiln dump --format html carries the graph", "[cli][pages]") {
  Result r = kiln({"dump", "@mlp.kiln", "--format", "html", "-o", "@mlp.html"});
  INFO(r.err);
  REQUIRE(r.status == 0);
  std::string page = read_file(path("mlp.html"));
  CHECK_THAT(page, !Contains("@inline"));
  CHECK_THAT(page, Contains("dagre"));
  CHECK_THAT(page, !Contains("<script src="));
  Json data = page_data(page, "kiln-graph");
  CHECK(data["title"] == "mlp.kiln");
  REQUIRE(data["nodes"].size() == graph.size());
  for (const Node &n : graph.nodes()) {
    const Json &node = data["nodes"][size_t(n.id)];
    CHECK(node["name"] == n.name);
    CHECK(node["op"] == n.op->name);
    CHECK(node["inputs"].size() == n.inputs.size());
    CHECK(node["role"] == "forward");
  }
  CHECK(data["memory"].is_null());
  CHECK(data["profile"].is_null());
}
#endif

#if KILN_VIEWER // built with its pages
TEST_CASE_METHOD(CliFixture, "cli: kiln dump --format html overlays memory and profile",
                 "[cli][pages]") {
  Session s(graph, {.threads = 1, .profile = true});
  for (int i = 0; i < 2; ++i) s.run({{"x", feed}}, {"dense_1/add"});
  write_chrome_trace(s.profile(), path("trace.json"));
  Result r = kiln({"dump", "@mlp.kiln", "--format", "html", "--memory", "--batch", "32",
                   "--profile", "@trace.json", "-o", "@mlp.html"});
  INFO(r.err);
  REQUIRE(r.status == 0);
  Json data = page_data(read_file(path("mlp.html")), "kiln-graph");
  CHECK(data["title"] == "mlp.kiln (compiled)");
  // The compiled graph: dense/relu is the matmul's fusion, the one arena buffer.
  const Json &memory = data["memory"];
  CHECK(memory["batch"] == 32);
  CHECK(memory["arena_bytes"] == 1024);
  CHECK(memory["kernels"].size() == 2);
  int in_arena = 0;
  for (const Json &b : memory["buffers"])
    if (b["in_arena"].get<bool>()) {
      ++in_arena;
      CHECK(data["nodes"][b["node"].get<size_t>()]["name"] == "dense/relu");
      CHECK(b["bytes"] == 32 * 8 * 4);
    }
  CHECK(in_arena == 1);
  const Json &profile = data["profile"];
  CHECK(profile["runs"] == 2);
  CHECK(profile["kernels"]["dense/relu"]["calls"] == 2);
  CHECK(profile["kernels"]["dense_1/add"]["calls"] == 2);
  CHECK(profile["mean_run_us"].get<double>() > 0);
}
#endif

TEST_CASE_METHOD(CliFixture, "cli: kiln dump --format html names a bad trace", "[cli][pages]") {
  Result model = kiln({"dump", "@mlp.kiln", "--format", "html", "--profile", "@mlp.kiln"});
  CHECK(model.status == 1);
  CHECK_THAT(model.err, Contains("kiln: error: " + path("mlp.kiln") + ": not a Chrome trace"));
  write_file_atomically(path("empty.json"), "{\"traceEvents\": []}");
  Result empty = kiln({"dump", "@mlp.kiln", "--format", "html", "--profile", "@empty.json"});
  CHECK(empty.status == 1);
  CHECK_THAT(empty.err, Contains("the trace records no runs"));
  Result text = kiln({"dump", "@mlp.kiln", "--memory"});
  CHECK(text.status == 1);
  CHECK_THAT(text.err, Contains("--memory and --profile are overlays of --format html"));
}

#if KILN_VIEWER // built with its pages
TEST_CASE("html pages print constants as they were written", "[pages]") {
  // Through the CLI's printer of attribute values: 0.9f is 0.9 there, not
  // 0.8999999761581421 (ir/attr.cpp's exact form).
  Graph g;
  Value c = constant(g, 0.9, f32, "beta");
  Value x = placeholder(g, "x", f32, {batch});
  x *c;
  test::TempDir dir;
  save_graph(g, dir / "m.kiln");
  std::string command = test::shell_quote(KILN_CLI) + " dump " +
                        test::shell_quote((dir / "m.kiln").string()) + " --format html -o " +
                        test::shell_quote((dir / "m.html").string());
  REQUIRE(std::system(command.c_str()) == 0);
  Json data = page_data(read_file(dir / "m.html"), "kiln-graph");
  std::string value = data["nodes"][0]["attrs"]["value"];
  CHECK(value == "f32[] {0.9}");
}
#endif

#if !KILN_VIEWER
TEST_CASE_METHOD(CliFixture, "cli: a kiln built without its pages says how to get them",
                 "[cli][pages]") {
  Result r = kiln({"dump", "@mlp.kiln", "--format", "html", "-o", "@mlp.html"});
  CHECK(r.status == 1);
  CHECK_THAT(r.err, Contains("this kiln was built without its HTML pages (the viewer's npm "
                             "packages were missing): run scripts/setup.sh, then configure with "
                             "-DKILN_VIEWER=ON and rebuild"));
  CHECK(!std::filesystem::exists(path("mlp.html")));
}
#endif
