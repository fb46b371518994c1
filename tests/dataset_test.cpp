// Mini-batches: every epoch visits each item once, in an order fixed by the
// seed and the epoch number; batch rows are the dataset's rows; and
// Fashion-MNIST loads from Debian's package when it is installed.
#include "data/dataset.h"

#include "ir/error.h"
#include "temp_dir.h"
#include "test_util.h"

#include <algorithm>
#include <map>
#include <numeric>

using namespace kiln;
using Catch::Matchers::Contains;

namespace {

// Item i: inputs [2, 3] holding 6i..6i+5, label i (an id to trace rows by).
Dataset numbered(int64_t n) {
  std::vector<float> x(size_t(n * 6));
  std::iota(x.begin(), x.end(), 0.0f);
  std::vector<int32_t> y(static_cast<size_t>(n));
  std::iota(y.begin(), y.end(), 0);
  return {Tensor::from<float>({n, 2, 3}, x), Tensor::from<int32_t>({n}, y)};
}

// The item ids of one epoch, batch after batch, checking each batch's rows.
std::vector<int32_t> epoch_ids(const Batches &batches, int64_t epoch) {
  std::vector<int32_t> ids;
  for (auto [x, y] : batches.epoch(epoch)) {
    REQUIRE(x.shape() == Shape{y.shape()[0], 2, 3});
    for (int64_t r = 0; r < y.size(); ++r) {
      int32_t id = y.data<int32_t>()[size_t(r)];
      for (int64_t k = 0; k < 6; ++k)
        REQUIRE(x.data<float>()[size_t(r * 6 + k)] == float(id * 6 + k));
      ids.push_back(id);
    }
  }
  return ids;
}

bool fashion_mnist_installed() {
  return std::filesystem::exists(kFashionMnistDir / "t10k-labels-idx1-ubyte.gz");
}

} // namespace

TEST_CASE("dataset: each epoch visits every item once, in batches", "[dataset]") {
  Batches batches(numbered(103), {.batch_size = 10, .seed = 1});
  CHECK(batches.size() == 11);
  Batches::Epoch epoch = batches.epoch(0);
  REQUIRE(epoch.size() == 11);
  CHECK(epoch[0].inputs.shape() == Shape{10, 2, 3});
  CHECK(epoch[10].inputs.shape() == Shape{3, 2, 3});
  CHECK(epoch[10].labels.shape() == Shape{3});
  CHECK_THROWS_WITH(epoch[11], "batch 11 of an epoch of 11 batches");

  for (int64_t e = 0; e < 3; ++e) {
    std::vector<int32_t> ids = epoch_ids(batches, e);
    std::vector<int32_t> sorted = ids;
    std::sort(sorted.begin(), sorted.end());
    std::vector<int32_t> all(103);
    std::iota(all.begin(), all.end(), 0);
    CHECK(sorted == all);
    CHECK(ids != all); // shuffled
  }
}

TEST_CASE("dataset: label counts survive batching", "[dataset]") {
  Dataset d = numbered(50);
  for (int32_t &y : d.labels.data<int32_t>()) y %= 4;
  Batches batches(d, {.batch_size = 8, .seed = 2});
  std::map<int32_t, int> counts;
  for (auto [x, y] : batches.epoch(5))
    for (int32_t label : y.data<int32_t>()) ++counts[label];
  CHECK(counts == std::map<int32_t, int>{{0, 13}, {1, 13}, {2, 12}, {3, 12}});
}

TEST_CASE("dataset: the order depends only on the seed and the epoch", "[dataset]") {
  Dataset d = numbered(64);
  Batches a(d, {.batch_size = 16, .seed = 7}), same(d, {.batch_size = 16, .seed = 7});
  Batches other(d, {.batch_size = 16, .seed = 8});
  CHECK(a.order(0) == same.order(0));
  CHECK(a.order(3) == same.order(3));
  CHECK(a.order(0) != a.order(1));
  CHECK(a.order(0) != other.order(0));
  CHECK(epoch_ids(a, 2) == epoch_ids(same, 2));
  // An epoch's order does not depend on the epochs iterated before it.
  CHECK(epoch_ids(a, 9) == epoch_ids(Batches(d, {.batch_size = 16, .seed = 7}), 9));

  Batches plain(d, {.batch_size = 16, .shuffle = false});
  std::vector<int32_t> in_order(64);
  std::iota(in_order.begin(), in_order.end(), 0);
  CHECK(epoch_ids(plain, 0) == in_order);
  CHECK(epoch_ids(plain, 1) == in_order);
}

