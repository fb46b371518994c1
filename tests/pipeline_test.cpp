// The input pipeline (data/pipeline.h) and its image maps (data/augment.h):
// the same batches at every prefetch depth and thread count, loading that
// overlaps the steps, augmentation against a reference written out here,
// errors that reach the caller, and fit() unchanged by prefetching.
#include "data/augment.h"
#include "data/random_stream.h"
#include "frontends/losses.h"
#include "frontends/nn.h"
#include "frontends/optim.h"
#include "ir/error.h"
#include "session/trainer.h"
#include "temp_dir.h"
#include "test_util.h"

#include <nlohmann/json.hpp>

#include <chrono>
#include <fstream>
#include <numeric>
#include <thread>

using namespace kiln;
using namespace std::chrono_literals;
using Catch::Matchers::Contains;

namespace {

using Setting = std::pair<int64_t, int>; // prefetch depth, threads
const Setting kDepthsAndThreads[] = {{1, 1}, {2, 2}, {8, 8}, {2, 8}, {8, 1}};

// n images [1, height, width]; image i holds i * 100 + 1, + 2, ... row by
// row, and its label is i.
Dataset images(int64_t n, int64_t height, int64_t width) {
  Tensor x(f32, {n, 1, height, width}), y(i32, {n});
  for (int64_t i = 0; i < n; ++i) {
    y.set(i, double(i));
    for (int64_t k = 0; k < height * width; ++k)
      x.set(i * height * width + k, double(i * 100 + k + 1));
  }
  return {x, y};
}

std::vector<Batch> all_batches(const DataPipeline &pipeline, int64_t epoch) {
  std::vector<Batch> batches;
  DataPipelineEpoch e = pipeline.epoch(epoch);
  while (std::optional<Batch> b = e.next()) batches.push_back(*b);
  return batches;
}

bool identical(const std::vector<Batch> &a, const std::vector<Batch> &b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (!a[i].inputs.identical(b[i].inputs) || !a[i].labels.identical(b[i].labels)) return false;
  return true;
}

DataPipeline augmented(const Dataset &d, BatchOptions batches, int64_t prefetch, int threads) {
  DataPipeline p(d, {.batches = batches, .prefetch = prefetch, .threads = threads});
  p.map(random_crop(1)).map(random_flip());
  return p;
}

// Rows of a batch's labels (the image ids).
std::vector<int32_t> ids(const Batch &b) {
  auto y = b.labels.data<int32_t>();
  return {y.begin(), y.end()};
}

} // namespace

TEST_CASE("pipeline: the same batches at every prefetch depth and thread count", "[pipeline]") {
  Dataset d = images(37, 3, 4);
  BatchOptions options{.batch_size = 5, .seed = 3};
  DataPipeline serial = augmented(d, options, 0, 1);
  for (int64_t epoch : {0, 1}) {
    std::vector<Batch> expected = all_batches(serial, epoch);
    REQUIRE(expected.size() == 8);
    for (auto [prefetch, threads] : kDepthsAndThreads) {
      INFO("epoch " << epoch << ", prefetch " << prefetch << ", threads " << threads);
      CHECK(identical(all_batches(augmented(d, options, prefetch, threads), epoch), expected));
    }
    // The order and the rows are Batches' own.
    Batches::Epoch plain = Batches(d, options).epoch(epoch);
    for (size_t i = 0; i < expected.size(); ++i)
      CHECK(expected[i].labels.identical(plain[int64_t(i)].labels));
  }
  CHECK(!identical(all_batches(serial, 0), all_batches(serial, 1)));
  BatchOptions other_seed = options;
  other_seed.seed = 4;
  CHECK(!identical(all_batches(augmented(d, other_seed, 2, 2), 0), all_batches(serial, 0)));
}

