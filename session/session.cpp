#include "session/session.h"

#include "ir/error.h"
#include "session/compiled_graph.h"
#include "session/profile.h"
#include "runtime/executor.h"

#include <tbb/global_control.h>
#include <tbb/info.h>
#include <tbb/task_arena.h>

#include <algorithm>
#include <map>

namespace kiln {

// A program compiled for one batch size and one set of fetches and targets
// (the roots), from the graph the passes made of the session's; its buffers
// are allocated once.
struct Session::Executable {
  CompiledGraph compiled;
  Tensor arena;                  // the planned buffers, one byte per element
  std::vector<Tensor> storage;   // computed and scratch buffers outside the arena
  std::vector<void *> table;     // by buffer index
  std::vector<void *> args;      // the kernels' args, from the table, kernel after kernel
  std::vector<size_t> first_arg; // by kernel
  // The args that are placeholders' buffers (index into args, into table):
  // the only ones a run changes, as it points the placeholders at its feeds.
  std::vector<std::pair<size_t, size_t>> fed_args;
  // By the session graph's placeholder ids: their ids in the compiled graph
  // (placeholders keep their names through the passes), -1 where none needs it.
  std::vector<NodeId> placeholders;
  uint64_t last_use = 0;
  int profile_program = -1; // its number in the session's Profile, when profiling
};

struct Session::Runtime {
  compiler::Compiler compiler;
  // oneTBB caps its workers at the core count; a session asked for more
  // threads (to test or oversubscribe) lifts the cap while it lives.
  std::unique_ptr<tbb::global_control> more_threads;
  tbb::task_arena arena;
  // By batch size and roots.
  std::map<std::pair<int64_t, std::vector<NodeId>>, std::unique_ptr<Executable>> cache;
  uint64_t clock = 0; // counts uses, for least-recently-used eviction

