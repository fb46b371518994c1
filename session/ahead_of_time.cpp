#include "session/ahead_of_time.h"

#include "compiler/aot.h"
#include "compiler/memory_plan.h"
#include "ir/error.h"
#include "ir/serialize.h"
#include "ops/builder.h"
#include "session/aot_header.h"
#include "session/compiled_graph.h"

#include <chrono>
#include <map>
#include <regex>
#include <set>

namespace kiln {

namespace {

// What the entries share while they are built: the model's variables, its
// constants and its kernel table.
struct ModelBuilder {
  const Graph &graph;
  compiler::ObjectCompiler compiler;
  aot::Model model;
  std::set<NodeId> used_variables; // the original graph's, by id
  std::string constants;
  std::vector<std::string> table;
  std::map<std::string, uint32_t> table_index;
  size_t kernels = 0, units = 0;

  ModelBuilder(const Graph &g, const std::string &cpu) : graph(g), compiler(cpu) {}

  // The variables some entry uses, in graph order (an inference model has
  // no optimizer slots), and their buffers pointed at them.
  void number_variables() {
    std::map<NodeId, int64_t> index;
    for (NodeId id : used_variables) {
      index[id] = int64_t(model.variables.size());
      const Node &n = graph.node(id);
      model.variables.push_back({n.name, n.type.dtype, n.type.shape});
    }
    for (Plan &e : model.entries)
      for (PlanBuffer &b : e.buffers)
        if (b.place == Place::variable) b.where = index.at(NodeId(b.where));
  }

  int64_t add_constant(const Tensor &t) {
    constants.resize((constants.size() + compiler::kArenaAlignment - 1) /
                     compiler::kArenaAlignment * compiler::kArenaAlignment);
    int64_t offset = int64_t(constants.size());
    constants.append(static_cast<const char *>(t.raw()), t.bytes());
    return offset;
  }

  uint32_t kernel(const std::string &symbol) {
    auto [it, added] = table_index.emplace(symbol, uint32_t(table.size()));
    if (added) table.push_back(symbol);
    return it->second;
  }

