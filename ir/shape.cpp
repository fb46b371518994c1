#include "ir/shape.h"

#include "ir/error.h"

#include <algorithm>

namespace kiln {

bool has_batch(const Shape &s) { return std::any_of(s.begin(), s.end(), is_batch); }

bool is_concrete(const Shape &s) {
  return std::all_of(s.begin(), s.end(), [](int64_t d) { return d >= 0; });
}

int64_t num_elements(const Shape &s) {
  int64_t n = 1;
  for (int64_t d : s)
    if (__builtin_mul_overflow(n, d, &n)) fail("shape {} has too many elements", to_string(s));
  return n;
}

void check_dims(const Shape &s, bool allow_batch) {
  // Zeros count as ones: [0, 2^40, 2^40] holds no element, yet products of
  // its dims (a matrix's size, a stride) would overflow.
  int64_t known = 1;
  for (int64_t d : s) {
    if (d < 0 && !(allow_batch && is_batch(d)))
      fail("dim {} of shape {} must be >= 0{}", d, to_string(s),
           allow_batch ? " (or kiln::batch, -1)" : "");
    if (d > 0 && (__builtin_mul_overflow(known, d, &known) || known > kMaxElements))
      fail("shape {} has too many elements", to_string(s));
  }
}

Shape bind_batch(const Shape &s, int64_t size) {
  Shape out = s;
  std::replace(out.begin(), out.end(), batch, size);
  return out;
}

std::string to_string(const Shape &s) {
  std::string out = "[";
  for (size_t i = 0; i < s.size(); ++i) {
    if (i) out += ", ";
    out += is_batch(s[i]) ? "?" : std::to_string(s[i]);
  }
  return out + "]";
}

std::vector<int64_t> contiguous_strides(const Shape &s) {
  std::vector<int64_t> strides(s.size());
  int64_t stride = 1;
  for (size_t i = s.size(); i-- > 0;) {
    strides[i] = stride;
    stride *= s[i];
  }
  return strides;
}

int64_t normalize_axis(int64_t axis, int64_t rank, const std::string &what) {
  if (axis < -rank || axis >= rank)
    fail("{}: axis {} is out of range for rank {}", what, axis, rank);
  return axis < 0 ? axis + rank : axis;
}

} // namespace kiln
