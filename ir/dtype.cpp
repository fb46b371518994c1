#include "ir/dtype.h"

#include <fmt/format.h>

#include <array>

namespace kiln {

namespace {
constexpr std::array<std::string_view, 5> kNames = {"f32", "f64", "i32", "i64", "bool"};
constexpr std::array<size_t, 5> kSizes = {4, 8, 4, 8, 1};
} // namespace

size_t byte_size(DType t) { return kSizes[static_cast<size_t>(t)]; }

std::string_view to_string(DType t) { return kNames[static_cast<size_t>(t)]; }

std::optional<DType> parse_dtype(std::string_view name) {
  for (size_t i = 0; i < kNames.size(); ++i)
    if (kNames[i] == name) return static_cast<DType>(i);
  return std::nullopt;
}

std::string human_bytes(uint64_t bytes) {
  constexpr std::array<std::string_view, 5> kUnits = {"bytes", "KiB", "MiB", "GiB", "TiB"};
  double value = double(bytes);
  size_t unit = 0;
  for (; value >= 1024 && unit + 1 < kUnits.size(); ++unit) value /= 1024;
  if (unit == 0) return fmt::format("{} bytes", bytes);
  return fmt::format("{:.1f} {}", value, kUnits[unit]);
}

} // namespace kiln
