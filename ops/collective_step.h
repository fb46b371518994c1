// The collective steps a plan runs between its kernels (runtime/plan.h), as
// the ops of ops/collectives.cpp lower to them: not compiled code but calls
// into the job's communicator, each over an input and an output buffer.
#pragma once

#include <cstdint>

namespace kiln {

enum class CollectiveStep : uint8_t {
  none,                  // compiled code
  start_allreduce_mean,  // copies the input into the output unless they are one buffer,
                         // then starts the output's mean over the ranks, in place
  finish_allreduce_mean, // waits for the mean started on the input, then copies it into
                         // the output unless they are one buffer
};

} // namespace kiln
