// A plan's collective steps over a Communicator (runtime/executor.h's
// PlanCollectives), for a Session and an ahead-of-time instance alike:
//
//   kiln::CommunicatorCollectives collectives(comm);
//   model.set_collectives(&collectives); // an instance of `kiln compile --data-parallel`
//
// Here and not in the runtime, so that a host program without data
// parallelism links no MPI.
#pragma once

#include "distributed/communicator.h"
#include "runtime/executor.h"

#include <utility>
#include <vector>

namespace kiln {

class CommunicatorCollectives final : public PlanCollectives {
public:
  explicit CommunicatorCollectives(Communicator &communicator) : communicator_(communicator) {}

  void start_allreduce_mean(int64_t key, void *values, DType dtype, int64_t elements) override;
  void progress() override;
  void finish_allreduce_mean(int64_t key) override;
  void finish_all() noexcept override;
  // By their fingerprints: each step's kind, dtype and size (the first 32,
  // and a hash of all), gathered from every rank; the message names the
  // ranks that differ from rank 0 and the first differing step.
  void check_same_schedule(const Plan &plan) override;

private:
  Communicator &communicator_;
  std::vector<std::pair<int64_t, PendingAllreduce>> under_way_; // by key, in start order
};

} // namespace kiln
