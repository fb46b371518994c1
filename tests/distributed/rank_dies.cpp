// A rank dies mid-training (tests/distributed/rank_dies.sh): under mpirun,
// every rank trains an MLP data-parallel, rank 0 saves a checkpoint after
// each step, and at step --die-at rank 1 kills itself (SIGKILL: no
// MPI_Finalize, no unwinding). With --resume, one process restores the last
// checkpoint, trains on and prints the step it resumed at.
//
//   mpirun -np 2 kiln_rank_dies --die-at 4 --dir DIR;  kiln_rank_dies --resume DIR/last.ckpt
#include "distributed/communicator.h"
#include "frontends/losses.h"
#include "frontends/nn.h"
#include "frontends/optim.h"
#include "session/checkpoint.h"
#include "session/session.h"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <cmath>
#include <csignal>
#include <filesystem>

using namespace kiln;

int main(int argc, char **argv) try {
  CLI::App app("a data-parallel job whose rank 1 dies");
  int die_at = 4;
  std::string dir, resume;
  app.add_option("--die-at", die_at, "the step at which rank 1 dies");
  app.add_option("--dir", dir, "where rank 0 saves last.ckpt after each step");
  app.add_option("--resume", resume, "restore this checkpoint alone and train on");
  CLI11_PARSE(app, argc, argv);

  Graph g;
  Value x = placeholder(g, "x", f32, {batch, 4});
  Value y = placeholder(g, "y", i32, {batch});
  Value logits = nn::dense(g, nn::dense(g, x, 8, nn::relu, {.seed = 1}), 2, {}, {.seed = 2});
  Value loss = mean(nn::softmax_cross_entropy(logits, y));
  Value train = optim::Adam{.lr = 0.01}.minimize(loss);
  Tensor inputs(f32, {8, 4}), labels(i32, {8});
  for (int64_t i = 0; i < 32; ++i) inputs.set(i, std::sin(double(i)));
  for (int64_t i = 0; i < 8; ++i) labels.set(i, double(i % 2));
  Feeds feeds = {{x, inputs}, {y, labels}};

  Communicator comm;
  Session s(g, {.threads = 1, .communicator = resume.empty() ? &comm : nullptr});
  if (!resume.empty()) {
    restore_checkpoint(s, resume);
    int64_t step = int64_t(s.variable("global_step").get(0));
    for (int i = 0; i < 2; ++i) s.run(feeds, {loss}, {train});
    fmt::print("resumed at step {}, now at step {}\n", step,
               int64_t(s.variable("global_step").get(0)));
    return 0;
  }
  for (int step = 1;; ++step) {
    if (step == die_at && comm.rank() == 1) std::raise(SIGKILL);
    s.run(feeds, {loss}, {train});
    if (comm.rank() == 0) save_checkpoint(s, std::filesystem::path(dir) / "last.ckpt");
  }
} catch (const std::exception &e) {
  fmt::print(stderr, "kiln_rank_dies: error: {}\n", e.what());
  return 1;
}
