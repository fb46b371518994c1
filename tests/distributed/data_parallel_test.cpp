// Data-parallel training across processes: ctest runs this program under
// `mpirun -np 2` and `-np 3`, and alone (a job of one). Every rank trains on
// its rows of each global batch while, in the same program, a Session
// without a communicator trains on the whole batches: the mean of the
// ranks' losses and the final weights must be one process's (f64 to 1e-12;
// f32 within rounding, the batch sums being split differently), and every
// bucket size and thread count must give the same bits.
#define CATCH_CONFIG_RUNNER
#include "distributed/communicator.h"
#include "frontends/losses.h"
#include "frontends/nn.h"
#include "frontends/normalization.h"
#include "frontends/optim.h"
#include "frontends/sequence.h"
#include "ir/error.h"
#include "session/checkpoint.h"
#include "session/session.h"
#include "session/trainer.h"
#include "test_util.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <limits>
#include <unistd.h>

using namespace kiln;
using Catch::Matchers::Contains;

namespace {

Communicator *world = nullptr; // main's, for the whole run

constexpr int64_t kGlobalBatch = 12; // rows, split evenly among 1, 2 or 3 ranks
constexpr int kSteps = 6;

struct Model {
  Graph g;
  Value x, y, training, loss, train;
};

enum class Kind { mlp, conv_bn, conv_sync_bn, lstm };

// Small classifiers trained with Adam: an MLP (whose `hidden` may differ by
// rank, to build mismatched graphs), a conv net with batch norm (each
// rank's statistics, or synchronized), an LSTM over 5 steps.
std::unique_ptr<Model> classifier(Kind kind, DType dtype, int64_t hidden = 10) {
  auto m = std::make_unique<Model>();
  Graph &g = m->g;
  Shape item = kind == Kind::mlp ? Shape{6} : kind == Kind::lstm ? Shape{5, 2} : Shape{1, 4, 4};
  Shape shape = {batch};
  shape.insert(shape.end(), item.begin(), item.end());
  m->x = placeholder(g, "x", dtype, shape);
  m->y = placeholder(g, "y", i64, {batch});
  m->training = placeholder(g, "training", boolean, {});
  Value h;
  switch (kind) {
  case Kind::mlp: h = nn::dense(g, m->x, hidden, nn::relu, {.seed = 1}); break;
  case Kind::conv_bn:
  case Kind::conv_sync_bn:
    // No bias before batch norm: its gradient is rounding noise, which Adam
    // would scale up to whole steps.
    h = nn::conv2d(g, m->x, 3, 3, {}, {.padding = "same", .use_bias = false, .seed = 1});
    h = flatten(
        relu(nn::batch_norm(g, h, m->training, {.synchronized = kind == Kind::conv_sync_bn})));
    break;
  case Kind::lstm: h = nn::lstm(g, m->x, 6, {.seed = 1}); break;
  }
  Value logits = nn::dense(g, h, 3, {}, {.seed = 2});
  m->loss = mean(nn::softmax_cross_entropy(logits, m->y));
  m->train = optim::Adam{.lr = 0.02}.minimize(m->loss);
  return m;
}

// Rows [begin, end) of step `step`'s global batch: features spread over a
// few binades, labels a function of them (so that the model learns).
Feeds batch_rows(const Model &m, DType dtype, int step, int64_t begin, int64_t end) {
  Shape shape = m.x.shape();
  shape[0] = end - begin;
  int64_t width = num_elements(shape) / (end - begin);
  Tensor x(dtype, shape);
  Tensor y(i64, {end - begin});
  for (int64_t r = begin; r < end; ++r) {
    double sum = 0;
    for (int64_t c = 0; c < width; ++c) {
      double v = std::sin(double(step * 131 + r * 17 + c * 7)) * std::ldexp(1.0, int(c % 3) - 1);
      x.set((r - begin) * width + c, v);
      sum += v;
    }
    y.set(r - begin, double(sum > 0.5 ? 2 : sum > -0.5 ? 1 : 0));
  }
  return {{m.x, x}, {m.y, y}, {m.training, Tensor::scalar(uint8_t{1})}};
}

struct Trace {
  std::vector<double> losses;                            // the global batch's, each step
  std::vector<std::pair<std::string, Tensor>> variables; // weights, slots, statistics
};

// kSteps steps, as this rank's share of the job, or alone on the whole
// batches when `communicator` is null.
Trace train(Kind kind, DType dtype, Communicator *communicator, size_t bucket_bytes = 0,
            int threads = 1) {
  auto m = classifier(kind, dtype);
  int rank = communicator ? communicator->rank() : 0,
      ranks = communicator ? communicator->size() : 1;
  Session s(m->g, {.threads = threads,
                   .passes = {.data_parallel = {.bucket_bytes = bucket_bytes}},
                   .communicator = communicator});
  Trace t;
  for (int step = 0; step < kSteps; ++step) {
    Feeds feeds =
        batch_rows(*m, dtype, step, kGlobalBatch * rank / ranks, kGlobalBatch * (rank + 1) / ranks);
    Tensor loss = s.run(feeds, {m->loss}, {m->train})[0];
    if (communicator) communicator->allreduce_mean(loss); // equal shards: the batch's mean
    t.losses.push_back(loss.get(0));
  }
  for (const Node &n : m->g.nodes())
    if (n.op->source == Source::variable) t.variables.emplace_back(n.name, s.variable(n.name));
  return t;
}

Dataset to_f64(const Dataset &d) {
  Tensor inputs(f64, d.inputs.shape());
  for (int64_t i = 0; i < inputs.size(); ++i) inputs.set(i, d.inputs.get(i));
  return {inputs, d.labels};
}

bool same_bits(const Tensor &a, const Tensor &b) {
  return a.dtype() == b.dtype() && a.shape() == b.shape() &&
         std::memcmp(a.raw(), b.raw(), a.bytes()) == 0;
}

// Losses and every variable but those named in `skip`, within `tolerance`
// relative to 1 + |value|.
void check_close(const Trace &got, const Trace &want, double tolerance,
                 const std::vector<std::string> &skip = {}) {
  for (int step = 0; step < kSteps; ++step) {
    INFO("step " << step);
    CHECK(std::abs(got.losses[size_t(step)] - want.losses[size_t(step)]) <=
          tolerance * (1 + std::abs(want.losses[size_t(step)])));
  }
  REQUIRE(got.variables.size() == want.variables.size());
  for (size_t v = 0; v < want.variables.size(); ++v) {
    const auto &[name, value] = want.variables[v];
    if (std::any_of(skip.begin(), skip.end(),
                    [&](const std::string &s) { return name.ends_with(s); }))
      continue;
    INFO("variable " << name);
    double worst = 0;
    for (int64_t i = 0; i < value.size(); ++i)
      worst = std::max(worst, std::abs(got.variables[v].second.get(i) - value.get(i)) /
                                  (1 + std::abs(value.get(i))));
    CHECK(worst <= tolerance);
  }
}

// Whether every rank holds the same bits of `t`.
bool same_on_every_rank(const Tensor &t) {
  uint64_t hash = 14695981039346656037ull;
  for (const std::byte *b = static_cast<const std::byte *>(t.raw()), *end = b + t.bytes(); b != end;
       ++b)
    hash = (hash ^ uint64_t(*b)) * 1099511628211ull;
  std::vector<uint64_t> all = world->allgather(std::span(&hash, 1));
  return std::all_of(all.begin(), all.end(), [&](uint64_t h) { return h == hash; });
}

} // namespace

