// How a plan's collective steps run over a Communicator, for a Session and
// an ahead-of-time instance alike: the steps' calls, and the check, before a
// plan first runs, that every rank compiled the same collective schedule (a
// rank that would reduce different buckets would otherwise hang the job or
// average garbage).
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

  Communicator &communicator() const { return communicator_; }

private:
  Communicator &communicator_;
  std::vector<std::pair<int64_t, PendingAllreduce>> under_way_; // by key, in start order
};

// Whether `plan` has collective steps.
bool has_collectives(const Plan &plan);

// Every rank calls it with its plan (a collective itself); fails on every
// rank at once, naming the ranks whose schedule differs from rank 0's and
// the first bucket that differs, when they are not all the same.
void check_same_collectives(const Plan &plan, Communicator &communicator);

} // namespace kiln
