// What a Session checks of a data-parallel program besides its collective
// schedule (runtime/communicator_collectives.h): that it averages what it
// trains.
#pragma once

#include "ir/graph.h"

namespace kiln {

// Fails when `g`, compiled for a job of `ranks` ranks without a collective,
// updates a trainable variable: each rank would train alone, silently (a
// graph saved before the optimizers averaged their gradients, or updates
// written by hand).
void check_averages_what_it_trains(const Graph &g, int ranks);

} // namespace kiln
