#include "data/csv.h"

#include "ir/error.h"
#include "ir/serialize.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <vector>

namespace kiln {

namespace {

std::string_view trim(std::string_view s) {
  size_t begin = s.find_first_not_of(" \t\r");
  if (begin == std::string_view::npos) return {};
  return s.substr(begin, s.find_last_not_of(" \t\r") - begin + 1);
}

std::vector<std::string_view> split_cells(std::string_view line) {
  std::vector<std::string_view> cells;
  for (size_t at = 0;;) {
    size_t comma = line.find(',', at);
    cells.push_back(trim(line.substr(at, comma - at)));
    if (comma == std::string_view::npos) return cells;
    at = comma + 1;
  }
}

enum class Parsed { ok, invalid, out_of_range };

// from_chars takes no '+' sign; "+-1" must stay invalid.
std::string_view without_plus(std::string_view s) {
  return s.starts_with('+') && !s.starts_with("+-") ? s.substr(1) : s;
}

// Like NumPy's loadtxt: decimal to double, then to the element type, so a
// value too small for the type becomes 0 (or a subnormal), not an error.
template <typename T> Parsed parse_float(std::string_view s, T &out) {
  s = without_plus(s);
  double d;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), d);
  if (s.empty() || end != s.data() + s.size()) return Parsed::invalid;
  if (ec == std::errc::result_out_of_range) {
    // from_chars reports underflow and overflow alike; strtod tells them apart.
    d = std::strtod(std::string(s).c_str(), nullptr);
    if (std::isinf(d)) return Parsed::out_of_range;
  } else if (ec != std::errc{}) {
    return Parsed::invalid;
  }
  if (std::isfinite(d) && std::abs(d) > std::numeric_limits<T>::max()) return Parsed::out_of_range;
  out = static_cast<T>(d);
  return Parsed::ok;
}

template <typename T> Parsed parse_cell(std::string_view s, T &out) {
  if constexpr (std::is_floating_point_v<T>) {
    return parse_float(s, out);
  } else if constexpr (std::is_same_v<T, uint8_t>) { // bool
    if (s == "0" || s == "false" || s == "1" || s == "true") {
      out = s == "1" || s == "true";
      return Parsed::ok;
    }
    return Parsed::invalid;
  } else {
    s = without_plus(s);
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    if (end != s.data() + s.size() || s.empty()) return Parsed::invalid;
    return ec == std::errc{} ? Parsed::ok : Parsed::out_of_range;
  }
}

bool is_number(std::string_view s) {
  double d;
  return parse_float(s, d) != Parsed::invalid;
}

[[noreturn]] void bad_cell(const std::string &origin, size_t line, size_t column,
                           std::string_view cell, DType dtype, Parsed result) {
  std::string where = fmt::format("{}: line {}, column {}", origin, line, column);
  if (cell.empty()) fail("{}: empty cell", where);
  if (result == Parsed::invalid) fail("{}: cannot read '{}' as {}", where, cell, to_string(dtype));
  fail("{}: '{}' is out of range for {}", where, cell, to_string(dtype));
}

template <typename T>
Tensor parse_as(std::string_view text, DType dtype, const std::string &origin) {
  std::vector<T> values;
  size_t columns = 0, first_line = 0;
  int64_t rows = 0;
  for (size_t line = 1, at = 0; at < text.size(); ++line) {
    size_t newline = text.find('\n', at);
    std::string_view content = text.substr(at, newline - at);
    at = newline == std::string_view::npos ? text.size() : newline + 1;
    if (trim(content).empty()) continue;
    std::vector<std::string_view> cells = split_cells(content);
    if (first_line == 0) {
      first_line = line;
      columns = cells.size();
      if (std::none_of(cells.begin(), cells.end(), is_number)) continue; // a header
    } else if (cells.size() != columns) {
      fail("{}: line {} has {} columns, line {} has {}", origin, line, cells.size(), first_line,
           columns);
    }
    for (size_t c = 0; c < cells.size(); ++c) {
      T value{};
      Parsed result = parse_cell(cells[c], value);
      if (result != Parsed::ok) bad_cell(origin, line, c + 1, cells[c], dtype, result);
      values.push_back(value);
    }
    ++rows;
  }
  if (first_line == 0) fail("{}: empty CSV file: no header and no rows", origin);
  // An empty batch would run and print nothing, which looks like success.
  if (rows == 0) fail("{}: no rows: the file holds only a header (line {})", origin, first_line);
  Tensor t(dtype, {rows, int64_t(columns)});
  // Not Tensor::from: an empty vector's data() may be null, and memcpy's must not be.
  if (!values.empty()) std::memcpy(t.raw(), values.data(), t.bytes());
  return t;
}

} // namespace

Tensor parse_csv(std::string_view text, DType dtype, const std::string &origin) {
  return visit_dtype(dtype,
                     [&](auto zero) { return parse_as<decltype(zero)>(text, dtype, origin); });
}

Tensor read_csv(const std::filesystem::path &path, DType dtype) {
  return parse_csv(read_file(path), dtype, fmt::format("'{}'", path.string()));
}

} // namespace kiln
