// The Communicator in a process started alone: a job of one, whose
// collectives leave their values as they are; and, in a build without MPI,
// the refusals (tests/distributed/mpi_test.cpp runs it across processes).
#include "distributed/communicator.h"

#include "test_util.h"

#include <cstdlib>

using namespace kiln;
using Catch::Matchers::Contains;

TEST_CASE("communicator: a process started alone is a job of one", "[communicator]") {
  REQUIRE_FALSE(Communicator::launched_by_mpirun());
  for (auto join : {CommunicatorOptions::Join::when_launched, CommunicatorOptions::Join::never}) {
    Communicator comm({.join = join});
    CHECK(comm.rank() == 0);
    CHECK(comm.size() == 1);
    CHECK_FALSE(comm.joined());
    std::vector<float> values{1.5f, -2.0f, 3.25f};
    comm.allreduce_mean(std::span(values));
    CHECK(values == std::vector<float>{1.5f, -2.0f, 3.25f});
    Tensor t = Tensor::from<double>({2}, std::vector<double>{0.1, 0.2});
    PendingAllreduce pending = comm.start_allreduce_mean(t);
    CHECK(pending.test());
    CHECK(t.data<double>()[1] == 0.2);
    Tensor labels = Tensor::from<int32_t>({3}, std::vector<int32_t>{1, 2, 3});
    CHECK_THROWS_WITH(comm.allreduce_mean(labels),
                      "rank 0: allreduce_mean of i32[3]: expected f32 or f64");
    comm.barrier();
  }
}

TEST_CASE("communicator: a build without MPI refuses to join a job", "[communicator]") {
  if (Communicator::built_with_mpi()) return; // kiln_mpi_tests covers that build
  CHECK_THROWS_WITH(Communicator({.join = CommunicatorOptions::Join::always}),
                    Contains("kiln was built without MPI"));
  // Each of the two processes would train alone on all the data.
  setenv("OMPI_COMM_WORLD_SIZE", "2", 1);
  CHECK_THROWS_WITH(Communicator(), "communicator: launched by mpirun as one of 2 processes, "
                                    "but kiln was built without MPI (configure with "
                                    "-DKILN_MPI=ON, libopenmpi-dev installed)");
  unsetenv("OMPI_COMM_WORLD_SIZE");
  CHECK(Communicator().size() == 1);
}
