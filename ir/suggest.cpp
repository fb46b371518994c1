#include "ir/suggest.h"

#include "ir/utf8.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <numeric>

namespace kiln {

namespace {

// Enough to see what is there without flooding the terminal for a graph of
// thousands of nodes.
constexpr size_t kListedNames = 20;

} // namespace

size_t edit_distance(std::string_view a, std::string_view b) {
  // Optimal string alignment: three rows of the dynamic-programming table.
  std::vector<size_t> before(b.size() + 1), above(b.size() + 1), row(b.size() + 1);
  std::iota(above.begin(), above.end(), size_t(0));
  for (size_t i = 1; i <= a.size(); ++i) {
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      row[j] = std::min({above[j] + 1, row[j - 1] + 1, above[j - 1] + (a[i - 1] != b[j - 1])});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
        row[j] = std::min(row[j], before[j - 2] + 1);
    }
    std::swap(before, above);
    std::swap(above, row);
  }
  return above[b.size()];
}

std::optional<std::string> closest_name(std::string_view name,
                                        const std::vector<std::string> &candidates) {
  size_t limit = std::max<size_t>(1, name.size() / 3);
  std::optional<std::string> best;
  size_t best_distance = limit + 1;
  for (const std::string &c : candidates) {
    // The distance is at least the difference in length: skip the long ones cheaply.
    size_t gap = c.size() > name.size() ? c.size() - name.size() : name.size() - c.size();
    if (gap >= best_distance) continue;
    size_t d = edit_distance(name, c);
    if (d < best_distance && d < name.size()) { // replacing every byte is no typo
      best_distance = d;
      best = c;
    }
  }
  return best;
}

std::string did_you_mean(std::string_view name, const std::vector<std::string> &candidates) {
  std::optional<std::string> near = closest_name(name, candidates);
  return near ? fmt::format("; did you mean '{}'?", *near) : "";
}

std::string unknown_name(std::string_view kind, std::string_view name,
                         const std::vector<std::string> &candidates, std::string_view list_title,
                         const std::vector<std::string> &listed) {
  std::string message = fmt::format("no {} named '{}'", kind, escaped(name));
  std::optional<std::string> near = closest_name(name, candidates);
  if (near) message += fmt::format("; did you mean '{}'?", *near);
  if (listed.empty()) return message;
  size_t shown = std::min(listed.size(), kListedNames);
  message += fmt::format("{} {}: {}", near ? "" : ";", list_title,
                         fmt::join(listed.begin(), listed.begin() + ptrdiff_t(shown), ", "));
  if (shown < listed.size()) message += fmt::format(" ... ({} more)", listed.size() - shown);
  return message;
}

} // namespace kiln
