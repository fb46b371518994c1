// Shapes, indexing and padding, and the ops that compute shapes at import
// time (Shape, ConstantOfShape, Range, Constant): their values are folded, the
// batch dim carried as kShapeBatch.
#include "onnx/converter.h"
#include "onnx/onnx_tensor.h"

#include "ir/error.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <numeric>

namespace kiln::onnx_import {

namespace {

// Reshape's ONNX -1 while the others are read (kiln's -1 is the batch dim).
constexpr int64_t kInferred = kShapeBatch + 1;

// ONNX's 0 copies the input's dim; one -1 is inferred. kiln's reshape keeps
// the batch dim as its own -1, so the ONNX -1 is computed from the item dims
// when the batch dim is there too (a Shape -> Gather -> Concat of it, or a 0).
Value onnx_reshape(Graph &, const OnnxNode &n, const Inputs &in, const std::string &name) {
  Value x = in.at(0);
  Shape in_shape = x.shape(), shape;
  std::vector<int64_t> target = in.ints(1);
  for (size_t k = 0; k < target.size(); ++k) {
    int64_t d = target[k];
    if (d == 0 && n.i("allowzero", 0) == 0) {
      if (k >= in_shape.size())
        fail("shape {}: a 0 at axis {} past the input's rank {}", target, k, in_shape.size());
      d = in_shape[k];
    } else if (d == kShapeBatch) {
      d = batch;
    } else if (d == -1) {
      d = kInferred;
    } else if (d < 0 || d > kMaxElements) {
      fail("shape {} has a dim kiln cannot hold", target);
    }
    shape.push_back(d);
  }
  if (std::count(shape.begin(), shape.end(), kInferred) > 1)
    fail("shape {} has more than one -1", target);
  auto inferred = std::find(shape.begin(), shape.end(), kInferred);
  if (inferred != shape.end()) {
    if (!has_batch(shape)) {
      *inferred = -1; // kiln infers it (or takes it for the batch dim)
    } else {
      int64_t items = 1, known = 1;
      for (int64_t d : in_shape) items *= is_batch(d) ? 1 : d;
      bool overflow = false;
      for (int64_t d : shape)
        overflow = overflow ||
                   __builtin_mul_overflow(known, is_batch(d) || d == kInferred ? 1 : d, &known);
      if (overflow || known == 0 || items % known != 0)
        fail("cannot infer the -1 of shape {} for {}", target, to_string(x.type()));
      *inferred = items / known;
    }
  }
  return reshape(x, shape, name);
}

// Squeeze and Unsqueeze as reshapes: axes from the attribute (before opset
// 13) or the constant input.
std::vector<int64_t> axes_of(const OnnxNode &n, const Inputs &in) {
  return n.opset < 13 ? n.ints("axes") : in.ints(1);
}

Value squeeze(Graph &, const OnnxNode &n, const Inputs &in, const std::string &name) {
  Value x = in.at(0);
  Shape s = x.shape(), out;
  std::vector<int64_t> axes = axes_of(n, in);
  for (int64_t &a : axes) a = normalized_axis(a, x.rank());
  for (int64_t a = 0; a < x.rank(); ++a) {
    bool listed = std::find(axes.begin(), axes.end(), a) != axes.end();
    if (listed && s[size_t(a)] != 1) fail("axis {} of {} is not 1", a, to_string(x.type()));
    if (!(listed || (axes.empty() && s[size_t(a)] == 1))) out.push_back(s[size_t(a)]);
  }
  return reshape(x, out, name);
}

Value unsqueeze(Graph &, const OnnxNode &n, const Inputs &in, const std::string &name) {
  Value x = in.at(0);
  std::vector<int64_t> axes = axes_of(n, in);
  int64_t rank = x.rank() + int64_t(axes.size());
  for (int64_t &a : axes) a = normalized_axis(a, rank);
  std::sort(axes.begin(), axes.end());
  if (std::adjacent_find(axes.begin(), axes.end()) != axes.end()) fail("axes {} repeat", axes);
  Shape s = x.shape(), out;
  for (int64_t a = 0, k = 0; a < rank; ++a)
    out.push_back(std::binary_search(axes.begin(), axes.end(), a) ? 1 : s[size_t(k++)]);
  return reshape(x, out, name);
}

// Along `axis`: kiln's gather picks rows (axis 0), so other axes go first and back.
// Negative indices count from the end in ONNX (kiln's gather gives a zero row
// for them): known ones are made positive here.
Value onnx_gather(Graph &g, const OnnxNode &n, const Inputs &in, const std::string &name) {
  Value data = in.at(0);
  int64_t rank = data.rank(), axis = normalized_axis(n.i("axis", 0), rank);
  Value indices;
  if (!in.has_constant(1) || is_batch(data.shape()[size_t(axis)])) {
    indices = in.at(1);
  } else {
    Tensor known = in.constant(1).clone();
    int64_t dim = data.shape()[size_t(axis)];
    for (int64_t k = 0; k < known.size(); ++k) {
      double i = known.get(k);
      if (i < -double(dim) || i >= double(dim)) fail("index {} is out of range for dim {}", i, dim);
      if (i < 0) known.set(k, i + double(dim));
    }
    indices = constant(g, known);
  }
  if (axis == 0) return gather(data, indices, name);
  std::vector<int64_t> to_front(static_cast<size_t>(rank)), back;
  std::iota(to_front.begin(), to_front.end(), 0);
  std::rotate(to_front.begin(), to_front.begin() + axis, to_front.begin() + axis + 1);
  Value rows = gather(transpose(data, to_front), indices);
  int64_t q = indices.rank();
  for (int64_t k = 0; k < axis; ++k) back.push_back(q + k);
  for (int64_t k = 0; k < q; ++k) back.push_back(k);
  for (int64_t k = q + axis; k < rows.rank(); ++k) back.push_back(k);
  return transpose(rows, back, name);
}

Value onnx_concat(Graph &, const OnnxNode &n, const Inputs &in, const std::string &name) {
  std::vector<Value> parts;
  for (size_t k = 0; k < in.values.size(); ++k) parts.push_back(in.at(k));
  return concat(parts, normalized_axis(n.i("axis", 0), parts.at(0).rank()), name);
}

// begin/end/steps for kiln's slice, one entry per dim up to the last sliced.
Value onnx_slice(Graph &, const OnnxNode &n, const Inputs &in, const std::string &name) {
  Value x = in.at(0);
  bool attrs = n.opset < 10;
  std::vector<int64_t> starts = attrs ? n.ints("starts") : in.ints(1),
                       ends = attrs ? n.ints("ends") : in.ints(2), axes, steps;
  axes = attrs ? n.ints("axes") : in.ints(3);
  steps = attrs ? std::vector<int64_t>{} : in.ints(4);
  if (axes.empty())
    for (size_t k = 0; k < starts.size(); ++k) axes.push_back(int64_t(k));
  if (steps.empty()) steps.assign(starts.size(), 1);
  if (ends.size() != starts.size() || axes.size() != starts.size() || steps.size() != starts.size())
    fail("starts {}, ends {}, axes {} and steps {} differ in length", starts, ends, axes, steps);
  std::vector<int64_t> begin(size_t(x.rank()), 0), end(size_t(x.rank()), to_end),
      step(size_t(x.rank()), 1);
  for (size_t k = 0; k < axes.size(); ++k) {
    auto a = size_t(normalized_axis(axes[k], x.rank()));
    if (steps[k] < 1) fail("step {} is not supported (kiln slices forward)", steps[k]);
    begin[a] = starts[k];
    end[a] = ends[k];
    step[a] = steps[k];
  }
  return slice(x, begin, end, step, name);
}

std::vector<Value> onnx_split(Graph &, const OnnxNode &n, const Inputs &in,
                              const std::vector<std::string> &names) {
  Value x = in.at(0);
  int64_t axis = normalized_axis(n.i("axis", 0), x.rank()), dim = x.shape()[size_t(axis)];
  std::vector<int64_t> sizes = n.opset < 13 ? n.ints("split") : in.ints(1);
  auto parts = int64_t(names.size());
  if (sizes.empty()) {
    if (dim < 0 || dim % parts != 0)
      fail("dim {} of {} does not split into {} equal parts", axis, to_string(x.type()), parts);
    sizes.assign(size_t(parts), dim / parts);
  }
  if (std::any_of(sizes.begin(), sizes.end(), [](int64_t size) { return size < 0; }) ||
      int64_t(sizes.size()) != parts ||
      std::accumulate(sizes.begin(), sizes.end(), int64_t{0}) != dim)
    fail("split {} does not cut dim {} ({}) into {} outputs", sizes, axis, dim, parts);
  std::vector<Value> out;
  std::vector<int64_t> begin(size_t(axis) + 1, 0), end(size_t(axis) + 1, to_end);
  for (size_t k = 0; k < sizes.size(); ++k) {
    end[size_t(axis)] = begin[size_t(axis)] + sizes[k];
    out.push_back(slice(x, begin, end, {}, names[k]));
    begin[size_t(axis)] = end[size_t(axis)];
  }
  return out;
}

// Pad: constant (kiln's pad), reflect and edge (slices of the border, concatenated).
Value border(Value x, size_t axis, int64_t before, int64_t after, bool reflect) {
  int64_t dim = x.shape()[axis];
  if (reflect ? std::max(before, after) >= dim : dim == 0)
    fail("pads ({}, {}) on dim {} of size {} cannot {}", before, after, axis, dim,
         reflect ? "reflect (at most size - 1)" : "repeat an edge of nothing");
  auto at = [&](int64_t i) {
    std::vector<int64_t> b(axis + 1, 0), e(axis + 1, to_end);
    b[axis] = i;
    e[axis] = i + 1;
    return slice(x, b, e);
  };
  std::vector<Value> parts;
  for (int64_t k = before; k >= 1; --k) parts.push_back(at(reflect ? k : 0));
  parts.push_back(x);
  for (int64_t k = 1; k <= after; ++k) parts.push_back(at(reflect ? dim - 1 - k : dim - 1));
  return parts.size() == 1 ? x : concat(parts, int64_t(axis));
}

Value onnx_pad(Graph &, const OnnxNode &n, const Inputs &in, const std::string &name) {
  Value x = in.at(0);
  std::vector<int64_t> onnx_pads = n.opset < 11 ? n.ints("pads") : in.ints(1);
  double value = n.opset < 11 ? n.f("value", 0) : in.scalar(2, 0);
  auto rank = size_t(x.rank());
  if (onnx_pads.size() != 2 * rank) fail("pads {} are not 2 x rank {}", onnx_pads, rank);
  std::vector<int64_t> pads;
  for (size_t a = 0; a < rank; ++a) {
    if (onnx_pads[a] < 0 || onnx_pads[a + rank] < 0)
      fail("negative pads {} are not supported", onnx_pads);
    pads.push_back(onnx_pads[a]);
    pads.push_back(onnx_pads[a + rank]);
  }
  std::string mode = n.s("mode", "constant");
  if (mode == "constant") return pad(x, pads, value, name);
  Value y = x;
  for (size_t a = 0; a < rank; ++a)
    if (pads[2 * a] || pads[2 * a + 1])
      y = border(y, a, pads[2 * a], pads[2 * a + 1], mode == "reflect");
  return reshape(y, y.shape(), name);
}

// Expand: NumPy broadcasting of x and the shape, both ways.
Value expand(Graph &, const OnnxNode &, const Inputs &in, const std::string &name) {
  Value x = in.at(0);
  Shape s = x.shape();
  std::vector<int64_t> target = in.ints(1);
  size_t rank = std::max(s.size(), target.size());
  Shape out(rank);
  for (size_t k = 0; k < rank; ++k) {
    int64_t a = k + s.size() >= rank ? s[k + s.size() - rank] : 1;
    int64_t b = k + target.size() >= rank ? target[k + target.size() - rank] : 1;
    if (b == kShapeBatch) b = batch;
    if (a != b && a != 1 && b != 1) fail("cannot broadcast {} to {}", to_string(x.type()), target);
    out[k] = a == 1 ? b : a;
  }
  return broadcast_to(x, out, name);
}

Tensor shape_of(const OnnxNode &n, const Inputs &in) {
  Shape s = in.at(0).shape();
  int64_t rank = int64_t(s.size());
  auto clamp = [&](int64_t i) { return std::clamp(i < 0 ? i + rank : i, int64_t{0}, rank); };
  int64_t start = clamp(n.i("start", 0)), end = clamp(n.i("end", rank));
  std::vector<int64_t> dims;
  for (int64_t k = start; k < end; ++k)
    dims.push_back(is_batch(s[size_t(k)]) ? kShapeBatch : s[size_t(k)]);
  return Tensor::from<int64_t>({int64_t(dims.size())}, dims);
}

// Tile: each axis repeated by concatenating copies (a node per copy, so few).
constexpr int64_t kMaxRepeats = 1024;
Value tile(Graph &, const OnnxNode &, const Inputs &in, const std::string &name) {
  Value y = in.at(0);
  std::vector<int64_t> repeats = in.ints(1);
  if (int64_t(repeats.size()) != y.rank())
    fail("repeats {} are not one per axis of rank {}", repeats, y.rank());
  for (size_t a = 0; a < repeats.size(); ++a) {
    if (repeats[a] < 1 || repeats[a] > kMaxRepeats)
      fail("repeats {} must be in [1, {}]", repeats, kMaxRepeats);
    if (repeats[a] > 1) y = concat(std::vector<Value>(size_t(repeats[a]), y), int64_t(a));
  }
  return reshape(y, y.shape(), name);
}

Tensor size_of(const OnnxNode &, const Inputs &in) {
  Shape s = in.at(0).shape();
  if (has_batch(s)) fail("the size of {} depends on the batch size", to_string(in.at(0).type()));
  return Tensor::scalar(num_elements(s));
}

// A tensor of one value; with the batch dim in its shape, a run-time value:
// kiln's uniform draw over [v, v], the one source op whose shape may hold the
// batch dim (each element is v + 0 * u, exactly v).
Value constant_of_shape(Graph &g, const OnnxNode &n, const Inputs &in, const std::string &name) {
  Shape shape;
  for (int64_t d : in.ints(0)) {
    if (d < 0 && d != kShapeBatch) fail("shape has a negative dim {}", d);
    shape.push_back(d == kShapeBatch ? batch : d);
  }
  Tensor value = n.has("value") ? tensor_of(n.attrs.at("value")->t()) : Tensor::scalar(0.0f);
  if (value.size() != 1) fail("value must hold one element, holds {}", value.size());
  if (has_batch(shape)) {
    if (!is_float(value.dtype()))
      fail("a {} value over the batch dim is not supported", to_string(value.dtype()));
    return random_uniform(g, shape, value.get(0), value.get(0), 0, std::nullopt, value.dtype(),
                          name);
  }
  if (checked_elements(shape) > kMaxFoldedElements) fail("shape {} is too large", shape);
  Tensor out(value.dtype(), shape);
  for (int64_t k = 0; k < out.size(); ++k) out.set(k, value.get(0));
  return constant(g, out, name);
}

Tensor range(const OnnxNode &, const Inputs &in) {
  const Tensor &start = in.constant(0);
  double s = in.scalar(0, 0), l = in.scalar(1, 0), d = in.scalar(2, 0);
  double count = std::max(std::ceil((l - s) / d), 0.0);
  if (!(count <= double(kMaxFoldedElements))) fail("range({}, {}, {}) cannot be folded", s, l, d);
  Tensor out(start.dtype(), {int64_t(count)});
  for (int64_t k = 0; k < out.size(); ++k) out.set(k, s + double(k) * d);
  return out;
}

Tensor onnx_constant(const OnnxNode &n, const Inputs &) {
  if (n.has("value")) return tensor_of(n.attrs.at("value")->t());
  if (n.has("value_float")) return Tensor::scalar(float(n.f("value_float", 0)));
  if (n.has("value_int")) return Tensor::scalar(n.i("value_int", 0));
  if (n.has("value_ints")) {
    std::vector<int64_t> v = n.ints("value_ints");
    return Tensor::from<int64_t>({int64_t(v.size())}, v);
  }
  const auto &floats = n.attrs.at("value_floats")->floats();
  return Tensor::from<float>({floats.size()}, std::vector<float>(floats.begin(), floats.end()));
}

} // namespace

void add_shape_converters(ConverterTable &t) {
  t["Reshape"] = {.attributes = {{"allowzero", kInt}},
                  .min_inputs = 2,
                  .max_inputs = 2,
                  .constant_inputs = {1},
                  .build = one(onnx_reshape)};
  t["Flatten"] = {
      .attributes = {{"axis", kInt}},
      .build = one([](Graph &, const OnnxNode &n, const Inputs &in, const std::string &name) {
        Value x = in.at(0);
        int64_t axis = n.i("axis", 1);
        return flatten(x, axis < 0 ? axis + x.rank() : axis, name);
      })};
  t["Transpose"] = {
      .attributes = {{"perm", kInts}},
      .build = one([](Graph &, const OnnxNode &n, const Inputs &in, const std::string &name) {
        return transpose(in.at(0), n.ints("perm"), name);
      })};
  t["Squeeze"] = {.attributes = {{"axes", kInts}},
                  .max_inputs = 2,
                  .constant_inputs = {1},
                  .build = one(squeeze)};
  t["Unsqueeze"] = {.attributes = {{"axes", kInts}},
                    .max_inputs = 2,
                    .constant_inputs = {1},
                    .build = one(unsqueeze)};
  t["Gather"] = {
      .attributes = {{"axis", kInt}}, .min_inputs = 2, .max_inputs = 2, .build = one(onnx_gather)};
  t["Concat"] = {
      .attributes = {{"axis", kInt}},
      .max_inputs = std::numeric_limits<int>::max(),
      .check =
          [](const OnnxNode &n) { return n.has("axis") ? "" : std::string("axis is required"); },
      .build = one(onnx_concat)};
  t["Slice"] = {.attributes = {{"starts", kInts}, {"ends", kInts}, {"axes", kInts}},
                .max_inputs = 5,
                .constant_inputs = {1, 2, 3, 4},
                .build = one(onnx_slice)};
  t["Split"] = {.attributes = {{"axis", kInt}, {"split", kInts}},
                .max_inputs = 2,
                .max_outputs = -1,
                .constant_inputs = {1},
                .build = onnx_split};
  t["Pad"] = {.attributes = {{"mode", kString}, {"pads", kInts}, {"value", kFloat}},
              .max_inputs = 3,
              .constant_inputs = {1, 2},
              .check =
                  [](const OnnxNode &n) {
                    std::string mode = n.s("mode", "constant");
                    return mode == "constant" || mode == "reflect" || mode == "edge"
                               ? std::string()
                               : fmt::format("mode '{}' is not supported", mode);
                  },
              .build = one(onnx_pad)};
  t["Expand"] = {.min_inputs = 2, .max_inputs = 2, .constant_inputs = {1}, .build = one(expand)};
  t["Tile"] = {.min_inputs = 2, .max_inputs = 2, .constant_inputs = {1}, .build = one(tile)};
  t["Size"] = {.fold = size_of};
  t["Shape"] = {.attributes = {{"start", kInt}, {"end", kInt}}, .fold = shape_of};
  t["ConstantOfShape"] = {
      .attributes = {{"value", kTensor}}, .constant_inputs = {0}, .build = one(constant_of_shape)};
  t["Range"] = {.min_inputs = 3, .max_inputs = 3, .constant_inputs = {0, 1, 2}, .fold = range};
  t["Constant"] = {.attributes = {{"value", kTensor},
                                  {"value_float", kFloat},
                                  {"value_int", kInt},
                                  {"value_floats", onnx::AttributeProto::FLOATS},
                                  {"value_ints", kInts}},
                   .min_inputs = 0,
                   .max_inputs = 0,
                   .check =
                       [](const OnnxNode &n) {
                         if (n.attrs.size() != 1)
                           return std::string("takes exactly one value attribute");
                         if (n.has("value"))
                           if (std::string why = tensor_problem(n.attrs.at("value")->t());
                               !why.empty())
                             return "value: " + why;
                         return std::string();
                       },
                   .fold = onnx_constant};
}

} // namespace kiln::onnx_import
