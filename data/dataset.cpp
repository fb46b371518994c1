#include "data/dataset.h"

#include "data/random_stream.h"
#include "ir/error.h"

#include <algorithm>
#include <numeric>

namespace kiln {

Tensor gather_rows(const Tensor &t, std::span<const int64_t> rows) {
  Shape shape = t.shape();
  shape[0] = int64_t(rows.size());
  Tensor out(t.dtype(), shape);
  size_t row_bytes = byte_size(t.dtype()) * size_t(num_elements({shape.begin() + 1, shape.end()}));
  auto *dst = static_cast<std::byte *>(out.raw());
  const auto *src = static_cast<const std::byte *>(t.raw());
  for (size_t i = 0; i < rows.size(); ++i)
    std::memcpy(dst + i * row_bytes, src + size_t(rows[i]) * row_bytes, row_bytes);
  return out;
}

namespace {

std::filesystem::path fashion_mnist_file(const std::filesystem::path &dir, std::string_view split,
                                         std::string_view kind) {
  std::filesystem::path path =
      dir / fmt::format("{}-{}-idx{}-ubyte.gz", split == "train" ? "train" : "t10k", kind,
                        kind == "images" ? 3 : 1);
  if (!std::filesystem::exists(path))
    fail("fashion-mnist: '{}' not found (install the Debian package dataset-fashion-mnist)",
         path.string());
  return path;
}

} // namespace

Dataset load_fashion_mnist(std::string_view split, int64_t limit, const Shape &item_shape,
                           const std::filesystem::path &dir) {
  if (split != "train" && split != "test")
    fail("fashion-mnist: unknown split '{}' (expected \"train\" or \"test\")", split);
  if (limit < 0) fail("fashion-mnist: limit must be >= 0, got {}", limit);
  check_dims(item_shape, /*allow_batch=*/false);
  if (num_elements(item_shape) != 28 * 28)
    fail("fashion-mnist: item shape {} does not hold a 28x28 image", to_string(item_shape));
  Tensor images = read_idx(fashion_mnist_file(dir, split, "images"), 1.0 / 255, limit);
  Tensor labels = read_idx(fashion_mnist_file(dir, split, "labels"), 1.0, limit);
  if (images.rank() != 3 || labels.rank() != 1 || images.shape()[0] != labels.shape()[0])
    fail("fashion-mnist: images {} and labels {} in '{}' do not match", images.summary(),
         labels.summary(), dir.string());
  Shape shape = {images.shape()[0]};
  shape.insert(shape.end(), item_shape.begin(), item_shape.end());
  return {images.reshaped(shape), labels};
}

Batch Batches::Epoch::operator[](int64_t i) const {
  std::span<const int64_t> shard = rows(i);
  return {gather_rows(data_.inputs, shard), gather_rows(data_.labels, shard)};
}

std::span<const int64_t> Batches::Epoch::rows(int64_t i) const {
  if (i < 0 || i >= batches_) fail("batch {} of an epoch of {} batches", i, batches_);
  int64_t global = options_.batch_size * options_.ranks;
  int64_t begin = i * global;
  int64_t items = std::min(global, int64_t(order_.size()) - begin);
  // Rank r's shard: [share * r, share * (r + 1)), the same size on every
  // rank (dataset.h).
  int64_t share = items / options_.ranks;
  return {order_.data() + begin + share * options_.rank, size_t(share)};
}

Batches::Batches(Dataset data, BatchOptions options) : data_(std::move(data)), options_(options) {
  if (options.batch_size < 1) fail("batch size must be >= 1, got {}", options.batch_size);
  if (options.ranks < 1 || options.rank < 0 || options.rank >= options.ranks)
    fail("batches: rank {} of {} ranks: expected 0 <= rank < ranks", options.rank, options.ranks);
  const Tensor &x = data_.inputs, &y = data_.labels;
  if (x.rank() == 0 || y.rank() == 0 || x.shape()[0] != y.shape()[0])
    fail("dataset: inputs {} and labels {} must have the same first dim (the items)", x.summary(),
         y.summary());
}

int64_t Batches::size() const {
  int64_t n = data_.size(), global = options_.batch_size * options_.ranks;
  // A last batch too small to give each rank an item is dropped (dataset.h).
  bool keep_last = !options_.drop_last && n % global >= options_.ranks;
  return n / global + (keep_last ? 1 : 0);
}

std::vector<int64_t> Batches::order(int64_t epoch) const {
  std::vector<int64_t> order(size_t(data_.size()));
  std::iota(order.begin(), order.end(), 0);
  if (!options_.shuffle) return order;
  // Fisher-Yates with kiln's own generator: the same order on every platform.
  ops::Random rng(ops::Random(options_.seed).next() + uint64_t(epoch));
  for (size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[uniform_below(rng, i)]);
  return order;
}

Batches::Epoch Batches::epoch(int64_t epoch) const {
  return Epoch(data_, options_, size(), order(epoch));
}

} // namespace kiln