TEST_CASE("ranks training on shards of each batch follow one process on the whole batches",
          "[distributed]") {
  INFO("rank " << world->rank() << " of " << world->size());
  // f64: only the order of the sums over the batch differs; f32 rounds
  // those sums and Adam divides by the gradients' magnitude, so a few ulps
  // in a gradient reach the weights (measured: below 2e-6).
  for (Kind kind : {Kind::mlp, Kind::lstm}) {
    INFO((kind == Kind::mlp ? "MLP" : "LSTM"));
    check_close(train(kind, f64, world), train(kind, f64, nullptr), 1e-12);
    check_close(train(kind, f32, world), train(kind, f32, nullptr), 1e-5);
  }
  // And the job did learn.
  Trace t = train(Kind::mlp, f32, world);
  CHECK(t.losses.back() < t.losses.front());
}

TEST_CASE("batch norm: synchronized it is one process's; per rank the weights stay in step",
          "[distributed]") {
  INFO("rank " << world->rank() << " of " << world->size());
  // Synchronized statistics are the whole batch's, but for the running
  // variance's unbiased correction, which counts the rank's own items
  // (frontends/normalization.cpp).
  check_close(train(Kind::conv_sync_bn, f64, world), train(Kind::conv_sync_bn, f64, nullptr), 1e-12,
              {"running_var"});
  // Each rank's own statistics (DDP's default): the ranks' running
  // statistics differ, every other variable is the same on every rank.
  Trace per_rank = train(Kind::conv_bn, f64, world);
  for (const auto &[name, value] : per_rank.variables) {
    INFO(name);
    bool statistic = name.find("running_") != std::string::npos;
    if (!statistic) CHECK(same_on_every_rank(value));
  }
  if (world->size() > 1) { // shards of different items: their statistics differ
    const Tensor &mean =
        std::find_if(per_rank.variables.begin(), per_rank.variables.end(), [](const auto &v) {
          return v.first.ends_with("running_mean");
        })->second;
    CHECK_FALSE(same_on_every_rank(mean));
  }
}

