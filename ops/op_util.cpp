#include "ops/op_util.h"

#include "ir/error.h"

#include <fmt/ranges.h>

#include <algorithm>

namespace kiln::ops {

OpDef fixed_arity_op(std::string name, int inputs, std::vector<AttrSpec> attrs) {
  OpDef def;
  def.name = std::move(name);
  def.min_inputs = def.max_inputs = inputs;
  def.attrs = std::move(attrs);
  return def;
}

Shape broadcast_shapes(const Shape &a, const Shape &b) {
  size_t rank = std::max(a.size(), b.size());
  Shape out(rank);
  for (size_t i = 0; i < rank; ++i) {
    int64_t x = i < rank - a.size() ? 1 : a[i - (rank - a.size())];
    int64_t y = i < rank - b.size() ? 1 : b[i - (rank - b.size())];
    if (x == y || y == 1)
      out[i] = x;
    else if (x == 1)
      out[i] = y;
    else
      fail("cannot broadcast shapes {} and {}", to_string(a), to_string(b));
  }
  return out;
}

std::vector<int64_t> broadcast_strides(const Shape &in, const Shape &out) {
  std::vector<int64_t> in_strides = contiguous_strides(in);
  std::vector<int64_t> strides(out.size(), 0);
  size_t lead = out.size() - in.size();
  for (size_t i = 0; i < in.size(); ++i)
    strides[lead + i] = in[i] == 1 && out[lead + i] != 1 ? 0 : in_strides[i];
  return strides;
}

void for_each_element(const Shape &shape, std::span<const std::vector<int64_t>> strides,
                      const std::function<void(int64_t, std::span<const int64_t>)> &f) {
  int64_t total = num_elements(shape);
  std::vector<int64_t> index(shape.size(), 0), offsets(strides.size(), 0);
  for (int64_t n = 0; n < total; ++n) {
    f(n, offsets);
    // Odometer step: bump the last dim, carrying into earlier ones.
    for (size_t d = shape.size(); d-- > 0;) {
      ++index[d];
      for (size_t k = 0; k < strides.size(); ++k) offsets[k] += strides[k][d];
      if (index[d] < shape[d]) break;
      for (size_t k = 0; k < strides.size(); ++k) offsets[k] -= strides[k][d] * shape[d];
      index[d] = 0;
    }
  }
}

void reference_elementwise(std::span<const Tensor> inputs, Tensor &out,
                           const std::function<double(std::span<const double>)> &f) {
  std::vector<std::vector<int64_t>> strides;
  for (const Tensor &t : inputs) strides.push_back(broadcast_strides(t.shape(), out.shape()));
  std::vector<double> args(inputs.size());
  for_each_element(out.shape(), strides, [&](int64_t i, std::span<const int64_t> offsets) {
    for (size_t k = 0; k < inputs.size(); ++k) args[k] = inputs[k].get(offsets[k]);
    out.set(i, f(args));
  });
}

std::string int_list(const std::vector<int64_t> &values) {
  return fmt::format("[{}]", fmt::join(values, ", "));
}

std::string_view describe(DTypes d) {
  switch (d) {
  case DTypes::floats: return "a float type (f32, f64)";
  case DTypes::numeric: return "a numeric type (f32, f64, i32, i64)";
  case DTypes::boolean: return "bool";
  case DTypes::any: return "any type";
  }
  return "?";
}

DType check_same_dtype(std::span<const TensorType> inputs, DTypes allowed) {
  DType t = inputs.empty() ? DType::f32 : inputs[0].dtype;
  for (size_t i = 0; i < inputs.size(); ++i) {
    DType u = inputs[i].dtype;
    if (u != t)
      fail("input {} has dtype {} but input 0 has {}; cast one of them", i, to_string(u),
           to_string(t));
  }
  bool ok = allowed == DTypes::any || (allowed == DTypes::floats && is_float(t)) ||
            (allowed == DTypes::numeric && t != DType::boolean) ||
            (allowed == DTypes::boolean && t == DType::boolean);
  if (!ok) fail("expected {}, got {}", describe(allowed), to_string(t));
  return t;
}

AxisSplit split_at_axis(const Shape &shape, int64_t axis, const std::string &who) {
  int64_t rank = static_cast<int64_t>(shape.size());
  int64_t a = normalize_axis(axis, rank, who);
  AxisSplit s;
  for (int64_t d = 0; d < rank; ++d) (d < a ? s.outer : d == a ? s.axis : s.inner) *= shape[d];
  return s;
}

} // namespace kiln::ops
