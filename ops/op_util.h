// Shared pieces of op definitions: shape rules and reference-kernel loops.
#pragma once

#include "ir/graph.h"

#include <functional>
#include <span>

namespace kiln::ops {

// The start of an op's definition: its name, its number of inputs (at
// least and at most), its attributes.
OpDef fixed_arity_op(std::string name, int inputs, std::vector<AttrSpec> attrs = {});

// NumPy broadcasting; the symbolic batch dim broadcasts with itself and 1.
Shape broadcast_shapes(const Shape &a, const Shape &b);

// Strides (elements) for reading `in` as if broadcast to `out`: 0 where `in`
// has size 1 (or is missing) and `out` does not.
std::vector<int64_t> broadcast_strides(const Shape &in, const Shape &out);

// Calls f(out_index, offsets) for every element of `shape`, where offsets[k]
// is the element offset into operand k with strides[k].
void for_each_element(const Shape &shape, std::span<const std::vector<int64_t>> strides,
                      const std::function<void(int64_t, std::span<const int64_t>)> &f);

// out[i] = f(inputs broadcast to out's shape, as doubles).
void reference_elementwise(std::span<const Tensor> inputs, Tensor &out,
                           const std::function<double(std::span<const double>)> &f);

// Fails unless every input has dtype `t`'s family: "float" (f32/f64), "numeric"
// (no bool), "bool" or "any"; and all inputs share one dtype.
enum class DTypes { floats, numeric, boolean, any };
DType check_same_dtype(std::span<const TensorType> inputs, DTypes allowed);

std::string_view describe(DTypes d);

// "[1, -1, 3]": attribute lists in messages (to_string(Shape) would print -1 as "?").
std::string int_list(const std::vector<int64_t> &values);

// A shape seen as [outer, axis, inner] around one axis (negative counts from the end).
struct AxisSplit {
  int64_t outer = 1, axis = 1, inner = 1;
};
AxisSplit split_at_axis(const Shape &shape, int64_t axis, const std::string &who);

} // namespace kiln::ops
