#include "data/pipeline.h"

#include "data/random_stream.h"
#include "ir/error.h"

#include <cstring>

namespace kiln {

namespace {

Shape item_shape(const Tensor &batch) { return {batch.shape().begin() + 1, batch.shape().end()}; }

// Row r of a dataset's tensor, as a tensor of its own.
Tensor row(const Tensor &batch, int64_t r) {
  Tensor item(batch.dtype(), item_shape(batch));
  std::memcpy(item.raw(), static_cast<const std::byte *>(batch.raw()) + size_t(r) * item.bytes(),
              item.bytes());
  return item;
}

// What the maps make of an example; `expected` holds, per map, the dtype and
// shape it gave the batch's first example (filled in by that one).
Tensor apply_maps(const std::vector<Map> &maps, Tensor item, ops::Random &rng, int64_t row,
                  std::vector<Tensor> &expected) {
  for (size_t m = 0; m < maps.size(); ++m) {
    item = maps[m].apply(item, rng);
    if (item.empty_handle())
      fail("pipeline: map '{}' gave no tensor for row {}", maps[m].name, row);
    if (expected.size() == m) {
      expected.push_back(Tensor(item.dtype(), item.shape()));
      continue;
    }
    if (item.dtype() != expected[m].dtype() || item.shape() != expected[m].shape())
      fail("pipeline: map '{}' gave row {} a {}; expected a {} like the batch's other examples",
           maps[m].name, row, item.summary(), expected[m].summary());
  }
  return item;
}

} // namespace

DataPipeline::DataPipeline(Dataset data, DataPipelineOptions options)
    : batches_(std::move(data), options.batches), options_(options) {
  if (options.prefetch < 0)
    fail("pipeline: prefetch must be >= 0 batches, got {}", options.prefetch);
  if (options.threads < 1) fail("pipeline: threads must be >= 1, got {}", options.threads);
}

DataPipeline &DataPipeline::map(Map m) {
  if (!m.apply) fail("pipeline: map '{}' has no function", m.name);
  maps_.push_back(std::move(m));
  return *this;
}

DataPipelineEpoch DataPipeline::epoch(int64_t epoch) const {
  return DataPipelineEpoch(*this, epoch);
}

Batch DataPipeline::batch(const Batches::Epoch &epoch, int64_t epoch_number, int64_t i) const {
  if (maps_.empty()) return epoch[i];
  std::span<const int64_t> rows = epoch.rows(i);
  const Dataset &data = batches_.data();
  std::vector<Tensor> expected;
  Tensor inputs;
  for (size_t r = 0; r < rows.size(); ++r) {
    ops::Random rng = example_random(options_.batches.seed, epoch_number, rows[r]);
    Tensor item = apply_maps(maps_, row(data.inputs, rows[r]), rng, rows[r], expected);
    if (r == 0) {
      Shape shape = item.shape();
      shape.insert(shape.begin(), int64_t(rows.size()));
      inputs = Tensor(item.dtype(), shape);
    }
    std::memcpy(static_cast<std::byte *>(inputs.raw()) + r * item.bytes(), item.raw(),
                item.bytes());
  }
  return {inputs, gather_rows(data.labels, rows)};
}

DataPipelineEpoch::DataPipelineEpoch(const DataPipeline &pipeline, int64_t epoch)
    : pipeline_(pipeline), epoch_number_(epoch), epoch_(pipeline.batches().epoch(epoch)) {
  if (pipeline.options().prefetch == 0) return;
  try {
    for (int t = 0; t < pipeline.options().threads; ++t)
      threads_.emplace_back([this] { prepare_batches(); });
  } catch (...) { // a thread that would not start: join those that did
    stop_threads();
    throw;
  }
}

DataPipelineEpoch::~DataPipelineEpoch() { stop_threads(); }

void DataPipelineEpoch::stop_threads() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  changed_.notify_all();
  for (std::thread &t : threads_) t.join();
  threads_.clear();
}

DataPipelineEpoch::Prepared DataPipelineEpoch::prepare(int64_t i) const {
  try {
    return pipeline_.batch(epoch_, epoch_number_, i);
  } catch (...) {
    return std::current_exception();
  }
}

void DataPipelineEpoch::prepare_batches() {
  std::unique_lock lock(mutex_);
  for (;;) {
    // At most `prefetch` batches ahead of the one the caller waits for.
    changed_.wait(lock, [this] {
      return stopping_ || started_ == size() || started_ < next_ + pipeline_.options().prefetch;
    });
    if (stopping_ || started_ == size()) return;
    int64_t i = started_++;
    lock.unlock();
    Prepared prepared = prepare(i);
    lock.lock();
    ready_.emplace(i, std::move(prepared));
    changed_.notify_all();
  }
}

std::optional<Batch> DataPipelineEpoch::next() {
  if (next_ == size()) return std::nullopt;
  int64_t i = next_;
  Prepared prepared;
  std::unique_lock lock(mutex_);
  if (started_ == i) {
    // No thread has taken it on (none prefetches, or none has woken up yet):
    // the caller would wait for it anyway, so it prepares it.
    ++started_;
    lock.unlock();
    prepared = prepare(i);
    lock.lock();
  } else {
    changed_.wait(lock, [&] { return ready_.contains(i); });
    prepared = std::move(ready_.at(i));
    ready_.erase(i);
  }
  ++next_;
  lock.unlock();
  changed_.notify_all(); // room for one more batch ahead
  if (auto *error = std::get_if<std::exception_ptr>(&prepared)) std::rethrow_exception(*error);
  return std::get<Batch>(std::move(prepared));
}

} // namespace kiln
