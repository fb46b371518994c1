// An input pipeline in the manner of tf.data and PyTorch's DataLoader: the
// batches of a Dataset (Batches: the seeded order, drop_last, the ranks'
// shards), each example passed through a list of maps (augmentation,
// normalization), prepared up to `prefetch` batches ahead on background
// threads while the caller trains on the current one.
//
//   DataPipeline p(train, {.batches = {.batch_size = 64, .seed = 1}, .prefetch = 2});
//   p.map(random_flip());
//   for (int64_t e = 0; e < epochs; ++e) {
//     DataPipelineEpoch batches = p.epoch(e);
//     while (std::optional<Batch> b = batches.next()) session.run(...);
//   }
//
// A seed gives the same batches, bit for bit, at any prefetch depth and
// thread count: each example's maps draw from example_random(seed, epoch,
// row), and batches come out in order.
#pragma once

#include "data/dataset.h"
#include "ops/random.h"

#include <condition_variable>
#include <exception>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <variant>
#include <vector>

namespace kiln {

// A per-example transform of a dataset item's input (its shape without the
// batch dim); labels pass through. It may be called from several threads at
// once, each with its own example's stream: it must not draw from anything
// else or change shared state. Every example of a batch must come out with
// one shape.
struct Map {
  std::string name; // for error messages: "random_crop(pad 2)"
  std::function<Tensor(const Tensor &item, ops::Random &rng)> apply;
};

struct DataPipelineOptions {
  BatchOptions batches; // its seed also seeds the maps
  int64_t prefetch = 2; // batches prepared ahead of the caller; 0: each on the caller's thread
  int threads = 1;      // threads preparing batches when prefetching
};

class DataPipelineEpoch;

class DataPipeline {
public:
  DataPipeline(Dataset data, DataPipelineOptions options);

  // Appends a map; maps run in the order added.
  DataPipeline &map(Map m);

  int64_t size() const { return batches_.size(); } // batches per epoch
  const DataPipelineOptions &options() const { return options_; }
  const Batches &batches() const { return batches_; }
  // The pipeline must outlive the epochs it gives.
  DataPipelineEpoch epoch(int64_t epoch) const;

  // Batch i of an epoch, prepared on the calling thread: what every
  // DataPipelineEpoch gives, with or without prefetching.
  Batch batch(const Batches::Epoch &epoch, int64_t epoch_number, int64_t i) const;

private:
  Batches batches_;
  DataPipelineOptions options_;
  std::vector<Map> maps_;
};

// One epoch's batches, in order. With prefetching, its threads start at
// once and stop (finishing the batch in hand) when it is destroyed; a batch
// no thread has started yet when it is asked for is prepared by the caller.
// An exception thrown while preparing a batch is rethrown by the next() that
// asks for that batch.
class DataPipelineEpoch {
public:
  DataPipelineEpoch(const DataPipeline &pipeline, int64_t epoch);
  ~DataPipelineEpoch();
  DataPipelineEpoch(const DataPipelineEpoch &) = delete;
  DataPipelineEpoch &operator=(const DataPipelineEpoch &) = delete;

  int64_t size() const { return epoch_.size(); }
  // The next batch, or nothing after the last.
  std::optional<Batch> next();

private:
  using Prepared = std::variant<Batch, std::exception_ptr>;
  Prepared prepare(int64_t i) const; // batch i, or what it threw
  void prepare_batches();            // a thread's loop
  void stop_threads();

  const DataPipeline &pipeline_;
  int64_t epoch_number_;
  Batches::Epoch epoch_;
  int64_t next_ = 0; // the batch next() gives

  // Shared with the threads.
  std::mutex mutex_;
  std::condition_variable changed_;
  int64_t started_ = 0; // batches a thread has taken on
  bool stopping_ = false;
  std::map<int64_t, Prepared> ready_;
  std::vector<std::thread> threads_;
};

} // namespace kiln
