// Shapes: a list of dims, where `kiln::batch` (-1) marks the symbolic batch
// dimension that is bound to a concrete size when a session runs.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace kiln {

inline constexpr int64_t batch = -1;

using Shape = std::vector<int64_t>;

inline bool is_batch(int64_t d) { return d == batch; }
bool has_batch(const Shape &s);
bool is_concrete(const Shape &s);

// Number of elements of a concrete shape (1 for a scalar).
int64_t num_elements(const Shape &s);

// A tensor holds at most 2^48 elements: shape arithmetic never overflows.
inline constexpr int64_t kMaxElements = int64_t{1} << 48;

// Fails unless every dim is >= 0 (or the batch dim, if allowed) and the
// known nonzero dims multiply to at most kMaxElements: a zero dim empties the
// tensor but must not hide an overflowing product of the others.
void check_dims(const Shape &s, bool allow_batch);

// Replaces the batch dim by `size`.
Shape bind_batch(const Shape &s, int64_t size);

// "[?, 784]" style; "[]" for a scalar.
std::string to_string(const Shape &s);

// Row-major strides, in elements, of a concrete shape.
std::vector<int64_t> contiguous_strides(const Shape &s);

// Normalizes a possibly negative axis against `rank`; fails with `what` naming
// the caller when out of range.
int64_t normalize_axis(int64_t axis, int64_t rank, const std::string &what);

} // namespace kiln
