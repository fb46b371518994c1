#include "session/data_parallel.h"

#include "ir/error.h"
#include "ops/builder.h"
#include "passes/rewrite.h"

namespace kiln {

void check_averages_what_it_trains(const Graph &g, int ranks) {
  std::vector<NodeId> storage = variable_storage(g);
  for (const Node &n : g.nodes())
    for (NodeId v : variables_written(n, storage))
      if (is_trainable(g.node(v)))
        fail("node '{}' updates the trainable variable '{}' but the program averages "
             "nothing over the job's {} ranks, so each would train alone: build its updates "
             "with an optimizer of kiln::optim (they average the gradients; a graph saved "
             "before they did must be built again)",
             n.name, g.node(v).name, ranks);
}

} // namespace kiln