  Plan entry(const std::string &name, const std::vector<NodeId> &fetches,
             const std::vector<NodeId> &targets, const AheadOfTimeOptions &o) {
    std::vector<NodeId> roots = fetches;
    roots.insert(roots.end(), targets.begin(), targets.end());
    CompiledGraph c = compile_graph(compiler, optimize({graph, roots}, o.passes), o.batch_size,
                                    /*plan_memory=*/true);
    kernels += c.program.kernels.size();
    // Variables by the original graph's ids until number_variables().
    return make_plan(
        c, name, fetches.size(),
        {.variable =
             [&](const Node &n) {
               NodeId id = graph.at(n.name);
               used_variables.insert(id);
               return int64_t(id);
             },
         .constant = [&](const Node &n) { return add_constant(n.attr_tensor("value")); },
         .function = [&](size_t k) { return kernel(c.program.kernels[k].symbol); }});
  }
};

std::vector<NodeId> resolve(const Graph &g, const std::vector<NodeRef> &refs) {
  std::vector<NodeId> ids;
  for (const NodeRef &r : refs) ids.push_back(r.resolve(g));
  return ids;
}

// The variables' starting values, as a checkpoint's bytes.
std::string initial_weights(const Graph &g, const AheadOfTimeOptions &o,
                            const std::vector<TensorSpec> &variables) {
  std::map<NodeId, Tensor> values;
  if (o.checkpoint) {
    for (auto &[id, value] : read_checkpoint(g, *o.checkpoint, o.checkpoint_options))
      values[id] = std::move(value);
  } else {
    for (const Node &n : g.nodes())
      if (n.op->source == Source::variable) {
        Tensor value(n.type.dtype, n.type.shape);
        n.op->reference(n, {}, value);
        values[n.id] = std::move(value);
      }
  }
  return encode_checkpoint(
      variables, [&](size_t i) { return values.at(g.at(variables[i].name)); }, "the weights");
}

} // namespace

AheadOfTimeModel compile_ahead_of_time(const Graph &g, const AheadOfTimeOptions &o) {
  auto start = std::chrono::steady_clock::now();
  if (!std::regex_match(o.name, std::regex("[A-Za-z_][A-Za-z0-9_]*")))
    fail("model name '{}' is not a C identifier (letters, digits and _, not first a digit)",
         o.name);
  if (o.batch_size < 1) fail("batch size {}: it must be at least 1", o.batch_size);
  if (o.fetches.empty() && o.targets.empty())
    fail("nothing to compile: give the fetches of predict, or training targets");
  if (o.targets.empty() && !o.train_fetches.empty())
    fail("train fetches without training targets: give the optimizer's update as a target");

  ModelBuilder builder(g, o.target_cpu);
  AheadOfTimeModel out;
  builder.model.name = o.name;
  if (!o.fetches.empty())
    builder.model.entries.push_back(builder.entry("predict", resolve(g, o.fetches), {}, o));
  if (!o.targets.empty())
    builder.model.entries.push_back(
        builder.entry("train_step", resolve(g, o.train_fetches), resolve(g, o.targets), o));

  builder.number_variables();
  out.weights = initial_weights(g, o, builder.model.variables);
  std::string description = aot::encode(builder.model);
  compiler::CompileStats stats;
  out.object = builder.compiler.finish(
      {.symbol = "kiln_model_" + o.name,
       .kernels = builder.table,
       .description = description,
       .constants = builder.constants,
       .weights = o.embed_weights ? std::string_view(out.weights) : std::string_view()},
      stats);
  out.units = stats.units;
  out.distinct_units = stats.unique_units;
  out.kernels = builder.kernels;
  out.cpu = builder.compiler.cpu();
  out.model = std::move(builder.model);
  if (o.embed_weights) out.weights.clear();
  out.header = aot_header(
      out.model, {.cpu = out.cpu, .batch_size = o.batch_size, .embedded_weights = o.embed_weights});

  AheadOfTimeMemory &mem = out.memory;
  mem.constant_bytes = builder.constants.size();
  for (const TensorSpec &v : out.model.variables) {
    bool train = is_trainable(g.node(g.at(v.name)));
    (train ? mem.trainable_bytes : mem.other_variable_bytes) += v.bytes();
    ++(train ? mem.trainable_count : mem.other_variable_count);
  }
  size_t arena = 0, own = 0;
  for (const Plan &e : out.model.entries) {
    AheadOfTimeMemory::Entry r{e.name, e.arena_bytes, 0, e.kernels.size()};
    for (const PlanBuffer &b : e.buffers)
      if (b.place == Place::own) r.own_bytes += b.bytes();
    arena = std::max(arena, r.arena_bytes);
    own += r.own_bytes;
    mem.entries.push_back(r);
  }
  mem.instance_bytes = mem.trainable_bytes + mem.other_variable_bytes + arena + own;
  out.compile_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  return out;
}

std::vector<std::filesystem::path> write_ahead_of_time(const AheadOfTimeModel &m,
                                                       const std::filesystem::path &prefix) {
  std::string stem = prefix.filename().string();
  std::filesystem::path dir = prefix.parent_path();
  std::vector<std::pair<std::filesystem::path, std::string>> files = {
      {dir / (stem + ".o"), m.object},
      {dir / ("lib" + stem + ".a"), compiler::static_library(stem + ".o", m.object)},
      {dir / (stem + ".h"), m.header},
  };
  if (!m.weights.empty()) files.emplace_back(dir / (stem + ".weights"), m.weights);
  std::vector<std::filesystem::path> written;
  for (const auto &[path, bytes] : files) {
    write_file_atomically(path, bytes);
    written.push_back(path);
  }
  return written;
}

} // namespace kiln
