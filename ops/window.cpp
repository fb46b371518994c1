#include "ops/window.h"

#include "ir/error.h"
#include "ops/op_util.h"

#include <algorithm>

namespace kiln::ops {

std::vector<AttrSpec> window_attrs(bool default_strides, bool dilations) {
  std::optional<AttrValue> ones = std::vector<int64_t>{1, 1};
  std::vector<AttrSpec> specs = {{"strides", AttrKind::ints, default_strides ? ones : std::nullopt},
                                 {"padding", AttrKind::s, std::string("valid")},
                                 {"pads", AttrKind::ints, std::vector<int64_t>{}}};
  if (dilations) specs.push_back({"dilations", AttrKind::ints, ones});
  return specs;
}

namespace {

// The attribute `key`: two positive values.
std::vector<int64_t> pair_attr(const Node &node, const char *key) {
  if (!node.attrs.count(key)) return {1, 1};
  const std::vector<int64_t> &v = node.attr_ints(key);
  if (v.size() != 2 || v[0] < 1 || v[1] < 1)
    fail("{} must be two positive values, got {}", key, int_list(v));
  return v;
}

// Fills pad_before, pad_after and out; `name` is "height" or "width".
void resolve(WindowDim &d, const std::string &padding, int64_t before, int64_t after,
             const char *name) {
  if (padding == "same") {
    d.out = (d.in + d.stride - 1) / d.stride;
    int64_t total = std::max<int64_t>(0, (d.out - 1) * d.stride + d.extent() - d.in);
    d.pad_before = total / 2;
    d.pad_after = total - d.pad_before;
    return;
  }
  d.pad_before = before;
  d.pad_after = after;
  int64_t padded = d.in + before + after;
  if (padded < d.extent())
    fail("the kernel {} {}{} is larger than the {}input {} {}", name, d.kernel,
         d.dilation > 1 ? fmt::format(" (dilated {})", d.extent()) : "",
         padding == "explicit" ? "padded " : "", name, padded);
  d.out = (padded - d.extent()) / d.stride + 1;
}

} // namespace

// Window geometry multiplies and adds these with input dims of up to 2^48:
// bounded by 2^24 each, no sum or product of them overflows (the fuzzer
// found strides of 2^63 - 1).
constexpr int64_t kMaxWindowValue = int64_t{1} << 24;

Window2d window2d(const Node &node, int64_t in_h, int64_t in_w, int64_t kh, int64_t kw) {
  if (kh < 1 || kw < 1) fail("the kernel must be at least 1x1, got {}x{}", kh, kw);
  std::vector<int64_t> strides = pair_attr(node, "strides");
  std::vector<int64_t> dilations = pair_attr(node, "dilations");
  const std::string &padding = node.attr_string("padding");
  const std::vector<int64_t> &pads = node.attr_ints("pads");
  for (const std::vector<int64_t> &values : {strides, dilations, pads, {kh, kw}})
    for (int64_t v : values)
      if (v > kMaxWindowValue)
        fail("window sizes, strides, dilations and pads must be at most 2^24, got {}", v);
  if (padding != "valid" && padding != "same" && padding != "explicit")
    fail("padding must be \"valid\", \"same\" or \"explicit\", got \"{}\"", padding);
  if (padding == "explicit") {
    if (pads.size() != 4 || std::any_of(pads.begin(), pads.end(), [](int64_t p) { return p < 0; }))
      fail("explicit padding needs pads [top, bottom, left, right] >= 0, got {}", int_list(pads));
  } else if (!pads.empty()) {
    fail("pads {} given with padding \"{}\": use padding \"explicit\"", int_list(pads), padding);
  }
  Window2d win;
  win.h = {in_h, kh, strides[0], dilations[0]};
  win.w = {in_w, kw, strides[1], dilations[1]};
  bool expl = padding == "explicit";
  resolve(win.h, padding, expl ? pads[0] : 0, expl ? pads[1] : 0, "height");
  resolve(win.w, padding, expl ? pads[2] : 0, expl ? pads[3] : 0, "width");
  return win;
}

} // namespace kiln::ops
