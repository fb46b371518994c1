// Compiler::compile: each node's kernels are a unit of IR (codegen.h). Units
// are keyed by their content; a unit already in the JIT is shared, one in the
// disk cache is loaded, and the rest are optimized and compiled to objects in
// parallel, then linked into the JIT together.
#include "compiler/code_cache.h"
#include "compiler/codegen.h"
#include "compiler/compile.h"
#include "compiler/jit.h"
#include "compiler/unit_pipeline.h"
#include "ir/error.h"

#include <llvm/Bitcode/BitcodeReader.h>
#include <llvm/Config/llvm-config.h>
#include <llvm/IR/Module.h>
#include <llvm/IR/Verifier.h>
#include <llvm/Linker/Linker.h>
#include <llvm/Support/MemoryBuffer.h>
#include <llvm/Support/raw_ostream.h>
#include <llvm/Support/xxhash.h>

#include <tbb/enumerable_thread_specific.h>
#include <tbb/parallel_for.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <set>

namespace kiln::compiler {

struct CompiledCode {
  llvm::orc::ResourceTrackerSP tracker;
  std::vector<void *> kernels; // the unit's kernels, k0, k1...
  // Removal only fails if the JIT's session has an error pending; there is
  // nothing a destructor could do about it.
  ~CompiledCode() { llvm::consumeError(tracker->remove()); }
};

namespace {

using Clock = std::chrono::steady_clock;
double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

} // namespace

struct Compilation;

struct Compiler::Impl {
  CompileOptions options;
  Jit jit;
  std::string salt; // what shapes machine code besides the IR
  std::optional<CodeCache> cache;
  tbb::enumerable_thread_specific<std::unique_ptr<llvm::TargetMachine>> machines;
  // Units in the JIT, by key, while some program uses them.
  std::map<CacheKey, std::weak_ptr<CompiledCode>> in_jit;
  int programs = 0;
  bool trimmed = false; // the disk cache, once

  void resolve(Compilation &c, CompileStats &stats);
  void build_objects(Compilation &c, CompileStats &stats);
  void link(Compilation &c);

  // Optimizes and compiles a unit to an object file (on any thread).
  std::string build(llvm::Module &m, std::atomic<int64_t> &optimize_us,
                    std::atomic<int64_t> &machine_code_us) {
    auto start = Clock::now();
    std::unique_ptr<llvm::TargetMachine> &target = machines.local();
    if (!target) target = jit.create_target_machine();
    optimize_unit(m, *target, jit.cpu(), jit.features());
    if (options.print_ir) m.print(llvm::errs(), nullptr);
    auto optimized = Clock::now();
    std::string object = Jit::emit_object(m, *target);
    optimize_us += std::chrono::duration_cast<std::chrono::microseconds>(optimized - start).count();
    machine_code_us +=
        std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - optimized).count();
    return object;
  }
};

Compiler::Compiler(CompileOptions options) : impl_(std::make_unique<Impl>()) {
  impl_->options = options;
  impl_->salt = fmt::format("kiln {} LLVM {} {} {} {} inlined {:x}\n", KILN_VERSION,
                            LLVM_VERSION_STRING, impl_->jit.cpu(), impl_->jit.features(),
                            kUnitPipeline, llvm::xxh3_64bits(inlined_bitcode()));
  std::optional<std::filesystem::path> dir =
      options.cache_dir.empty() ? CodeCache::default_directory() : options.cache_dir;
  if (options.cache && dir && !CodeCache::disabled_by_environment()) impl_->cache.emplace(*dir);
}

Compiler::~Compiler() = default;

// One compilation: its units, their keys, and what becomes of each.
struct Compilation {
  std::vector<EmittedUnit> units;
  std::vector<CacheKey> keys;
  std::vector<std::shared_ptr<CompiledCode>> code; // by unit, once known
  std::map<CacheKey, size_t> first;                // the first unit of each key
  std::vector<size_t> build;                       // units to compile (or load) now
  std::vector<std::string> objects;                // theirs, by position in `build`
  std::string program_id;
  bool deduplicate = true;

  // Kernel k of unit u, named by its key: unique in the JIT.
  std::string symbol(size_t u, size_t k) const {
    std::string name = "kiln_" + keys[u].hex() + "_k" + std::to_string(k);
    return deduplicate ? name : name + "_p" + program_id + "_u" + std::to_string(u);
  }
};