TEST_CASE("fit() data-parallel: the job's loss and accuracy are one process's at the whole batch",
          "[distributed]") {
  auto run = [](Communicator *communicator) {
    std::mt19937 rng(5); // the same data on every rank
    Dataset train_set = test::sign_dataset(120, rng), test_set = test::sign_dataset(60, rng);
    Graph g;
    Value x = placeholder(g, "x", f64, {batch, 3});
    Value y = placeholder(g, "y", i32, {batch});
    Value logits = nn::dense(g, x, 2, {}, {.seed = 3});
    Value loss = mean(nn::softmax_cross_entropy(logits, y));
    Classifier model{x, y, loss, nn::accuracy(logits, y), optim::Adam{.lr = 0.05}.minimize(loss)};
    Session s(g, {.threads = 1, .communicator = communicator});
    // 4 items a rank: the one process takes each global batch whole.
    std::vector<EpochResult> results = fit(s, model, to_f64(train_set), to_f64(test_set),
                                           {.epochs = 2,
                                            .batch_size = communicator ? 4 : 4 * world->size(),
                                            .seed = 9,
                                            .progress = false,
                                            .eval_batch = 5});
    return std::pair{results, s.variable("dense/W")};
  };
  auto [job, job_w] = run(world);
  auto [alone, alone_w] = run(nullptr);
  for (size_t e = 0; e < alone.size(); ++e) {
    INFO("epoch " << e);
    CHECK(job[e].items == 120);
    CHECK(job[e].steps == alone[e].steps);
    CHECK(std::abs(job[e].mean_loss - alone[e].mean_loss) <= 1e-12);
    CHECK(job[e].test_accuracy == alone[e].test_accuracy);
  }
  CHECK(test::compare(job_w, alone_w, 1e-12) == "");
  CHECK(same_on_every_rank(job_w));
}