  explicit Runtime(const SessionOptions &o)
      : compiler(o.compile), arena(o.threads > 0 ? o.threads : tbb::task_arena::automatic) {
    if (o.threads > tbb::info::default_concurrency())
      more_threads = std::make_unique<tbb::global_control>(
          tbb::global_control::max_allowed_parallelism, size_t(o.threads));
  }
};

Session::Session(Graph graph, SessionOptions options)
    : graph_(std::move(graph)), options_(options), runtime_(std::make_unique<Runtime>(options)),
      profile_(std::make_unique<Profile>()) {
  variables_.resize(graph_.size());
  for (const Node &n : graph_.nodes()) {
    if (n.op->source != Source::variable) continue;
    Tensor value(n.type.dtype, n.type.shape);
    n.op->reference(n, {}, value);
    variables_[size_t(n.id)] = std::move(value);
  }
}

Session::~Session() = default;

NodeId Session::variable_id(const NodeRef &v) const {
  NodeId id = v.resolve(graph_);
  if (graph_.node(id).op->source != Source::variable)
    fail("{} is not a variable", graph_.node(id).describe());
  return id;
}

Tensor Session::variable(const NodeRef &v) const {
  std::lock_guard lock(mutex_);
  return variables_[size_t(variable_id(v))].clone();
}

void Session::set_variable(const NodeRef &v, const Tensor &value) {
  std::lock_guard lock(mutex_);
  NodeId id = variable_id(v);
  Tensor &current = variables_[size_t(id)];
  if (value.dtype() != current.dtype() || value.shape() != current.shape())
    fail("variable '{}': expected {}, got {}", graph_.node(id).name, current.summary(),
         value.summary());
  std::memcpy(current.raw(), value.raw(), value.bytes());
}

Session::Executable &Session::executable(int64_t batch_size, const std::vector<NodeId> &roots) {
  auto key = std::make_pair(batch_size, roots);
  auto found = runtime_->cache.find(key);
  if (found != runtime_->cache.end()) {
    found->second->last_use = ++runtime_->clock;
    return *found->second;
  }

  auto e = std::make_unique<Executable>();
  Profile::CompileTimes times;
  times.start = Profile::Clock::now();
  // Units compile in parallel on the session's threads.
  runtime_->arena.execute([&] {
    RootedGraph optimized = optimize({graph_, roots}, options_.passes);
    times.passes_done = Profile::Clock::now();
    e->compiled = compile_graph(runtime_->compiler, std::move(optimized), batch_size,
                                options_.memory_planning);
    times.compiled = Profile::Clock::now();
  });
  const Graph &g = e->compiled.graph.graph;
  const compiler::Program &program = e->compiled.program;
  const std::optional<compiler::MemoryPlan> &plan = e->compiled.memory;
  if (plan) e->arena = Tensor(DType::boolean, {int64_t(plan->arena_bytes)});
  // Sources point at their data (placeholders at their feeds, in run()).
  e->table.assign(program.buffers.size(), nullptr);
  std::vector<BufferPlace> places = place_buffers(e->compiled);
  for (size_t i = 0; i < places.size(); ++i) {
    const BufferPlace &p = places[i];
    switch (p.kind) {
    case BufferPlace::Kind::arena:
      e->table[i] = static_cast<std::byte *>(e->arena.raw()) + p.offset;
      break;
    case BufferPlace::Kind::variable:
      e->table[i] = variables_[size_t(graph_.at(g.node(p.node).name))].raw();
      break;
    case BufferPlace::Kind::in_place: e->table[i] = e->table[size_t(p.buffer)]; break;
    case BufferPlace::Kind::constant:
      e->table[i] = const_cast<void *>(g.node(p.node).attr_tensor("value").raw());
      break;
    case BufferPlace::Kind::placeholder: break;
    case BufferPlace::Kind::own:
      e->storage.emplace_back(program.buffers[i].dtype, Shape{program.buffers[i].elements});
      e->table[i] = e->storage.back().raw();
      break;
    }
  }
  for (const compiler::Kernel &k : program.kernels) {
    e->first_arg.push_back(e->args.size());
    for (int32_t b : k.buffers) {
      NodeId node = program.buffers[size_t(b)].node;
      if (node >= 0 && g.node(node).op->source == Source::placeholder)
        e->fed_args.emplace_back(e->args.size(), size_t(b));
      e->args.push_back(e->table[size_t(b)]);
    }
  }
  e->placeholders.assign(graph_.size(), -1);
  for (const Node &n : graph_.nodes())
    if (n.op->source == Source::placeholder)
      e->placeholders[size_t(n.id)] = g.find(n.name).value_or(-1);
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
  Executable &inserted = *cache.emplace(std::move(key), std::move(e)).first->second;
  stats_.cached_programs = cache.size();
  return inserted;
}

void Session::execute(Executable &e) {
  const std::vector<compiler::Kernel> &kernels = e.compiled.program.kernels;
  for (auto [arg, buffer] : e.fed_args) e.args[arg] = e.table[buffer];
  runtime_->arena.execute([&] {
    if (!options_.profile) {
      for (size_t i = 0; i < kernels.size(); ++i)
        run_kernel(kernels[i].fn, kernels[i].num_tasks, kernels[i].task_cost,
                   e.args.data() + e.first_arg[i]);
      return;
    }
    // Kernel i runs between readings i and i + 1.
    std::span<Profile::Clock::time_point> clock = profile_->kernel_clock(e.profile_program);
    clock[0] = Profile::Clock::now();
    for (size_t i = 0; i < kernels.size(); ++i) {
      run_kernel(kernels[i].fn, kernels[i].num_tasks, kernels[i].task_cost,
                   e.args.data() + e.first_arg[i]);
      clock[i + 1] = Profile::Clock::now();
    }
  });
}

std::vector<Tensor> Session::run(const Feeds &feeds, const std::vector<NodeRef> &fetches,
                                 const std::vector<NodeRef> &targets) {
  std::lock_guard lock(mutex_);
  Profile::Clock::time_point begin;
  if (options_.profile) begin = Profile::Clock::now();
  BoundFeeds bound = bind_feeds(graph_, feeds);
  std::vector<NodeId> roots;
  for (const NodeRef &f : fetches) roots.push_back(f.resolve(graph_));
  for (const NodeRef &t : targets) roots.push_back(t.resolve(graph_));
  needed_nodes(graph_, roots, bound); // fails naming a placeholder that is needed but not fed

  int compilations = stats_.compilations;
  Executable &e = executable(bound.batch_size, roots);
  // A profiled run's time starts after any compilation it did.
  if (options_.profile && stats_.compilations != compilations) begin = Profile::Clock::now();
  for (const auto &[id, tensor] : bound.feeds)
    if (NodeId now = e.placeholders[size_t(id)]; now >= 0)
      e.table[size_t(now)] = const_cast<void *>(tensor.raw());
  execute(e);

  std::vector<Tensor> results;
  for (size_t f = 0; f < fetches.size(); ++f) {
    NodeId id = e.compiled.graph.roots[f];
    const TensorType &t = e.compiled.types[size_t(id)];
    Tensor out(t.dtype, t.shape);
    std::memcpy(out.raw(), e.table[size_t(id)], out.bytes());
    results.push_back(std::move(out));
  }
  for (const auto &[id, tensor] : bound.feeds)
    if (NodeId now = e.placeholders[size_t(id)]; now >= 0) e.table[size_t(now)] = nullptr;
  if (options_.profile) profile_->add_run(e.profile_program, begin, Profile::Clock::now());
  return results;
}

} // namespace kiln
