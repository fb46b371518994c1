#include "ir/tensor.h"

#include "ir/error.h"

#include <cmath>
#include <cstdlib>
#include <type_traits>

namespace kiln {

namespace {
constexpr size_t kAlignment = 64;

std::shared_ptr<std::byte[]> allocate(size_t bytes) {
  size_t rounded = (bytes + kAlignment - 1) / kAlignment * kAlignment;
  void *p = std::aligned_alloc(kAlignment, rounded ? rounded : kAlignment);
  if (!p) throw std::bad_alloc();
  std::memset(p, 0, rounded);
  return {static_cast<std::byte *>(p), [](std::byte *q) { std::free(q); }};
}
} // namespace

Tensor::Tensor(DType dtype, Shape shape) : dtype_(dtype), shape_(std::move(shape)) {
  check_dims(shape_, /*allow_batch=*/false);
  data_ = allocate(bytes());
}

double Tensor::get(int64_t i) const {
  return visit_dtype(dtype_, [&](auto zero) {
    return static_cast<double>(static_cast<const decltype(zero) *>(raw())[i]);
  });
}

void Tensor::set(int64_t i, double value) {
  visit_dtype(dtype_, [&](auto zero) {
    using T = decltype(zero);
    T *p = static_cast<T *>(raw()) + i;
    if constexpr (std::is_floating_point_v<T>) {
      *p = static_cast<T>(value);
    } else if (dtype_ == DType::boolean) {
      *p = value != 0;
    } else {
      // Integers wrap modulo 2^64 (two's complement, the compiled code's
      // semantics) instead of the undefined behaviour of an out-of-range
      // cast; NaN and infinities give 0.
      double m = std::isfinite(value) ? std::fmod(value, 0x1p64) : 0; // |m| < 2^64
      auto bits = static_cast<uint64_t>(std::fabs(m));
      *p = static_cast<T>(static_cast<int64_t>(m < 0 ? 0 - bits : bits));
    }
  });
}

Tensor Tensor::clone() const {
  Tensor t(dtype_, shape_);
  std::memcpy(t.raw(), raw(), bytes());
  return t;
}

Tensor Tensor::reshaped(Shape shape) const {
  if (num_elements(shape) != size()) fail("cannot reshape {} to {}", summary(), to_string(shape));
  Tensor t = *this;
  t.shape_ = std::move(shape);
  return t;
}

Tensor Tensor::cast(DType to) const {
  Tensor t(to, shape_);
  for (int64_t i = 0; i < size(); ++i) t.set(i, get(i));
  return t;
}

bool Tensor::identical(const Tensor &other) const {
  return dtype_ == other.dtype_ && shape_ == other.shape_ &&
         std::memcmp(raw(), other.raw(), bytes()) == 0;
}

std::string Tensor::summary() const { return std::string(to_string(dtype_)) + to_string(shape_); }

void Tensor::check_type(DType requested) const {
  if (requested != dtype_) fail("tensor {} accessed as {}", summary(), to_string(requested));
}

void Tensor::check_size(size_t count) const {
  if (static_cast<int64_t>(count) != size())
    fail("tensor {} needs {} values, got {}", summary(), size(), count);
}

} // namespace kiln
