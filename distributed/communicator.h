// The processes of a data-parallel job and the collectives they train with:
// MPI underneath (Debian's Open MPI, launched by mpirun), kept out of this
// header so that programs need no MPI headers. A process not launched by
// mpirun, or a kiln built without MPI (KILN_MPI off), is a job of one:
// rank 0, size 1, and every collective leaves its values as they are.
//
//   kiln::Communicator comm;                  // MPI_Init under mpirun
//   comm.allreduce_mean(gradient);            // the mean over the ranks, in place
//
// Reductions run in a fixed order (rank 0's values + rank 1's + ..., then
// divided by the size), whatever algorithm MPI picks to move the data: two
// runs with the same number of ranks are bit-identical, and equal a serial
// sum in rank order (docs/decisions.md, Scale out).
#pragma once

#include "ir/tensor.h"

#include <memory>
#include <span>
#include <vector>

namespace kiln {

struct CommunicatorOptions {
  // When to join an MPI job (MPI_Init): when the environment says that
  // mpirun (or another MPI launcher) started this process; always (a
  // process started alone joins a job of one); or never (size 1).
  enum class Join { when_launched, always, never };
  Join join = Join::when_launched;
};

// An allreduce under way (Communicator::start_allreduce_mean): its values
// hold the mean once test() returns true or wait() returns. MPI advances it
// only inside MPI calls, so call test() now and then to keep it moving.
// Destroying it waits: MPI may still write the values.
class PendingAllreduce {
public:
  // What a backend keeps of an allreduce under way.
  struct State {
    virtual ~State() = default;
    virtual bool test() = 0;
    virtual void wait() = 0;
  };

  PendingAllreduce() = default; // done already
  explicit PendingAllreduce(std::unique_ptr<State> state) : state_(std::move(state)) {}
  PendingAllreduce(PendingAllreduce &&) noexcept = default;
  PendingAllreduce &operator=(PendingAllreduce &&other) noexcept;
  ~PendingAllreduce();

  bool test();
  void wait();

private:
  void finish() noexcept; // waits; a failure aborts (a destructor cannot throw)

  std::unique_ptr<State> state_; // null once done
};

// Not thread-safe: calls must not overlap, and every rank starts the same
// collectives in the same order (as MPI requires); any thread may make them.
// Collectives started from it must finish before it is destroyed.
class Communicator {
public:
  explicit Communicator(CommunicatorOptions options = {});
  ~Communicator(); // MPI_Finalize when it called MPI_Init and no other Communicator lives
  Communicator(const Communicator &) = delete;
  Communicator &operator=(const Communicator &) = delete;

  int rank() const { return rank_; }
  int size() const { return size_; }
  // Part of an MPI job (a job of one included, under Join::always).
  bool joined() const { return impl_ != nullptr; }

  // The element-wise mean over the ranks, in place. Every rank passes a
  // buffer of the same length and dtype (f32 or f64).
  void allreduce_mean(std::span<float> values);
  void allreduce_mean(std::span<double> values);
  void allreduce_mean(Tensor &values);
  // The element-wise sum over the ranks, in place, in the same fixed order
  // (counts and totals; every rank passes a buffer of the same length).
  void allreduce_sum(std::span<double> values);
  // allreduce_mean, started: the values must stay put until it is done.
  PendingAllreduce start_allreduce_mean(std::span<float> values);
  PendingAllreduce start_allreduce_mean(std::span<double> values);
  PendingAllreduce start_allreduce_mean(Tensor &values);

  void barrier();

  // Every rank's `values` (of one length on every rank), rank after rank.
  std::vector<uint64_t> allgather(std::span<const uint64_t> values);

  // Whether the environment says an MPI launcher started this process.
  static bool launched_by_mpirun();
  // Whether this kiln was built with MPI (CMake option KILN_MPI).
  static bool built_with_mpi();

  struct Impl;

private:
  std::unique_ptr<Impl> impl_; // null when not joined
  int rank_ = 0, size_ = 1;
};

} // namespace kiln
