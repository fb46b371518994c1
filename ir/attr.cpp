#include "ir/attr.h"

#include "ir/graph.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>

namespace kiln {

std::string_view to_string(AttrKind k) {
  static constexpr std::array<std::string_view, 9> kNames = {
      "int", "float", "bool", "string", "int list", "float list", "dtype", "tensor", "graph"};
  return kNames[static_cast<size_t>(k)];
}

std::string to_string(const AttrValue &v) {
  struct Printer {
    std::string operator()(int64_t x) const { return std::to_string(x); }
    std::string operator()(double x) const { return fmt::format("{}", x); }
    std::string operator()(bool x) const { return x ? "true" : "false"; }
    std::string operator()(const std::string &x) const { return fmt::format("\"{}\"", x); }
    std::string operator()(const std::vector<int64_t> &x) const {
      return fmt::format("[{}]", fmt::join(x, ", "));
    }
    std::string operator()(const std::vector<double> &x) const {
      return fmt::format("[{}]", fmt::join(x, ", "));
    }
    std::string operator()(DType x) const { return std::string(to_string(x)); }
    std::string operator()(const Tensor &x) const {
      if (x.size() > 8) return x.summary();
      std::vector<double> values;
      for (int64_t i = 0; i < x.size(); ++i) values.push_back(x.get(i));
      return fmt::format("{}{{{}}}", x.summary(), fmt::join(values, ", "));
    }
    // A fused body lists what it computes: its nodes other than parameters.
    std::string operator()(const std::shared_ptr<const Graph> &body) const {
      std::vector<std::string> members;
      for (const Node &n : body->nodes())
        if (n.op->source == Source::none) members.push_back(n.name);
      return fmt::format("[{}]", fmt::join(members, ", "));
    }
  };
  return std::visit(Printer{}, v);
}

namespace {

// Floats compare as bits, as tensors do, so -0 differs from 0; but every
// NaN equals every NaN: a graph with a NaN attribute equals its saved copy,
// and the text form keeps no NaN payload ("nan").
bool bits_equal(double a, double b) {
  if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b);
  return std::bit_cast<uint64_t>(a) == std::bit_cast<uint64_t>(b);
}

} // namespace

bool attr_equal(const AttrValue &a, const AttrValue &b) {
  if (a.index() != b.index()) return false;
  return std::visit(
      [&](const auto &x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, Tensor>)
          return x.identical(std::get<Tensor>(b));
        else if constexpr (std::is_same_v<T, std::shared_ptr<const Graph>>)
          return *x == *std::get<T>(b);
        else if constexpr (std::is_same_v<T, double>)
          return bits_equal(x, std::get<double>(b));
        else if constexpr (std::is_same_v<T, std::vector<double>>)
          return std::equal(x.begin(), x.end(), std::get<T>(b).begin(), std::get<T>(b).end(),
                            bits_equal);
        else
          return x == std::get<T>(b);
      },
      a);
}

bool attrs_equal(const Attrs &a, const Attrs &b) {
  if (a.size() != b.size()) return false;
  for (const auto &[key, value] : a) {
    auto it = b.find(key);
    if (it == b.end() || !attr_equal(value, it->second)) return false;
  }
  return true;
}

} // namespace kiln
