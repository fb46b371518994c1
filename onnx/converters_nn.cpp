// Convolution, pooling and normalization.
#include "onnx/converter.h"

#include "ir/error.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace kiln::onnx_import {

namespace {

// The geometry of a Conv or pooling node over x, resolved to kiln's explicit
// pads [top, bottom, left, right]: auto_pad (SAME_UPPER puts the odd cell
// after, SAME_LOWER before) and, for pooling, ceil_mode (more padding after,
// as long as the last window starts inside the input or its leading pads,
// which is PyTorch's and ONNX Runtime's rule).
struct Window {
  std::vector<int64_t> kernel, strides, dilations, pads, ceil_extra;
};

Window window(const OnnxNode &n, const Shape &x, std::vector<int64_t> kernel) {
  if (x.size() != 4 || has_batch(Shape(x.begin() + 1, x.end())))
    fail("the input is {}, expected [N, C, H, W] (kiln has 2-D convolution and pooling)",
         to_string(TensorType{f32, x}));
  if (n.has("kernel_shape") && n.ints("kernel_shape") != kernel)
    fail("kernel_shape {} disagrees with the weights' {}", n.ints("kernel_shape"), kernel);
  if (kernel.size() != 2) fail("kernel_shape {} is not 2-D", kernel);
  Window w{kernel, n.ints("strides", {1, 1}), n.ints("dilations", {1, 1}), {}, {0, 0}};
  std::vector<int64_t> onnx_pads = n.ints("pads", {0, 0, 0, 0});
  if (w.strides.size() != 2 || w.dilations.size() != 2 || onnx_pads.size() != 4)
    fail("strides {}, dilations {} and pads {} are not 2-D", w.strides, w.dilations, onnx_pads);
  // Bounded like kiln's windows, so that the geometry below cannot overflow.
  constexpr int64_t kMax = int64_t{1} << 24;
  for (const std::vector<int64_t> *list : {&w.kernel, &w.strides, &w.dilations})
    for (int64_t v : *list)
      if (v < 1 || v > kMax)
        fail("kernel {}, strides {} and dilations {} must be in [1, 2^24]", w.kernel, w.strides,
             w.dilations);
  for (int64_t v : onnx_pads)
    if (v < 0 || v > kMax) fail("pads {} must be in [0, 2^24]", onnx_pads);
  std::string auto_pad = n.s("auto_pad", "NOTSET");
  for (size_t d = 0; d < 2; ++d) {
    int64_t in = x[d + 2], extent = (kernel[d] - 1) * w.dilations[d] + 1;
    int64_t before = onnx_pads[d], after = onnx_pads[d + 2];
    if (auto_pad == "VALID") before = after = 0;
    if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
      int64_t out = (in + w.strides[d] - 1) / w.strides[d];
      int64_t total = std::max<int64_t>((out - 1) * w.strides[d] + extent - in, 0);
      before = auto_pad == "SAME_UPPER" ? total / 2 : total - total / 2;
      after = total - before;
    }
    if (n.i("ceil_mode", 0) != 0) {
      int64_t span = in + before + after - extent;
      int64_t out = (span + w.strides[d] - 1) / w.strides[d] + 1;
      if ((out - 1) * w.strides[d] >= in + before) --out;
      w.ceil_extra[d] =
          std::max<int64_t>((out - 1) * w.strides[d] + extent - (in + before + after), 0);
    }
    w.pads.push_back(before);
    w.pads.push_back(after);
  }
  return w;
}

std::string check_auto_pad(const OnnxNode &n) {
  std::string pad = n.s("auto_pad", "NOTSET");
  if (pad != "NOTSET" && pad != "VALID" && pad != "SAME_UPPER" && pad != "SAME_LOWER")
    return fmt::format("auto_pad={} is not an ONNX padding", pad);
  return "";
}

Value conv(Graph &, const OnnxNode &n, const Inputs &in, const std::string &name) {
  Value x = in.at(0), weights = in.at(1);
  Shape ws = weights.shape();
  if (ws.size() != 4)
    fail("the weights are {}, expected [O, C / group, KH, KW]", to_string(weights.type()));
  Window w = window(n, x.shape(), {ws[2], ws[3]});
  Conv2dOptions o{.strides = w.strides,
                  .dilations = w.dilations,
                  .padding = "explicit",
                  .pads = w.pads,
                  .groups = n.i("group", 1)};
  if (!in.has(2)) return conv2d(x, weights, o, name);
  return add(conv2d(x, weights, o), per_channel(in.at(2), 4), name);
}

