#include "tools/pass_report.h"

#include "ir/listing.h"

#include <fmt/format.h>

namespace kiln::tools {

std::string after_pass_text(const Pass &pass, const RootedGraph &before, const RootedGraph &after,
                            int64_t max_values) {
  if (after.graph == before.graph && after.roots == before.roots)
    return fmt::format("# after {}: unchanged\n", pass.name);
  return fmt::format("# after {}\n{}", pass.name, to_listing(after.graph, max_values));
}

void PassTimes::record(const Pass &pass, const RootedGraph &before, const RootedGraph &after,
                       double seconds) {
  rows_.push_back({pass.name, seconds, before.graph.size(), after.graph.size()});
}

std::string PassTimes::table() const {
  std::string out = fmt::format("{:<16} {:>10}  {}\n", "pass", "time (ms)", "nodes");
  double total = 0;
  for (const Row &r : rows_) {
    out += fmt::format("{:<16} {:>10.3f}  {} -> {}\n", r.pass, r.seconds * 1e3, r.nodes_before,
                       r.nodes_after);
    total += r.seconds;
  }
  return out + fmt::format("{:<16} {:>10.3f}\n", "total", total * 1e3);
}

} // namespace kiln::tools
