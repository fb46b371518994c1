// What the MPI and single-process backends share (mpi_backend.cpp,
// single_process.cpp define the rest).
#include "distributed/communicator.h"

#include "ir/error.h"

#include <cstdio>
#include <cstdlib>

namespace kiln {

PendingAllreduce &PendingAllreduce::operator=(PendingAllreduce &&other) noexcept {
  if (this != &other) {
    finish();
    state_ = std::move(other.state_);
  }
  return *this;
}

PendingAllreduce::~PendingAllreduce() { finish(); }

void PendingAllreduce::finish() noexcept {
  if (!state_) return;
  try {
    wait();
  } catch (const std::exception &e) {
    // MPI can neither cancel a collective nor let its buffers go under it.
    fmt::print(stderr, "kiln: an allreduce dropped unfinished failed: {}\n", e.what());
    std::abort();
  }
}

bool PendingAllreduce::test() {
  if (state_ && state_->test()) state_.reset();
  return !state_;
}

void PendingAllreduce::wait() {
  if (!state_) return;
  state_->wait();
  state_.reset();
}

void Communicator::allreduce_mean(std::span<float> values) { start_allreduce_mean(values).wait(); }

void Communicator::allreduce_mean(std::span<double> values) { start_allreduce_mean(values).wait(); }

void Communicator::allreduce_mean(Tensor &values) { start_allreduce_mean(values).wait(); }

PendingAllreduce Communicator::start_allreduce_mean(Tensor &values) {
  switch (values.dtype()) {
  case DType::f32: return start_allreduce_mean(values.data<float>());
  case DType::f64: return start_allreduce_mean(values.data<double>());
  default: fail("rank {}: allreduce_mean of {}: expected f32 or f64", rank_, values.summary());
  }
}

bool Communicator::launched_by_mpirun() {
  // Open MPI's mpirun, MPICH's Hydra and Slurm (PMI), PMIx launchers.
  for (const char *name : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK"})
    if (std::getenv(name)) return true;
  return false;
}

} // namespace kiln