TEST_CASE("dataset: drop_last drops only a partial last batch", "[dataset]") {
  Dataset d = numbered(25);
  Batches keep(d, {.batch_size = 10}), drop(d, {.batch_size = 10, .drop_last = true});
  CHECK(keep.size() == 3);
  CHECK(epoch_ids(keep, 0).size() == 25);
  CHECK(drop.size() == 2);
  std::vector<int32_t> dropped = epoch_ids(drop, 0);
  CHECK(dropped.size() == 20);
  // The dropped items change from epoch to epoch.
  CHECK(epoch_ids(drop, 1) != dropped);

  Batches exact(numbered(20), {.batch_size = 10, .drop_last = true});
  CHECK(exact.size() == 2);
  Batches none(numbered(0), {.batch_size = 10});
  CHECK(none.size() == 0);
  CHECK(epoch_ids(none, 0).empty());
}

TEST_CASE("dataset: a partial last batch holds exactly the items the full ones leave",
          "[dataset]") {
  // PyTorch's DataLoader default (drop_last=False): 25 items in batches of
  // 10 are 10 + 10 + 5, each item once, and the last batch is the order's tail.
  Dataset d = numbered(25);
  Batches keep(d, {.batch_size = 10, .seed = 3});
  std::vector<int64_t> order = keep.order(4);
  Batches::Epoch epoch = keep.epoch(4);
  REQUIRE(epoch.size() == 3);
  CHECK(epoch[0].labels.size() == 10);
  CHECK(epoch[1].labels.size() == 10);
  Batch last = epoch[2];
  REQUIRE(last.labels.size() == 5);
  for (int64_t i = 0; i < 5; ++i) CHECK(last.labels.data<int32_t>()[size_t(i)] == order[20 + i]);
  std::vector<int32_t> ids = epoch_ids(keep, 4), all(25);
  std::sort(ids.begin(), ids.end());
  std::iota(all.begin(), all.end(), 0);
  CHECK(ids == all);

  // drop_last: the same order's first 20 items, each once; its tail is skipped.
  Batches drop(d, {.batch_size = 10, .seed = 3, .drop_last = true});
  std::vector<int32_t> dropped = epoch_ids(drop, 4);
  REQUIRE(dropped.size() == 20);
  for (size_t i = 0; i < 20; ++i) CHECK(dropped[i] == order[i]);
}

TEST_CASE("dataset: the ranks' shards partition every global batch", "[dataset]") {
  // Ranks simulated in one process: N ranks at batch B, each with the same
  // seed, against one process at batch N*B. 103 items leave a last global
  // batch of 3 (N = 2: shards of 1, the third item left out) or 13 (N = 3:
  // shards of 4, one left out): every shard of a batch has the same size.
  Dataset d = numbered(103);
  for (int ranks : {1, 2, 3}) {
    for (bool drop_last : {false, true}) {
      INFO(ranks << " ranks, drop_last " << drop_last);
      int64_t b = 5;
      Batches global(d, {.batch_size = b * ranks, .seed = 7, .drop_last = drop_last});
      std::vector<Batches> shards;
      for (int r = 0; r < ranks; ++r)
        shards.emplace_back(
            d, BatchOptions{
                   .batch_size = b, .seed = 7, .drop_last = drop_last, .rank = r, .ranks = ranks});
      for (int64_t e = 0; e < 2; ++e) {
        Batches::Epoch whole = global.epoch(e);
        for (const Batches &shard : shards) REQUIRE(shard.size() == whole.size());
        for (int64_t i = 0; i < whole.size(); ++i) {
          std::vector<int32_t> joined;
          std::vector<int64_t> sizes;
          for (const Batches &shard : shards) {
            Batch part = shard.epoch(e)[i];
            sizes.push_back(part.labels.size());
            std::span<const int32_t> ids = part.labels.data<int32_t>();
            joined.insert(joined.end(), ids.begin(), ids.end());
          }
          Batch batch = whole[i];
          std::span<const int32_t> expected = batch.labels.data<int32_t>();
          int64_t share = int64_t(expected.size()) / ranks;
          CHECK(joined == std::vector<int32_t>(expected.begin(), expected.begin() + share * ranks));
          auto [smallest, largest] = std::ranges::minmax(sizes);
          CHECK(smallest == largest);
          if (int64_t(expected.size()) == b * ranks) CHECK(smallest == b);
        }
      }
      // Each shard's rows are the dataset's rows of its ids.
      for (const Batches &shard : shards) epoch_ids(shard, 1);
    }
  }
}

