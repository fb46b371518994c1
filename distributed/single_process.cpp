// The Communicator of a kiln built without MPI (KILN_MPI off): a job of one.
#include "distributed/communicator.h"

#include "ir/error.h"

#include <cstdlib>
#include <string_view>

namespace kiln {

struct Communicator::Impl {};

namespace {

// The job size a launcher announces, 1 when none does.
std::string_view launched_size() {
  for (const char *name : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE"})
    if (const char *size = std::getenv(name)) return size;
  return "1";
}

} // namespace

Communicator::Communicator(CommunicatorOptions options) {
  using Join = CommunicatorOptions::Join;
  if (options.join == Join::always)
    fail("communicator: kiln was built without MPI (configure with -DKILN_MPI=ON, "
         "libopenmpi-dev installed)");
  // Each process would otherwise train alone, silently, on all the data.
  if (options.join == Join::when_launched && launched_size() != "1")
    fail("communicator: launched by mpirun as one of {} processes, but kiln was built without "
         "MPI (configure with -DKILN_MPI=ON, libopenmpi-dev installed)",
         launched_size());
}

Communicator::~Communicator() = default;

PendingAllreduce Communicator::start_allreduce_mean(std::span<float>) { return {}; }
PendingAllreduce Communicator::start_allreduce_mean(std::span<double>) { return {}; }
void Communicator::allreduce_sum(std::span<double>) {}
void Communicator::barrier() {}
std::vector<uint64_t> Communicator::allgather(std::span<const uint64_t> values) {
  return {values.begin(), values.end()};
}
bool Communicator::built_with_mpi() { return false; }

} // namespace kiln