TEST_CASE("pipeline: ranks get Batches' shards, each item augmented as one process would",
          "[pipeline]") {
  // An item's stream depends on (seed, epoch, item) only: 2 ranks at batch 3
  // see the rows of one process at batch 6, augmented the same.
  Dataset d = images(20, 3, 4);
  DataPipeline whole = augmented(d, {.batch_size = 6, .seed = 5}, 2, 2);
  std::vector<Batch> one = all_batches(whole, 1);
  for (int rank : {0, 1}) {
    std::vector<Batch> shard =
        all_batches(augmented(d, {.batch_size = 3, .seed = 5, .rank = rank, .ranks = 2}, 2, 2), 1);
    REQUIRE(shard.size() == one.size());
    for (size_t i = 0; i < shard.size(); ++i) {
      int64_t share = shard[i].labels.size();
      const float *x = one[i].inputs.data<float>().data() + rank * share * 12;
      std::vector<float> expected(x, x + share * 12);
      auto actual = shard[i].inputs.data<float>();
      CHECK(std::vector<float>(actual.begin(), actual.end()) == expected);
    }
  }
}

TEST_CASE("pipeline: prefetching overlaps preparing batches with the steps", "[pipeline]") {
  // 20 batches of one item: preparing each sleeps 5 ms, and so does each
  // "step". In turn that is about 200 ms; overlapped, about 105. Both are
  // measured here, so that a loaded machine slows the two alike.
  Dataset d = images(20, 1, 1);
  auto seconds = [&](int64_t prefetch) {
    DataPipeline p(d, {.batches = {.batch_size = 1, .shuffle = false}, .prefetch = prefetch});
    p.map({"slow", [](const Tensor &item, ops::Random &) {
             std::this_thread::sleep_for(5ms);
             return item;
           }});
    auto start = std::chrono::steady_clock::now();
    int64_t steps = 0;
    DataPipelineEpoch epoch = p.epoch(0);
    while (std::optional<Batch> b = epoch.next()) {
      std::this_thread::sleep_for(5ms);
      ++steps;
    }
    CHECK(steps == 20);
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  double in_turn = seconds(0), overlapped = seconds(2);
  CHECK(in_turn >= 0.200);
  CHECK(overlapped < 0.8 * in_turn);
}

TEST_CASE("augment: random_crop and random_flip match a reference written out plainly",
          "[pipeline]") {
  // A 3x4 image padded by 1 is 5x6; a 3x4 window at (top, left), each drawn
  // in 0..2 from the item's stream, row first, then one draw to flip.
  const std::vector<float> image = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
  auto pixel = [&](int64_t y, int64_t x) { // padded coordinates
    return y < 1 || y > 3 || x < 1 || x > 4 ? 0.0f : image[size_t((y - 1) * 4 + x - 1)];
  };
  Dataset d{Tensor(f32, {16, 1, 3, 4}), Tensor(i32, {16})};
  for (int64_t i = 0; i < 16; ++i)
    for (int64_t k = 0; k < 12; ++k) d.inputs.set(i * 12 + k, image[size_t(k)]);
  std::iota(d.labels.data<int32_t>().begin(), d.labels.data<int32_t>().end(), 0);
  DataPipeline p = augmented(d, {.batch_size = 16, .seed = 11}, 2, 1);
  Batch b = all_batches(p, 2)[0];
  int flips = 0;
  for (int64_t r = 0; r < 16; ++r) {
    int64_t item = b.labels.data<int32_t>()[size_t(r)];
    ops::Random rng = example_random(11, 2, item);
    auto top = int64_t(uniform_below(rng, 3)), left = int64_t(uniform_below(rng, 3));
    bool flip = uniform_below(rng, 2) == 1;
    flips += flip;
    for (int64_t y = 0; y < 3; ++y)
      for (int64_t x = 0; x < 4; ++x) {
        float expected = pixel(top + y, left + (flip ? 3 - x : x));
        INFO("item " << item << " at (" << y << ", " << x << ")");
        CHECK(b.inputs.get(r * 12 + y * 4 + x) == expected);
      }
  }
  CHECK(flips > 0);
  CHECK(flips < 16);

  // Two cases written out, so that a change of the streams shows: seed 0,
  // epoch 0, items 1 and 3 draw (top 2, left 1, flip) and (2, 2, flip).
  Tensor hand_made[] = {Tensor::from<float>({3, 4}, {8, 7, 6, 5, 12, 11, 10, 9, 0, 0, 0, 0}),
                        Tensor::from<float>({3, 4}, {0, 8, 7, 6, 0, 12, 11, 10, 0, 0, 0, 0})};
  for (int64_t item : {1, 3}) {
    ops::Random rng = example_random(0, 0, item);
    Tensor cropped = random_crop(1).apply(Tensor::from<float>({3, 4}, image), rng);
    CHECK(random_flip().apply(cropped, rng).identical(hand_made[item / 2]));
  }
}

TEST_CASE("augment: crops to a smaller window, flat items as squares, normalization",
          "[pipeline]") {
  std::vector<float> image(16);
  std::iota(image.begin(), image.end(), 0.0f);
  // [16] is a 4x4 image: a 2x3 window without padding, at (top, left).
  ops::Random rng = example_random(1, 0, 5), draws = rng;
  Tensor window = random_crop(0, 2, 3).apply(Tensor::from<float>({16}, image), rng);
  auto top = int64_t(uniform_below(draws, 3)), left = int64_t(uniform_below(draws, 2));
  REQUIRE(window.shape() == Shape{6});
  for (int64_t y = 0; y < 2; ++y)
    for (int64_t x = 0; x < 3; ++x)
      CHECK(window.get(y * 3 + x) == image[size_t((top + y) * 4 + left + x)]);

  Tensor two_channels = Tensor::from<float>({2, 1, 2}, {1, 2, 3, 5});
  Tensor n = normalize({1, 3}, {2, 4}).apply(two_channels, rng);
  CHECK(n.data<float>()[0] == 0.0f);
  CHECK(n.data<float>()[1] == 0.5f);
  CHECK(n.data<float>()[2] == 0.0f);
  CHECK(n.data<float>()[3] == 0.5f);
  CHECK(normalize({1}, {2}).apply(two_channels, rng).get(3) == 2.0);
}

TEST_CASE("pipeline: bad options and maps name what was expected", "[pipeline]") {
  Dataset d = images(6, 3, 4);
  CHECK_THROWS_WITH(DataPipeline(d, {.batches = {.batch_size = 0}}),
                    "batch size must be >= 1, got 0");
  CHECK_THROWS_WITH(DataPipeline(d, {.batches = {}, .prefetch = -1}),
                    "pipeline: prefetch must be >= 0 batches, got -1");
  CHECK_THROWS_WITH(DataPipeline(d, {.batches = {}, .prefetch = 2, .threads = 0}),
                    "pipeline: threads must be >= 1, got 0");
  CHECK_THROWS_WITH(random_crop(-1), "random_crop(pad -1): expected pad >= 0");
  CHECK_THROWS_WITH(normalize({0}, {0}), "normalize: expected standard deviations > 0, got 0");
  CHECK_THROWS_WITH(normalize({0, 1}, {1}), Contains("expected as many means as standard"));
  ops::Random rng(0);
  CHECK_THROWS_WITH(random_flip().apply(Tensor(f32, {5}), rng),
                    "random_flip: expected an image [C, H, W], [H, W] or a square [H * W], got "
                    "f32[5]");
  CHECK_THROWS_WITH(random_flip().apply(Tensor(i32, {2, 2}), rng),
                    "random_flip: expected an f32 image, got i32[2, 2]");
  CHECK_THROWS_WITH(normalize({0, 0, 0}, {1, 1, 1}).apply(Tensor(f32, {2, 2, 2}), rng),
                    "normalize: 3 means for an image of 2 channels f32[2, 2, 2]");

  for (int64_t prefetch : {0, 2}) {
    INFO("prefetch " << prefetch);
    DataPipeline too_large(d, {.batches = {.batch_size = 3}, .prefetch = prefetch});
    too_large.map(random_crop(1, 6, 4));
    CHECK_THROWS_WITH(too_large.epoch(0).next(), "random_crop(pad 1): a 6x4 crop is larger than "
                                                 "the padded 5x6 image f32[1, 3, 4]");
    // Odd items come out with 2 values, even ones with 3.
    DataPipeline ragged(d, {.batches = {.batch_size = 3, .shuffle = false}, .prefetch = prefetch});
    ragged.map({"ragged", [](const Tensor &item, ops::Random &) {
                  return Tensor(f32, {int64_t(item.get(0)) / 100 % 2 ? 2 : 3});
                }});
    CHECK_THROWS_WITH(ragged.epoch(0).next(), "pipeline: map 'ragged' gave row 1 a f32[2]; "
                                              "expected a f32[3] like the batch's other examples");
  }
}

TEST_CASE("pipeline: an exception in a map reaches the caller of that batch", "[pipeline]") {
  Dataset d = images(30, 1, 1);
  for (auto [prefetch, threads] : {Setting{0, 1}, Setting{2, 1}, Setting{4, 3}}) {
    INFO("prefetch " << prefetch << ", threads " << threads);
    DataPipeline p(
        d,
        {.batches = {.batch_size = 4, .shuffle = false}, .prefetch = prefetch, .threads = threads});
    p.map({"picky", [](const Tensor &item, ops::Random &) {
             if (item.get(0) == 1701) throw std::runtime_error("item 17 is unreadable");
             return item;
           }});
    DataPipelineEpoch epoch = p.epoch(0);
    for (int i = 0; i < 4; ++i) CHECK(ids(*epoch.next()).front() == 4 * i);
    // Time for the threads to reach batch 4, so that its error crosses from one.
    if (prefetch > 0) std::this_thread::sleep_for(20ms);
    CHECK_THROWS_WITH(epoch.next(), "item 17 is unreadable"); // batch 4: items 16..19
    CHECK(ids(*epoch.next()).front() == 20);                  // and on it goes
  }
  // Abandoned half way with threads waiting for room: it stops, it does not hang.
  DataPipeline p(d, {.batches = {.batch_size = 1}, .prefetch = 3, .threads = 2});
  DataPipelineEpoch epoch = p.epoch(0);
  CHECK(epoch.next().has_value());
}

TEST_CASE("fit gives the same losses with prefetching as without", "[pipeline][train]") {
  // 4x4 images, flat, labelled by which half is brighter; augmented and
  // normalized, over 3 epochs.
  std::mt19937 rng(5);
  Dataset train{test::random_tensor(f32, {48, 16}, rng, 0, 1), Tensor(i32, {48})};
  for (int64_t i = 0; i < 48; ++i) {
    double left = 0;
    for (int64_t k = 0; k < 16; ++k) left += train.inputs.get(i * 16 + k) * (k % 4 < 2 ? 1 : -1);
    train.labels.set(i, left > 0);
  }
  auto losses = [&](int64_t prefetch, bool augment) {
    Graph g;
    Classifier model = test::linear_classifier(g, 16);
    Session s(g);
    FitOptions options{.epochs = 3, .batch_size = 7, .seed = 9, .progress = false, .eval_batch = 5};
    options.prefetch = prefetch;
    if (augment) options.augment = {random_crop(1), random_flip()};
    options.transform = {normalize({0.5f}, {0.25f})};
    test::TempDir dir;
    options.run_log = (dir / "run.jsonl").string();
    std::vector<EpochResult> results = fit(s, model, train, train, options);
    // The run log's epoch objects say how long each epoch waited for data.
    std::ifstream log(options.run_log);
    std::vector<double> out;
    for (std::string line; std::getline(log, line);) {
      auto record = nlohmann::json::parse(line);
      if (record["type"] != "epoch") continue;
      const EpochResult &r = results.at(out.size() / 2);
      CHECK(record["data_wait_s"].get<double>() == r.data_wait_seconds);
      CHECK(r.data_wait_seconds >= 0);
      CHECK(r.data_wait_seconds <= r.train_seconds);
      out.push_back(r.mean_loss);
      out.push_back(r.test_accuracy);
    }
    CHECK(out.size() == 6);
    return out;
  };
  std::vector<double> serial = losses(0, true);
  CHECK(losses(2, true) == serial);
  CHECK(losses(5, true) == serial);
  CHECK(losses(2, false) != serial); // the augmentation did something
}
