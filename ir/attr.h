// Typed node attributes. The variant's alternatives match AttrValue in
// kiln.proto one to one.
#pragma once

#include "ir/dtype.h"
#include "ir/tensor.h"

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <variant>
#include <vector>

namespace kiln {

class Graph;

// A graph attribute is the body of a fused node: a small graph whose
// `parameter` nodes stand for the node's inputs (ops/fusion.h).
using AttrValue = std::variant<int64_t, double, bool, std::string, std::vector<int64_t>,
                               std::vector<double>, DType, Tensor, std::shared_ptr<const Graph>>;

enum class AttrKind { i, f, b, s, ints, floats, dtype, tensor, graph };

inline AttrKind kind_of(const AttrValue &v) { return static_cast<AttrKind>(v.index()); }
std::string_view to_string(AttrKind k);

// Attribute values printed the way `kiln dump` shows them.
std::string to_string(const AttrValue &v);

// Exact equality; tensors and floats compare bitwise (NaN equals itself).
bool attr_equal(const AttrValue &a, const AttrValue &b);

using Attrs = std::map<std::string, AttrValue, std::less<>>;

// The same keys with attr_equal values.
bool attrs_equal(const Attrs &a, const Attrs &b);

} // namespace kiln