TEST_CASE("dataset: a last global batch too small for every rank is dropped on all", "[dataset]") {
  // 31 items, 3 ranks at batch 5: global batches of 15, 15 and 1; the 1
  // cannot be shared, so every rank runs two steps.
  Dataset d = numbered(31);
  for (int r = 0; r < 3; ++r) {
    Batches shard(d, {.batch_size = 5, .seed = 2, .rank = r, .ranks = 3});
    CHECK(shard.size() == 2);
    CHECK(epoch_ids(shard, 0).size() == 10);
  }
  // 33 items leave 3, one for each rank; 35 leave 5, still one each.
  for (int64_t items : {33, 35}) {
    Batches shard(numbered(items), {.batch_size = 5, .seed = 2, .rank = 2, .ranks = 3});
    CHECK(shard.size() == 3);
    CHECK(shard.epoch(0)[2].labels.size() == 1);
  }
}

TEST_CASE("dataset: bad batch options and datasets are reported", "[dataset]") {
  CHECK_THROWS_WITH(Batches(numbered(4), {.batch_size = 0}), "batch size must be >= 1, got 0");
  CHECK_THROWS_WITH(Batches(numbered(4), {.rank = 2, .ranks = 2}),
                    "batches: rank 2 of 2 ranks: expected 0 <= rank < ranks");
  CHECK_THROWS_WITH(Batches(numbered(4), {.ranks = 0}),
                    "batches: rank 0 of 0 ranks: expected 0 <= rank < ranks");
  Dataset d = numbered(4);
  d.labels = Tensor(i32, {3});
  CHECK_THROWS_WITH(Batches(d, {}), "dataset: inputs f32[4, 2, 3] and labels i32[3] must have "
                                    "the same first dim (the items)");
}

TEST_CASE("dataset: Fashion-MNIST test split", "[dataset]") {
  if (!fashion_mnist_installed()) {
    WARN("dataset-fashion-mnist is not installed: skipping");
    return;
  }
  Dataset test = load_fashion_mnist("test");
  REQUIRE(test.size() == 10000);
  CHECK(test.inputs.shape() == Shape{10000, 784});
  CHECK(test.labels.summary() == "i32[10000]");
  auto [lo, hi] = std::ranges::minmax(test.inputs.data<float>());
  CHECK(lo == 0.0f);
  CHECK(hi == 1.0f);
  std::map<int32_t, int> counts;
  for (int32_t y : test.labels.data<int32_t>()) ++counts[y];
  CHECK(counts.size() == 10);
  CHECK(counts.begin()->first == 0);
  CHECK(counts.rbegin()->first == 9);
  for (auto [label, count] : counts) CHECK(count == 1000);

  Dataset images = load_fashion_mnist("test", 5, {1, 28, 28});
  CHECK(images.inputs.shape() == Shape{5, 1, 28, 28});
  CHECK(images.labels.size() == 5);
  CHECK(std::equal(images.inputs.data<float>().begin(), images.inputs.data<float>().end(),
                   test.inputs.data<float>().begin()));
}

TEST_CASE("dataset: Fashion-MNIST errors name the file and the package", "[dataset]") {
  test::TempDir empty;
  CHECK_THROWS_WITH(load_fashion_mnist("train", 0, {784}, empty.path()),
                    "fashion-mnist: '" + (empty / "train-images-idx3-ubyte.gz").string() +
                        "' not found (install the Debian package dataset-fashion-mnist)");
  CHECK_THROWS_WITH(load_fashion_mnist("validation"),
                    "fashion-mnist: unknown split 'validation' (expected \"train\" or \"test\")");
  CHECK_THROWS_WITH(load_fashion_mnist("test", 0, {28, 27}),
                    "fashion-mnist: item shape [28, 27] does not hold a 28x28 image");
}
