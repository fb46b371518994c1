#include "session/session.h"

#include "distributed/plan_collectives.h"
#include "ir/error.h"
#include "runtime/executor.h"
#include "runtime/plan.h"
#include "session/compiled_graph.h"
#include "session/data_parallel.h"
#include "session/profile.h"

#include <tbb/global_control.h>
#include <tbb/info.h>
#include <tbb/task_arena.h>

#include <algorithm>
#include <map>
#include <optional>
#include <tuple>

namespace kiln {

// What one run of a program writes: its arena and its plan bound to it.
// Runs in parallel each hold one; a finished run's are reused by the next.
struct Session::RunBuffers {
  Tensor arena; // the planned buffers, one byte per element
  std::optional<BoundPlan> bound;
};

// A program compiled for one batch size and one set of fetches and targets
// (the roots), from the graph the passes made of the session's, and its
// plan. Immutable once built, but for its pool of run buffers.
struct Session::Executable {
  CompiledGraph compiled;
  Plan plan;                             // variables by the session graph's ids
  std::vector<kiln_kernel_fn> functions; // by kernel
  std::vector<NodeId> input_nodes;       // by plan input: the session graph's placeholder
  bool runs_alone = false;               // it updates a variable, or talks to the other ranks
  bool collectives = false;              // it has collective steps
  bool collectives_checked = false;      // against the other ranks' (under the writing lock)
  int profile_program = -1;              // its number in the session's Profile, when profiling
  uint64_t last_use = 0;                 // under the cache's mutex

  std::mutex idle_mutex;
  std::vector<std::unique_ptr<RunBuffers>> idle;
};

struct Session::Runtime {
  compiler::Compiler compiler;
  // oneTBB caps its workers at the core count; a session asked for more
  // threads (to test or oversubscribe) lifts the cap while it lives.
  std::unique_ptr<tbb::global_control> more_threads;
  tbb::task_arena arena;
  // By batch size, fetch count and roots (fetches, then targets); shared, so
  // that a program evicted while a run uses it lives until that run ends.
  std::map<std::tuple<int64_t, size_t, std::vector<NodeId>>, std::shared_ptr<Executable>> cache;
  uint64_t clock = 0; // counts uses, for least-recently-used eviction
  // Held while looking up or compiling a program: each is compiled once,
  // however many threads ask for it at once.
  std::mutex cache_mutex;
  std::optional<CommunicatorCollectives> collectives; // with a communicator

