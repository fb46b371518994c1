// The Communicator's allreduce_mean against MPI_Allreduce (MPI_SUM, then a
// division, as a peer would average gradients), on one f32 buffer:
// latency as bench/timing.h measures it (block medians of single calls, in
// µs), printed by rank 0. kiln's is the fixed-order reduction
// (distributed/mpi_backend.cpp); MPI_Allreduce's order is its algorithm's.
//
//   mpirun --allow-run-as-root -np 2 build/allreduce_bench [--mib 4] [--calls 100]
#include "distributed/communicator.h"
#include "timing.h"

#include <CLI/CLI.hpp>
#include <mpi.h>

#include <vector>

int main(int argc, char **argv) {
  CLI::App app("allreduce_mean against MPI_Allreduce");
  double mib = 4;
  int calls = 100;
  app.add_option("--mib", mib, "buffer size in MiB");
  app.add_option("--calls", calls, "calls per block (7 blocks, after 200 warm-up calls)");
  CLI11_PARSE(app, argc, argv);

  kiln::Communicator comm(
      kiln::CommunicatorOptions{.join = kiln::CommunicatorOptions::Join::always});
  std::vector<float> values(size_t(mib * (1 << 20) / sizeof(float)), 1.0f);
  auto kiln_mean = [&] { comm.allreduce_mean(std::span(values)); };
  auto mpi_mean = [&] {
    MPI_Allreduce(MPI_IN_PLACE, values.data(), int(values.size()), MPI_FLOAT, MPI_SUM,
                  MPI_COMM_WORLD);
    for (float &v : values) v /= float(comm.size());
  };
  std::vector<double> kiln_us = kiln::bench::latency_blocks(kiln_mean, calls);
  std::vector<double> mpi_us = kiln::bench::latency_blocks(mpi_mean, calls);
  if (comm.rank() == 0) {
    std::string size = fmt::format("{}MiB_{}ranks", mib, comm.size());
    kiln::bench::result("allreduce_mean_fixed_order_" + size, kiln_us, "us");
    kiln::bench::result("MPI_Allreduce_" + size, mpi_us, "us");
  }
}
