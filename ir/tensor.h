// A dense, row-major, 64-byte-aligned tensor with a concrete shape. Copies
// share the buffer (like TensorFlow's Tensor); `clone` makes a deep copy.
#pragma once

#include "ir/dtype.h"
#include "ir/shape.h"

#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace kiln {

class Tensor {
public:
  Tensor() = default;
  // Zero-filled tensor.
  Tensor(DType dtype, Shape shape);

  template <typename T> static Tensor from(Shape shape, std::span<const T> values) {
    Tensor t(dtype_of<T>(), std::move(shape));
    t.check_size(values.size());
    if (!values.empty()) std::memcpy(t.raw(), values.data(), values.size_bytes());
    return t;
  }
  template <typename T> static Tensor from(Shape shape, std::initializer_list<T> values) {
    return from<T>(std::move(shape), std::span<const T>(values.begin(), values.size()));
  }
  template <typename T> static Tensor from(Shape shape, const std::vector<T> &values) {
    return from<T>(std::move(shape), std::span<const T>(values));
  }
  template <typename T> static Tensor scalar(T value) { return from<T>({}, {value}); }

  DType dtype() const { return dtype_; }
  const Shape &shape() const { return shape_; }
  int64_t rank() const { return static_cast<int64_t>(shape_.size()); }
  int64_t size() const { return num_elements(shape_); }
  size_t bytes() const { return static_cast<size_t>(size()) * byte_size(dtype_); }
  bool empty_handle() const { return !data_; }

  void *raw() { return data_.get(); }
  const void *raw() const { return data_.get(); }

  template <typename T> std::span<T> data() {
    check_type(dtype_of<std::remove_const_t<T>>());
    return {static_cast<T *>(raw()), static_cast<size_t>(size())};
  }
  template <typename T> std::span<const T> data() const {
    check_type(dtype_of<T>());
    return {static_cast<const T *>(raw()), static_cast<size_t>(size())};
  }

  // Element i (row-major), converted to double: what the reference kernels use.
  double get(int64_t i) const;
  void set(int64_t i, double value);

  Tensor clone() const;
  // Same data, new shape with the same element count.
  Tensor reshaped(Shape shape) const;
  // Element-wise conversion.
  Tensor cast(DType to) const;
  // Bitwise equality of dtype, shape and bytes.
  bool identical(const Tensor &other) const;

  std::string summary() const; // "f32[2, 3]"

private:
  void check_type(DType requested) const;
  void check_size(size_t count) const;

  DType dtype_ = DType::f32;
  Shape shape_;
  std::shared_ptr<std::byte[]> data_;
};

} // namespace kiln
