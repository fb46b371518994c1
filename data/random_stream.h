// The data pipeline's random numbers, from kiln's own generator so that a
// seed gives the same data on every platform, whatever the thread count.
#pragma once

#include "ops/random.h"

#include <cstdint>

namespace kiln {

// Uniform in [0, n), without modulo bias (Lemire's multiply-and-reject).
uint64_t uniform_below(ops::Random &rng, uint64_t n);

// The stream a pipeline's maps draw from for dataset row `index` in `epoch`:
// a function of the three numbers alone, never of which thread prepares the
// row, of its batch or of the rank that trains on it.
ops::Random example_random(uint64_t seed, int64_t epoch, int64_t index);

} // namespace kiln
