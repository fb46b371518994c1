// What `kiln dump` reports of the pipeline as it runs, as PassObservers
// (passes/pass.h): the listing after each pass (--print-after-all) and a
// table of the passes' times (--time-passes).
#pragma once

#include "passes/pass.h"

#include <cstdint>
#include <string>
#include <vector>

namespace kiln::tools {

// "# after NAME", then the listing of the graph the pass made; or
// "# after NAME: unchanged" when it made the same graph with the same roots.
// `max_values` as for to_listing (ir/listing.h).
std::string after_pass_text(const Pass &pass, const RootedGraph &before, const RootedGraph &after,
                            int64_t max_values);

class PassTimes {
public:
  void record(const Pass &pass, const RootedGraph &before, const RootedGraph &after,
              double seconds);
  // One line per pass (its time and the node count before and after it),
  // then the total.
  std::string table() const;

private:
  struct Row {
    std::string pass;
    double seconds;
    size_t nodes_before, nodes_after;
  };
  std::vector<Row> rows_;
};

} // namespace kiln::tools