TEST_CASE("a checkpoint rank 0 saves restores on any rank count and the training goes on",
          "[distributed]") {
  // Rank 0's process id names the job's one directory, on every rank.
  uint64_t pid = uint64_t(getpid());
  auto dir = std::filesystem::temp_directory_path() /
             fmt::format("kiln_dp_checkpoint_{}", world->allgather(std::span(&pid, 1))[0]);
  std::filesystem::path path = dir / "step3.ckpt";
  int rank = world->rank(), ranks = world->size();
  auto steps = [&](Session &s, const Model &m, int from, Communicator *communicator) {
    std::vector<double> losses;
    int r = communicator ? rank : 0, n = communicator ? ranks : 1;
    for (int step = from; step < from + 3; ++step) {
      Feeds feeds = batch_rows(m, f64, step, kGlobalBatch * r / n, kGlobalBatch * (r + 1) / n);
      Tensor loss = s.run(feeds, {m.loss}, {m.train})[0];
      if (communicator) communicator->allreduce_mean(loss);
      losses.push_back(loss.get(0));
    }
    return losses;
  };
  auto m = classifier(Kind::mlp, f64);
  Session job(m->g, {.threads = 1, .communicator = world});
  steps(job, *m, 0, world);
  if (rank == 0) {
    std::filesystem::create_directories(dir);
    save_checkpoint(job, path);
  }
  world->barrier();
  std::vector<double> went_on = steps(job, *m, 3, world);
  // The job again on every rank, and one process at the whole batch.
  Session again(m->g, {.threads = 1, .communicator = world});
  restore_checkpoint(again, path);
  CHECK(steps(again, *m, 3, world) == went_on);
  Session alone(m->g, {.threads = 1});
  restore_checkpoint(alone, path);
  std::vector<double> alone_losses = steps(alone, *m, 3, nullptr);
  for (size_t i = 0; i < went_on.size(); ++i)
    CHECK(std::abs(alone_losses[i] - went_on[i]) <= 1e-12);
  world->barrier();
  if (rank == 0) std::filesystem::remove_all(dir);
}

TEST_CASE("bucket sizes, thread counts and repeated runs give the same bits", "[distributed]") {
  Trace reference = train(Kind::mlp, f32, world);
  for (auto [bytes, threads] : {std::pair<size_t, int>{1, 1}, {256, 2}, {size_t(1) << 30, 2}}) {
    INFO(bytes << "-byte buckets, " << threads << " threads");
    Trace t = train(Kind::mlp, f32, world, bytes, threads);
    for (size_t v = 0; v < t.variables.size(); ++v)
      CHECK(same_bits(t.variables[v].second, reference.variables[v].second));
    CHECK(t.losses == reference.losses);
  }
}

TEST_CASE("a job of several ranks refuses updates that average nothing", "[distributed]") {
  if (world->size() == 1) return; // alone, nothing needs averaging
  Graph g;
  Value w = variable(g, "w", f32, {3}, Init::ones());
  Value step = assign_sub(w, w * 0.5f, "by_hand");
  Session s(g, {.threads = 1, .communicator = world});
  CHECK(test::error_of([&] { s.run({}, {}, {step}); }) ==
        fmt::format("node 'by_hand' updates the trainable variable 'w' but the program "
                    "averages nothing over the job's {} ranks, so each would train alone: build "
                    "its updates with an optimizer of kiln::optim (they average the gradients; a "
                    "graph saved before they did must be built again)",
                    world->size()));
}

TEST_CASE("ranks that built different graphs all fail before training, naming the difference",
          "[distributed]") {
  if (world->size() == 1) return; // nothing can differ
  auto m = classifier(Kind::mlp, f32, 10 + world->rank());
  Session s(m->g, {.threads = 1, .communicator = world});
  Feeds feeds = batch_rows(*m, f32, 0, 0, 4);
  REQUIRE_THROWS_WITH(s.run(feeds, {m->loss}, {m->train}),
                      Contains("the ranks compiled different collective schedules") &&
                          Contains("ranks 1") && Contains("the first difference is step"));
}

int main(int argc, char **argv) {
  Communicator communicator;
  world = &communicator;
  return Catch::Session().run(argc, argv);
}
