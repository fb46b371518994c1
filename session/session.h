// A Session runs a graph the TensorFlow 1.x way: run(feeds, fetches,
// targets) computes the fetches (and runs the targets for their effects)
// with code compiled for the concrete batch size, cached across runs.
// Variables live in the session, initialized from their initializers when
// first needed (a variable no run uses is never allocated).
// Runs from several threads are safe, as TensorFlow's are: each program is
// compiled once however many threads ask for it; runs that only read the
// variables proceed in parallel, each with buffers of its own; runs whose
// targets update variables (and all runs when profiling) run alone, so
// results are always those of some serial order. stats() and profile() are
// for reading between runs.
#pragma once

#include "compiler/compile.h"
#include "ir/graph.h"
#include "passes/pass.h"
#include "runtime/node_ref.h"

#include <memory>
#include <mutex>
#include <shared_mutex>
#include <vector>

namespace kiln {

class Communicator;
class Profile;

struct SessionOptions {
  int threads = 0; // 0: all cores
  // Compiled programs kept (one per batch size and set of fetches); beyond
  // this the least recently used one is freed, so varying batch sizes do not
  // grow memory without bound.
  size_t max_programs = 16;
  // What the optimizing passes may do (passes/pass.h).
  PipelineOptions passes = {};
  // Intermediate buffers share one arena, laid out by the memory planner
  // (compiler/memory_plan.h); off: each buffer has storage of its own.
  bool memory_planning = true;
  // How kernels are compiled: the disk cache (on by default; KILN_CACHE=off
  // turns it off as well), deduplication, printing IR (compiler/compile.h).
  compiler::CompileOptions compile = {};
  // Record where compilation time goes and each kernel's wall time in every
  // run (session/profile.h: a table and a Chrome trace). Off, it costs a
  // few branches per run and none per kernel.
  bool profile = false;
  // Kernels flush denormal floats to zero (flush-to-zero and
  // denormals-are-zero, as TensorFlow's executor and PyTorch's
  // set_flush_denormal(True) do): tiny values then cost no more than others.
  // The caller's floating-point state is restored after each run.
  bool flush_denormals = true;
  // Kernels that do not depend on each other run side by side on the
  // session's threads (runtime/kernel_graph.h), results unchanged bit for
  // bit; off, one after another in the program's order.
  bool inter_op = true;
  // Limits checked before anything is allocated (0: none): a program whose
  // arena, or any single buffer or variable, would be larger fails with a
  // message naming it, instead of thrashing.
  size_t max_arena_bytes = 0;
  size_t max_buffer_bytes = 0;
  // The job this process trains in, data-parallel (distributed/communicator.h);
  // none, or one of one rank: alone. With several ranks the gradients'
  // allreduce_mean nodes (the optimizers') average over them, in buckets of
  // passes.data_parallel.bucket_bytes, and every rank must run the same
  // training steps in the same order, at the same batch sizes (a program
  // with collectives checks, when compiled, that every rank compiled the
  // same one), as fit() does. It must outlive the Session.
  Communicator *communicator = nullptr;
};

struct SessionStats {
  int compilations = 0;
  size_t cached_programs = 0;
  double last_compile_ms = 0;
  double total_compile_ms = 0;
  compiler::CompileStats last_compile; // where the last compilation's time went
  // The last compiled program: its kernel count and its memory plan's
  // figures (compiler::MemoryPlan; zeros when memory planning is off).
  size_t last_kernels = 0;
  size_t last_arena_bytes = 0;
  size_t last_buffer_bytes = 0;    // the arena's buffers summed
  size_t last_peak_live_bytes = 0; // the largest set of them live at one kernel
};

class Session {
public:
  explicit Session(Graph graph, SessionOptions options = {});
  ~Session();
  Session(const Session &) = delete;
  Session &operator=(const Session &) = delete;

  std::vector<Tensor> run(const Feeds &feeds, const std::vector<NodeRef> &fetches,
                          const std::vector<NodeRef> &targets = {});

  const Graph &graph() const { return graph_; }
  // A copy of a variable's current value; set_variable checks dtype and shape.
  Tensor variable(const NodeRef &v) const;
  void set_variable(const NodeRef &v, const Tensor &value);
  const SessionStats &stats() const { return stats_; }
  // SessionOptions::communicator: the job this session trains in, or null.
  Communicator *communicator() const { return options_.communicator; }
  // What SessionOptions::profile recorded; empty when it is off.
  const Profile &profile() const { return *profile_; }

private:
  struct Executable;
  struct RunBuffers;
  std::shared_ptr<Executable> executable(int64_t batch_size, const std::vector<NodeId> &roots,
                                         size_t fetches, bool &compiled_now);
  std::unique_ptr<RunBuffers> acquire_buffers(Executable &e);
  void check_buffer_limit(const Graph &g, int64_t batch_size) const;
  NodeId variable_id(const NodeRef &v) const;
  Tensor &variable_storage(NodeId id) const; // allocated and initialized on first use

  Graph graph_;
  SessionOptions options_;
  SessionStats stats_;
  mutable std::vector<Tensor> variables_; // by node id; empty until first used
  mutable std::mutex variables_init_mutex_;
  struct Runtime;
  std::unique_ptr<Runtime> runtime_;
  std::unique_ptr<Profile> profile_;
  // Shared by runs that read the variables and by variable(); held alone by
  // runs that update them and by set_variable().
  mutable std::shared_mutex variables_mutex_;
};

} // namespace kiln
