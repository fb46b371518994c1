// Sliding-window geometry shared by conv2d and the pooling ops (NCHW): the
// stride, dilation and padding attributes, and the output size and padding
// they give for an input and a kernel.
#pragma once

#include "ir/graph.h"

#include <cstdint>
#include <vector>

namespace kiln::ops {

// One spatial dim: output o reads input positions
// o * stride - pad_before + k * dilation for k in [0, kernel).
struct WindowDim {
  int64_t in = 0, kernel = 1, stride = 1, dilation = 1;
  int64_t pad_before = 0, pad_after = 0, out = 0;

  int64_t extent() const { return (kernel - 1) * dilation + 1; }
  // The input position of tap k of output o; outside [0, in) in the padding.
  int64_t position(int64_t o, int64_t k) const { return o * stride - pad_before + k * dilation; }
};

struct Window2d {
  WindowDim h, w;
};

// Attributes: strides [2] (default 1, 1 when `default_strides`, else
// required), dilations [2] (with `dilations`; default 1, 1), padding
// "valid" | "same" | "explicit", and pads [top, bottom, left, right]
// (explicit padding only).
std::vector<AttrSpec> window_attrs(bool default_strides, bool dilations);

// The window over an input of spatial size in_h x in_w for a kernel kh x kw,
// from the node's attributes. "same" follows TensorFlow: out = ceil(in /
// stride), the padding split with the extra cell at the bottom/right. Fails
// with a message naming the mismatch (bad attribute, kernel larger than the
// padded input).
Window2d window2d(const Node &node, int64_t in_h, int64_t in_w, int64_t kh, int64_t kw);

} // namespace kiln::ops
