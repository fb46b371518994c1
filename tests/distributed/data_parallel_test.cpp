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
#include "frontends/optim.h"
#include "ir/error.h"
#include "session/session.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <limits>

using namespace kiln;
using Catch::Matchers::Contains;

namespace {

Communicator *world = nullptr; // main's, for the whole run

constexpr int64_t kGlobalBatch = 12; // rows, split evenly among 1, 2 or 3 ranks
constexpr int kSteps = 6;

struct Model {
  Graph g;
  Value x, y, loss, train;
};

// A two-layer classifier trained with Adam; `hidden` may differ by rank to
// build mismatched graphs.
std::unique_ptr<Model> classifier(DType dtype, int64_t hidden) {
  auto m = std::make_unique<Model>();
  m->x = placeholder(m->g, "x", dtype, {batch, 6});
  m->y = placeholder(m->g, "y", i64, {batch});
  Value h = nn::dense(m->g, m->x, hidden, nn::relu, {.seed = 1});
  Value logits = nn::dense(m->g, h, 3, {}, {.seed = 2});
  m->loss = mean(nn::softmax_cross_entropy(logits, m->y));
  m->train = optim::Adam{.lr = 0.02}.minimize(m->loss);
  return m;
}

// Rows [begin, end) of step `step`'s global batch: features spread over a
// few binades, labels a function of them (so that the model learns).
Feeds batch_rows(const Model &m, DType dtype, int step, int64_t begin, int64_t end) {
  Tensor x(dtype, {end - begin, 6});
  Tensor y(i64, {end - begin});
  for (int64_t r = begin; r < end; ++r) {
    double sum = 0;
    for (int64_t c = 0; c < 6; ++c) {
      double v = std::sin(double(step * 131 + r * 17 + c * 7)) * std::ldexp(1.0, int(c % 3) - 1);
      x.set((r - begin) * 6 + c, v);
      sum += v;
    }
    y.set(r - begin, double(sum > 0.5 ? 2 : sum > -0.5 ? 1 : 0));
  }
  return {{m.x, x}, {m.y, y}};
}

struct Trace {
  std::vector<double> losses; // the global batch's, each step
  std::vector<Tensor> weights;
};

// kSteps steps, as rank `communicator`'s share of the job, or alone on the
// whole batches when `communicator` is null.
Trace train(DType dtype, Communicator *communicator, size_t bucket_bytes = 0,
            int threads = 1) {
  auto m = classifier(dtype, 10);
  int rank = communicator ? communicator->rank() : 0, ranks = communicator ? communicator->size() : 1;
  Session s(m->g, {.threads = threads,
                   .passes = {.data_parallel = {.bucket_bytes = bucket_bytes}},
                   .communicator = communicator});
  Trace t;
  for (int step = 0; step < kSteps; ++step) {
    Feeds feeds = batch_rows(*m, dtype, step, kGlobalBatch * rank / ranks,
                             kGlobalBatch * (rank + 1) / ranks);
    Tensor loss = s.run(feeds, {m->loss}, {m->train})[0];
    if (communicator) communicator->allreduce_mean(loss); // equal shards: the batch's mean
    t.losses.push_back(loss.get(0));
  }
  for (const char *name : {"dense/W", "dense/b", "dense_1/W", "dense_1/b"})
    t.weights.push_back(s.variable(name));
  return t;
}

bool same_bits(const Tensor &a, const Tensor &b) {
  return a.dtype() == b.dtype() && a.shape() == b.shape() &&
         std::memcmp(a.raw(), b.raw(), a.bytes()) == 0;
}

void check_close(const Trace &got, const Trace &want, double tolerance) {
  for (int step = 0; step < kSteps; ++step) {
    INFO("step " << step);
    CHECK(std::abs(got.losses[size_t(step)] - want.losses[size_t(step)]) <=
          tolerance * (1 + std::abs(want.losses[size_t(step)])));
  }
  for (size_t w = 0; w < want.weights.size(); ++w) {
    INFO("weight " << w);
    double worst = 0;
    for (int64_t i = 0; i < want.weights[w].size(); ++i)
      worst = std::max(worst, std::abs(got.weights[w].get(i) - want.weights[w].get(i)) /
                                  (1 + std::abs(want.weights[w].get(i))));
    CHECK(worst <= tolerance);
  }
}

} // namespace

TEST_CASE("ranks training on shards of each batch follow one process on the whole batches",
          "[distributed]") {
  INFO("rank " << world->rank() << " of " << world->size());
  // f64: only the order of the sums over the batch differs; f32 rounds
  // those sums and Adam divides by the gradients' magnitude, so a few ulps
  // in a gradient reach the weights (measured: below 2e-6).
  check_close(train(f64, world), train(f64, nullptr), 1e-12);
  check_close(train(f32, world), train(f32, nullptr), 1e-5);
  // And the job did learn.
  Trace t = train(f32, world);
  CHECK(t.losses.back() < t.losses.front());
}

TEST_CASE("bucket sizes, thread counts and repeated runs give the same bits", "[distributed]") {
  Trace reference = train(f32, world);
  for (auto [bytes, threads] : {std::pair<size_t, int>{1, 1}, {256, 2}, {size_t(1) << 30, 2}}) {
    INFO(bytes << "-byte buckets, " << threads << " threads");
    Trace t = train(f32, world, bytes, threads);
    for (size_t w = 0; w < t.weights.size(); ++w) CHECK(same_bits(t.weights[w], reference.weights[w]));
    CHECK(t.losses == reference.losses);
  }
}

TEST_CASE("ranks that built different graphs all fail before training, naming the difference",
          "[distributed]") {
  if (world->size() == 1) return; // nothing can differ
  auto m = classifier(f32, 10 + world->rank());
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