  explicit Runtime(const SessionOptions &o)
      : compiler(o.compile), arena(o.threads > 0 ? o.threads : tbb::task_arena::automatic) {
    if (o.communicator) collectives.emplace(*o.communicator);
    if (o.threads > tbb::info::default_concurrency())
      more_threads = std::make_unique<tbb::global_control>(
          tbb::global_control::max_allowed_parallelism, size_t(o.threads));
  }
};

Session::Session(Graph graph, SessionOptions options)
    : graph_(std::move(graph)), options_(options), runtime_(std::make_unique<Runtime>(options)),
      profile_(std::make_unique<Profile>()) {
  variables_.resize(graph_.size());
  if (options_.communicator && options_.communicator->size() > 1)
    options_.passes.data_parallel.on = true;
}

namespace {

// `make()`, with an allocation that fails saying what it was for.
template <typename F> auto allocating(size_t bytes, const std::string &what, F &&make) {
  try {
    return make();
  } catch (const std::bad_alloc &) {
    fail("cannot allocate {} for {}: out of memory", human_bytes(bytes), what);
  }
}

} // namespace

Tensor &Session::variable_storage(NodeId id) const {
  std::lock_guard lock(variables_init_mutex_);
  Tensor &t = variables_[size_t(id)];
  if (!t.empty_handle()) return t;
  const Node &n = graph_.node(id);
  size_t bytes = size_t(num_elements(n.type.shape)) * byte_size(n.type.dtype);
  if (options_.max_buffer_bytes && bytes > options_.max_buffer_bytes)
    fail("variable '{}' ({}) needs {}, over SessionOptions::max_buffer_bytes ({})", n.name,
         to_string(n.type), human_bytes(bytes), human_bytes(options_.max_buffer_bytes));
  Tensor value = allocating(bytes, fmt::format("variable '{}' ({})", n.name, to_string(n.type)),
                            [&] { return Tensor(n.type.dtype, n.type.shape); });
  n.op->reference(n, {}, value);
  t = std::move(value);
  return t;
}

Session::~Session() = default;

NodeId Session::variable_id(const NodeRef &v) const {
  NodeId id = v.resolve(graph_);
  if (graph_.node(id).op->source != Source::variable)
    fail("{} is not a variable", graph_.node(id).describe());
  return id;
}

Tensor Session::variable(const NodeRef &v) const {
  std::shared_lock lock(variables_mutex_);
  return variable_storage(variable_id(v)).clone();
}

void Session::set_variable(const NodeRef &v, const Tensor &value) {
  std::unique_lock lock(variables_mutex_);
  NodeId id = variable_id(v);
  Tensor &current = variable_storage(id);
  if (value.dtype() != current.dtype() || value.shape() != current.shape())
    fail("variable '{}': expected {}, got {}", graph_.node(id).name, current.summary(),
         value.summary());
  std::memcpy(current.raw(), value.raw(), value.bytes());
}

// Fails naming the first computed node whose output would pass the limit,
// before anything is compiled or allocated.
void Session::check_buffer_limit(const Graph &g, int64_t batch_size) const {
  if (!options_.max_buffer_bytes) return;
  std::vector<TensorType> types = bind_types(g, batch_size);
  for (const Node &n : g.nodes()) {
    size_t bytes = size_t(num_elements(types[size_t(n.id)].shape)) * byte_size(n.type.dtype);
    bool allocated = n.op->source == Source::none || n.op->source == Source::variable;
    if (allocated && bytes > options_.max_buffer_bytes)
      fail("{} ({} at batch {}) needs {}, over SessionOptions::max_buffer_bytes ({})", n.describe(),
           to_string(types[size_t(n.id)]), batch_size, human_bytes(bytes),
           human_bytes(options_.max_buffer_bytes));
  }
}

std::shared_ptr<Session::Executable> Session::executable(int64_t batch_size,
                                                         const std::vector<NodeId> &roots,
                                                         size_t fetches, bool &compiled_now) {
  std::lock_guard lock(runtime_->cache_mutex);
  auto key = std::make_tuple(batch_size, fetches, roots);
  auto found = runtime_->cache.find(key);
  compiled_now = found == runtime_->cache.end();
  if (!compiled_now) {
    found->second->last_use = ++runtime_->clock;
    return found->second;
  }

  auto e = std::make_shared<Executable>();
  Profile::CompileTimes times;
  times.start = Profile::Clock::now();
  // Units compile in parallel on the session's threads.
  runtime_->arena.execute([&] {
    RootedGraph optimized = optimize({graph_, roots}, options_.passes);
    check_buffer_limit(optimized.graph, batch_size);
    times.passes_done = Profile::Clock::now();
    e->compiled = compile_graph(runtime_->compiler, std::move(optimized), batch_size,
                                options_.memory_planning);
    times.compiled = Profile::Clock::now();
  });
  const Graph &g = e->compiled.graph.graph;
  const compiler::Program &program = e->compiled.program;
  const std::optional<compiler::MemoryPlan> &plan = e->compiled.memory;
  if (plan && options_.max_arena_bytes && plan->arena_bytes > options_.max_arena_bytes)
    fail("the program for batch {} ({} kernels) needs an arena of {}, over "
         "SessionOptions::max_arena_bytes ({})",
         batch_size, program.kernels.size(), human_bytes(plan->arena_bytes),
         human_bytes(options_.max_arena_bytes));
  e->plan = make_plan(e->compiled, fmt::format("batch {}", batch_size), fetches,
                      {.variable = [&](const Node &n) { return int64_t(graph_.at(n.name)); },
                       .constant = [](const Node &n) { return int64_t(n.id); },
                       .function = [](size_t k) { return uint32_t(k); }});
  for (const compiler::Kernel &k : program.kernels) e->functions.push_back(k.fn);
  for (const TensorSpec &input : e->plan.inputs) e->input_nodes.push_back(graph_.at(input.name));
  for (const Node &n : g.nodes()) e->runs_alone |= n.op->updates_variable;
  // Collectives go in the same order on every rank: one run at a time.
  e->collectives = has_collectives(e->plan);
  e->runs_alone |= e->collectives;
  if (Communicator *c = options_.communicator; c && c->size() > 1 && !e->collectives)
    check_averages_what_it_trains(g, c->size());
  ++stats_.compilations;
  stats_.last_compile_ms = program.stats.total_ms;
  stats_.total_compile_ms += program.stats.total_ms;
  stats_.last_compile = program.stats;
  stats_.last_kernels = program.kernels.size();
  stats_.last_arena_bytes = plan ? plan->arena_bytes : 0;
  stats_.last_buffer_bytes = plan ? plan->total_bytes : 0;
  stats_.last_peak_live_bytes = plan ? plan->peak_live_bytes : 0;
  e->last_use = ++runtime_->clock;
  times.done = Profile::Clock::now();
  if (options_.profile) e->profile_program = profile_->add_program(e->compiled, batch_size, times);
  auto &cache = runtime_->cache;
  if (cache.size() >= std::max<size_t>(options_.max_programs, 1)) {
    auto oldest = std::min_element(cache.begin(), cache.end(), [](const auto &a, const auto &b) {
      return a.second->last_use < b.second->last_use;
    });
    cache.erase(oldest);
  }
  cache.emplace(std::move(key), e);
  stats_.cached_programs = cache.size();
  return e;
}

// An idle set of run buffers of `e`, or a new one: sources point at their
// data (placeholders at their feeds, in run()).
std::unique_ptr<Session::RunBuffers> Session::acquire_buffers(Executable &e) {
  {
    std::lock_guard lock(e.idle_mutex);
    if (!e.idle.empty()) {
      std::unique_ptr<RunBuffers> b = std::move(e.idle.back());
      e.idle.pop_back();
      return b;
    }
  }
  auto b = std::make_unique<RunBuffers>();
  const Graph &g = e.compiled.graph.graph;
  const compiler::Program &program = e.compiled.program;
  if (size_t bytes = e.plan.arena_bytes)
    b->arena = allocating(
        bytes, fmt::format("the arena of a program of {} kernels", program.kernels.size()),
        [&] { return Tensor(DType::boolean, {int64_t(bytes)}); });
  b->bound.emplace(
      e.plan,
      PlanStorage{
          .arena = static_cast<std::byte *>(b->arena.raw()),
          .variable = [&](int64_t id) { return variable_storage(NodeId(id)).raw(); },
          .constant = [&](int64_t id) { return g.node(NodeId(id)).attr_tensor("value").raw(); },
          .functions = e.functions,
          .describe_own =
              [&](size_t i) {
                const compiler::BufferInfo &info = program.buffers[i];
                NodeId owner = info.owner >= 0 ? info.owner : info.node;
                return fmt::format("{} of node '{}'", info.node < 0 ? "scratch" : "the output",
                                   owner >= 0 ? g.node(owner).name : "?");
              }});
  return b;
}

std::vector<Tensor> Session::run(const Feeds &feeds, const std::vector<NodeRef> &fetches,
                                 const std::vector<NodeRef> &targets) {
  Profile::Clock::time_point begin;
  if (options_.profile) begin = Profile::Clock::now();
  BoundFeeds bound = bind_feeds(graph_, feeds);
  std::vector<NodeId> roots;
  for (const NodeRef &f : fetches) roots.push_back(f.resolve(graph_, NodeRef::Role::fetch));
  for (const NodeRef &t : targets) roots.push_back(t.resolve(graph_));
  needed_nodes(graph_, roots, bound); // fails naming a placeholder that is needed but not fed

  bool compiled_now = false;
  std::shared_ptr<Executable> e = executable(bound.batch_size, roots, fetches.size(), compiled_now);
  // Readers-writer: runs that update variables (and profiled runs, which
  // share the profile) run alone; runs that only read them, side by side.
  std::shared_lock<std::shared_mutex> reading(variables_mutex_, std::defer_lock);
  std::unique_lock<std::shared_mutex> writing(variables_mutex_, std::defer_lock);
  if (e->runs_alone || options_.profile)
    writing.lock();
  else
    reading.lock();
  // Under the writing lock: no other run's collectives are under way.
  if (e->collectives && options_.communicator && !e->collectives_checked) {
    runtime_->collectives->check_same_schedule(e->plan);
    e->collectives_checked = true;
  }
  // A profiled run's time starts after any compilation it did.
  if (options_.profile && compiled_now) begin = Profile::Clock::now();
  std::unique_ptr<RunBuffers> b = acquire_buffers(*e);
  std::vector<const void *> inputs(e->input_nodes.size(), nullptr);
  for (size_t i = 0; i < inputs.size(); ++i)
    for (const auto &[id, tensor] : bound.feeds)
      if (id == e->input_nodes[i]) inputs[i] = tensor.raw();
  runtime_->arena.execute([&] {
    b->bound->run(inputs.data(),
                  {.flush_denormals = options_.flush_denormals,
                   .clock = options_.profile ? profile_->kernel_clock(e->profile_program)
                                             : std::span<Profile::Clock::time_point>(),
                   .collectives = runtime_->collectives ? &*runtime_->collectives : nullptr,
                   .inter_op = options_.inter_op});
  });

  std::vector<Tensor> results;
  for (size_t f = 0; f < fetches.size(); ++f) {
    const TensorSpec &spec = e->plan.outputs[f];
    Tensor out(spec.dtype, spec.shape);
    std::memcpy(out.raw(), b->bound->output(f, inputs.data()), out.bytes());
    results.push_back(std::move(out));
  }
  {
    std::lock_guard lock(e->idle_mutex);
    e->idle.push_back(std::move(b));
  }
  if (options_.profile) profile_->add_run(e->profile_program, begin, Profile::Clock::now());
  return results;
}

} // namespace kiln