// Keys every unit; one already in the JIT is shared, the first of each new
// key is to be built, and later ones wait for it.
void Compiler::Impl::resolve(Compilation &c, CompileStats &stats) {
  c.code.resize(c.units.size());
  for (size_t u = 0; u < c.units.size(); ++u) {
    const EmittedUnit &unit = c.units[u];
    c.keys.push_back(unit.same_as ? c.keys[*unit.same_as] : unit_key(*unit.module, salt));
    if (!c.first.emplace(c.keys[u], u).second && c.deduplicate) continue;
    ++stats.unique_units;
    auto found = in_jit.find(c.keys[u]);
    if (c.deduplicate && found != in_jit.end() && (c.code[u] = found->second.lock())) {
      ++stats.reused_units;
      continue;
    }
    c.build.push_back(u);
    for (size_t k = 0; k < c.units[u].kernels.size(); ++k)
      c.units[u].module->getFunction("k" + std::to_string(k))->setName(c.symbol(u, k));
  }
}

// Loads each unit to build from the disk cache or compiles it, in parallel
// on the calling arena's threads.
void Compiler::Impl::build_objects(Compilation &c, CompileStats &stats) {
  const CodeCache *disk = c.deduplicate && cache ? &*cache : nullptr;
  c.objects.resize(c.build.size());
  std::atomic<int64_t> optimize_us = 0, machine_code_us = 0;
  std::atomic<size_t> cached = 0, rejected = 0;
  tbb::parallel_for(size_t(0), c.build.size(), [&](size_t i) {
    size_t u = c.build[i];
    CodeCache::Lookup found = disk ? disk->load(c.keys[u], c.objects[i]) : CodeCache::Lookup::miss;
    if (found == CodeCache::Lookup::hit) {
      ++cached;
      return;
    }
    rejected += found == CodeCache::Lookup::rejected;
    c.objects[i] = build(*c.units[u].module, optimize_us, machine_code_us);
    if (disk) disk->store(c.keys[u], c.objects[i]);
  });
  stats.cached_units = cached;
  stats.rejected_cache_entries = rejected;
  if (disk && cached < c.build.size() && !trimmed) {
    disk->trim(options.cache_max_bytes);
    trimmed = true;
  }
  stats.compiled_units = c.build.size() - cached;
  stats.optimize_ms = double(optimize_us) / 1000;
  stats.machine_code_ms = double(machine_code_us) / 1000;
}

// Adds the new objects to the JIT and resolves their kernels in one lookup.
void Compiler::Impl::link(Compilation &c) {
  std::vector<std::string> symbols;
  for (size_t i = 0; i < c.build.size(); ++i) {
    size_t u = c.build[i];
    auto code = std::make_shared<CompiledCode>();
    code->tracker = jit.add_object(c.objects[i], c.keys[u].hex());
    c.code[u] = code;
    if (c.deduplicate) in_jit[c.keys[u]] = code;
    for (size_t k = 0; k < c.units[u].kernels.size(); ++k) symbols.push_back(c.symbol(u, k));
  }
  std::vector<void *> addresses = jit.lookup(symbols);
  auto address = addresses.begin();
  for (size_t u : c.build) {
    c.code[u]->kernels.assign(address, address + ptrdiff_t(c.units[u].kernels.size()));
    address += ptrdiff_t(c.units[u].kernels.size());
  }
}

Program Compiler::compile(const Graph &g, std::span<const TensorType> types,
                          std::span<const NodeId> schedule) {
  Impl &impl = *impl_;
  auto start = Clock::now();
  EmittedProgram emitted =
      emit_program(g, types, schedule, impl.jit.data_layout(), impl.jit.triple(),
                   /*share_alike=*/impl.options.deduplicate);
  Program program{std::move(emitted.kernels), std::move(emitted.buffers), {}, {}};
  CompileStats &stats = program.stats;
  Compilation c{.units = std::move(emitted.units),
                .program_id = std::to_string(impl.programs++),
                .deduplicate = impl.options.deduplicate};
  stats.kernels = program.kernels.size();
  stats.units = c.units.size();
  stats.emitted_units = size_t(std::count_if(
      c.units.begin(), c.units.end(), [](const EmittedUnit &u) { return u.module != nullptr; }));
  impl.resolve(c, stats);
  stats.codegen_ms = ms_since(start);

  impl.build_objects(c, stats);

  auto link_start = Clock::now();
  impl.link(c);
  std::set<const CompiledCode *> kept;
  for (size_t u = 0; u < c.units.size(); ++u) {
    std::shared_ptr<CompiledCode> &code = c.code[u];
    if (!code) code = c.code[c.first.at(c.keys[u])]; // a later unit of its key
    if (kept.insert(code.get()).second) program.code.push_back(code);
    for (size_t k = 0; k < c.units[u].kernels.size(); ++k) {
      Kernel &kernel = program.kernels[c.units[u].kernels[k]];
      kernel.fn = reinterpret_cast<KernelFn>(code->kernels.at(k));
      kernel.symbol = c.symbol(u, k);
    }
  }
  stats.link_ms = ms_since(link_start);
  stats.total_ms = ms_since(start);
  return program;
}

} // namespace kiln::compiler
