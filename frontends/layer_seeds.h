// Seeding for the layers that create several variables of one shape (LSTM
// and GRU weights, attention projections): a layer's seed is mixed with each
// variable's name, so that W_ih and W_hh, or b_ih and b_hh, never start out
// equal. (nn::dense gives its W and b the seed itself; their shapes differ.)
#pragma once

#include "ops/builder.h"
#include "ops/random.h"

#include <string_view>

namespace kiln::nn {

// `init` seeded from (seed, the scoped name of the variable to create as
// `name`) when seed >= 0 and init has no seed of its own; else unchanged.
inline Init seeded_for(const Graph &g, Init init, int64_t seed, std::string_view name) {
  if (seed < 0 || init.seed_value >= 0) return init;
  uint64_t h = ops::stable_hash(g.scope_prefix() + std::string(name)) ^
               (uint64_t(seed) * 0x9e3779b97f4a7c15ull);
  return init.seed(int64_t(h >> 1)); // seeds are non-negative
}

// A variable named `name` in the current scope, seeded as above.
inline Value seeded_variable(Graph &g, std::string name, DType dtype, Shape shape, Init init,
                             int64_t seed) {
  Init i = seeded_for(g, init, seed, name);
  return variable(g, std::move(name), dtype, std::move(shape), i);
}

} // namespace kiln::nn
