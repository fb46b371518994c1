// Data for training loops: a Dataset is two tensors whose first dim indexes
// items, and Batches cuts each epoch of it into mini-batches, shuffled the
// same way every run for a given seed.
#pragma once

#include "data/idx.h"
#include "ir/tensor.h"

#include <cstdint>
#include <filesystem>
#include <span>
#include <string_view>
#include <vector>

namespace kiln {

struct Dataset {
  Tensor inputs; // [N, ...]
  Tensor labels; // [N, ...]
  int64_t size() const { return inputs.rank() == 0 ? 0 : inputs.shape()[0]; }
};

// Fashion-MNIST from Debian's dataset-fashion-mnist: `split` "train" (60000
// items) or "test" (10000). Inputs are f32 pixels in [0, 1] shaped
// [N] + item_shape: [N, 784] for an MLP, item_shape {1, 28, 28} for NCHW
// convolutions. Labels are i32 [N] in 0..9. `limit` > 0 keeps the first
// `limit` items.
Dataset load_fashion_mnist(std::string_view split, int64_t limit = 0,
                           const Shape &item_shape = {784},
                           const std::filesystem::path &dir = kFashionMnistDir);

// Rows `rows` of `t`'s first dim, in that order, one copy each.
Tensor gather_rows(const Tensor &t, std::span<const int64_t> rows);

struct Batch {
  Tensor inputs;
  Tensor labels;
};

struct BatchOptions {
  int64_t batch_size = 32;
  bool shuffle = true;
  uint64_t seed = 0;
  bool drop_last = false; // drop a last batch smaller than batch_size
  // Data-parallel training (Communicator::rank(), size()): each epoch is cut
  // into global batches of batch_size * ranks items, in the one order the
  // seed gives every rank, and this process gets its shard of each: rows
  // [rank * batch_size, (rank + 1) * batch_size) of a full batch. A shorter
  // last batch gives every rank the same share, leaving out the fewer than
  // `ranks` items left over (all of it when it has fewer items than ranks):
  // every rank runs the same steps at the same batch sizes, so they compile
  // the same programs at the same steps, and the mean of their losses (and
  // gradients) is the whole batch's. N ranks at batch_size B see together
  // the batches of one process at batch_size N * B, but for those items.
  int rank = 0;
  int ranks = 1;
};

// for (int64_t e = 0; e < epochs; ++e)
//   for (auto [x, y] : batches.epoch(e)) session.run({{"x", x}, {"y", y}}, ...);
class Batches {
public:
  Batches(Dataset data, BatchOptions options);

  // The batches of one epoch, in order; holds its own handles to the data.
  class Epoch {
  public:
    Epoch(Dataset data, const BatchOptions &options, int64_t batches, std::vector<int64_t> order)
        : data_(std::move(data)), options_(options), batches_(batches), order_(std::move(order)) {}

    int64_t size() const { return batches_; }
    // Batch i: the rows order[i * batch_size, ...] copied out of the dataset
    // (this rank's shard of them when there are several ranks).
    Batch operator[](int64_t i) const;
    // The dataset rows batch i holds (this rank's shard of them).
    std::span<const int64_t> rows(int64_t i) const;

    class iterator {
    public:
      iterator(const Epoch *epoch, int64_t i) : epoch_(epoch), i_(i) {}
      Batch operator*() const { return (*epoch_)[i_]; }
      iterator &operator++() {
        ++i_;
        return *this;
      }
      bool operator==(const iterator &other) const = default;

    private:
      const Epoch *epoch_;
      int64_t i_;
    };
    iterator begin() const { return {this, 0}; }
    iterator end() const { return {this, batches_}; }

  private:
    Dataset data_;
    BatchOptions options_;
    int64_t batches_;
    std::vector<int64_t> order_;
  };

  // Batches per epoch (global batches: the same on every rank), for
  // progress bars.
  int64_t size() const;
  const Dataset &data() const { return data_; }
  // The items of `epoch` (0, 1, ...) in batch order: a permutation that
  // depends only on the seed and the epoch number, or 0..N-1 unshuffled.
  std::vector<int64_t> order(int64_t epoch) const;
  Epoch epoch(int64_t epoch) const;

private:
  Dataset data_;
  BatchOptions options_;
};

} // namespace kiln