// MaxPool and AveragePool. Padded cells take no part in kiln's pooling, so
// ceil_mode's extra cells are more padding; count_include_pad=1 pads the
// input with zeros first, so that its own padding counts and ceil_mode's not.
Converter pool(bool is_max) {
  Converter c{.attributes = {{"kernel_shape", kInts},
                             {"strides", kInts},
                             {"pads", kInts},
                             {"auto_pad", kString},
                             {"ceil_mode", kInt}}};
  if (is_max) {
    c.attributes.insert({{"dilations", kInts}, {"storage_order", kInt}});
    c.max_outputs = 1;
  } else {
    c.attributes.insert({"count_include_pad", kInt});
  }
  c.check = [](const OnnxNode &n) {
    if (!n.has("kernel_shape")) return std::string("kernel_shape is required");
    for (int64_t d : n.ints("dilations"))
      if (d != 1) return std::string("dilations other than 1 are not supported in pooling");
    if (n.i("storage_order", 0) != 0) return std::string("storage_order=1 is not supported");
    return check_auto_pad(n);
  };
  c.build = one([is_max](Graph &, const OnnxNode &n, const Inputs &in, const std::string &name) {
    Value x = in.at(0);
    Window w = window(n, x.shape(), n.ints("kernel_shape")); // strides default to 1
    std::vector<int64_t> pads = w.pads;
    if (!is_max && n.i("count_include_pad", 0) != 0) {
      x = pad(x, {0, 0, 0, 0, pads[0], pads[1], pads[2], pads[3]});
      pads = {0, 0, 0, 0};
    }
    pads[1] += w.ceil_extra[0];
    pads[3] += w.ceil_extra[1];
    Pool2dOptions o{.kernel = w.kernel, .strides = w.strides, .padding = "explicit", .pads = pads};
    return is_max ? max_pool2d(x, o, name) : avg_pool2d(x, o, name);
  });
  return c;
}

// GlobalAveragePool, GlobalMaxPool: over every spatial dim, kept as size 1.
Converter global_pool(Value (*reduce)(Value, std::vector<int64_t>, bool, std::string)) {
  return {.build =
              one([reduce](Graph &, const OnnxNode &, const Inputs &in, const std::string &name) {
                Value x = in.at(0);
                if (x.rank() < 3)
                  fail("the input is {}, expected [N, C, spatial...]", to_string(x.type()));
                std::vector<int64_t> axes;
                for (int64_t a = 2; a < x.rank(); ++a) axes.push_back(a);
                return reduce(x, axes, true, name);
              })};
}

// Inference: (x - mean) * scale / sqrt(var + epsilon) + bias, per channel.
Value batch_norm(Graph &, const OnnxNode &n, const Inputs &in, const std::string &name) {
  Value x = in.at(0), scale = in.at(1), bias = in.at(2), mean = in.at(3), var = in.at(4);
  Value factor = scale * rsqrt(var + n.f("epsilon", 1e-5));
  int64_t r = x.rank();
  return add((x - per_channel(mean, r)) * per_channel(factor, r), per_channel(bias, r), name);
}

// Over the axes from `axis` on: (x - mean) / sqrt(var + epsilon) * scale + bias.
Value layer_norm(Graph &, const OnnxNode &n, const Inputs &in, const std::string &name) {
  Value x = in.at(0);
  std::vector<int64_t> axes;
  for (int64_t a = normalized_axis(n.i("axis", -1), x.rank()); a < x.rank(); ++a) axes.push_back(a);
  Value centered = x - mean(x, axes, true);
  Value normalized = centered * rsqrt(mean(square(centered), axes, true) + n.f("epsilon", 1e-5));
  if (!in.has(2)) return mul(normalized, in.at(1), name);
  return add(normalized * in.at(1), in.at(2), name);
}

// Per sample and channel over the spatial dims, then scale and bias per channel.
Value instance_norm(Graph &, const OnnxNode &n, const Inputs &in, const std::string &name) {
  Value x = in.at(0);
  std::vector<int64_t> axes;
  for (int64_t a = 2; a < x.rank(); ++a) axes.push_back(a);
  if (axes.empty()) fail("the input is {}, expected [N, C, spatial...]", to_string(x.type()));
  Value centered = x - mean(x, axes, true);
  Value normalized = centered * rsqrt(mean(square(centered), axes, true) + n.f("epsilon", 1e-5));
  return add(normalized * per_channel(in.at(1), x.rank()), per_channel(in.at(2), x.rank()), name);
}

} // namespace

void add_nn_converters(ConverterTable &t) {
  t["Conv"] = {.attributes = {{"kernel_shape", kInts},
                              {"strides", kInts},
                              {"pads", kInts},
                              {"dilations", kInts},
                              {"group", kInt},
                              {"auto_pad", kString}},
               .min_inputs = 2,
               .max_inputs = 3,
               .check = check_auto_pad,
               .build = one(conv)};
  t["MaxPool"] = pool(true);
  t["AveragePool"] = pool(false);
  t["GlobalAveragePool"] = global_pool(mean);
  t["GlobalMaxPool"] = global_pool(max);
  t["BatchNormalization"] = {.attributes = {{"epsilon", kFloat},
                                            {"momentum", kFloat},
                                            {"training_mode", kInt},
                                            {"spatial", kInt}},
                             .min_inputs = 5,
                             .max_inputs = 5,
                             .statistic_inputs = {3, 4}, // the running mean and variance
                             .check =
                                 [](const OnnxNode &n) {
                                   if (n.i("training_mode", 0) != 0)
                                     return std::string("training_mode=1 is not supported");
                                   if (n.i("spatial", 1) != 1)
                                     return std::string("spatial=0 is not supported");
                                   return std::string();
                                 },
                             .build = one(batch_norm)};
  t["InstanceNormalization"] = {.attributes = {{"epsilon", kFloat}},
                                .min_inputs = 3,
                                .max_inputs = 3,
                                .build = one(instance_norm)};
  t["LayerNormalization"] = {
      .attributes = {{"axis", kInt}, {"epsilon", kFloat}, {"stash_type", kInt}},
      .min_inputs = 2,
      .max_inputs = 3,
      .build = one(layer_norm)};
}

} // namespace kiln::onnx_import
