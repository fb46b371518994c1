// Compiler::compile: each node's kernels are a unit of IR (codegen.h). Units
// are keyed by their content; a unit already in the JIT is shared, one in the
// disk cache is loaded, and the rest are optimized and compiled to objects in
// parallel, then linked into the JIT together.
#include "compiler/code_cache.h"
#include "compiler/codegen.h"
#include "compiler/compile.h"
#include "compiler/jit.h"
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

// The bitcode of the kernels the JIT inlines, embedded by compiler/inlined_kernels.S.
extern "C" const char kiln_inlined_kernels_start[];
extern "C" const char kiln_inlined_kernels_end[];

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

llvm::StringRef inlined_bitcode() {
  return {kiln_inlined_kernels_start,
          size_t(kiln_inlined_kernels_end - kiln_inlined_kernels_start)};
}

// Optimization by kind of unit, measured (docs/decisions.md): loops (those
// kiln generates: elementwise, epilogues, reduction prologues; and inlined
// pooling kernels) get O2, which vectorizes them as well as O3 does, and full
// instruction selection; units that only call the native library get O1 and
// fast instruction selection.
constexpr const char *kPipeline = "loops O2, calls O1 fast-isel";

// Whether any function of the unit has a loop: a kernel that only calls the
// native library is one basic block (and so is the scalar math).
bool has_loops(const llvm::Module &m) {
  return std::any_of(m.begin(), m.end(), [](const llvm::Function &f) { return f.size() > 1; });
}

std::unique_ptr<llvm::Module> load_inlined(llvm::LLVMContext &c) {
  return unwrap(
      llvm::getLazyBitcodeModule(llvm::MemoryBufferRef(inlined_bitcode(), "inlined"), c),
      "loading the inlined kernels");
}

// The functions the inlined kernels define.
const std::set<std::string> &inlined_functions() {
  static const std::set<std::string> names = [] {
    llvm::LLVMContext c;
    std::unique_ptr<llvm::Module> inlined = load_inlined(c);
    std::set<std::string> defined;
    for (const llvm::Function &f : *inlined)
      if (!f.isDeclaration() || f.isMaterializable()) defined.insert(f.getName().str());
    return defined;
  }();
  return names;
}

// Links in the inlined kernels the unit calls (the scalar math, pooling),
// made internal and always-inline: they vectorize within its loops or are
// specialized for its constant shapes, and leave no symbol.
void link_inlined(llvm::Module &m) {
  std::vector<std::string> needed;
  for (const llvm::Function &f : m)
    if (f.isDeclaration() && inlined_functions().count(f.getName().str()))
      needed.push_back(f.getName().str());
  if (needed.empty()) return;
  std::unique_ptr<llvm::Module> inlined = load_inlined(m.getContext());
  inlined->setDataLayout(m.getDataLayout());
  inlined->setTargetTriple(m.getTargetTriple());
  if (llvm::Linker::linkModules(m, std::move(inlined), llvm::Linker::LinkOnlyNeeded))
    fail("internal error: linking the inlined kernels failed");
  for (const std::string &name : needed) {
    llvm::Function *f = m.getFunction(name);
    f->setLinkage(llvm::GlobalValue::InternalLinkage);
    f->removeFnAttr(llvm::Attribute::NoInline);
    f->removeFnAttr(llvm::Attribute::OptimizeNone);
    f->addFnAttr(llvm::Attribute::AlwaysInline);
  }
}

std::string print(const llvm::Module &m) {
  std::string text;
  llvm::raw_string_ostream os(text);
  m.print(os, nullptr);
  return text;
}

} // namespace

struct Compiler::Impl {
  CompileOptions options;
  Jit jit;
  std::string salt; // what shapes machine code besides the IR
  std::optional<CodeCache> cache;
  tbb::enumerable_thread_specific<std::unique_ptr<llvm::TargetMachine>> machines;
  // Units in the JIT, by key, while some program uses them.
  std::map<std::pair<uint64_t, uint64_t>, std::weak_ptr<const CompiledCode>> in_jit;
  int programs = 0;

  CacheKey key(const llvm::Module &m) const {
    std::string text = salt + print(m);
    llvm::XXH128_hash_t h = llvm::xxh3_128bits(
        llvm::ArrayRef<uint8_t>(reinterpret_cast<const uint8_t *>(text.data()), text.size()));
    return {h.low64, h.high64};
  }

  // Optimizes and compiles a unit to an object file (on any thread).
  std::string build(llvm::Module &m, std::atomic<int64_t> &optimize_us,
                    std::atomic<int64_t> &machine_code_us) {
    auto start = Clock::now();
    std::unique_ptr<llvm::TargetMachine> &target = machines.local();
    if (!target) target = jit.create_target_machine();
    link_inlined(m);
    for (llvm::Function &f : m)
      if (!f.isDeclaration()) jit.set_host_attributes(f);
    std::string problems;
    llvm::raw_string_ostream os(problems);
    if (llvm::verifyModule(m, &os)) fail("internal error: kiln emitted invalid IR:\n{}", problems);
    bool loops = has_loops(m);
    target->setOptLevel(loops ? llvm::CodeGenOptLevel::Default : llvm::CodeGenOptLevel::None);
    Jit::optimize(m, *target, loops ? llvm::OptimizationLevel::O2 : llvm::OptimizationLevel::O1);
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
                            kPipeline, llvm::xxh3_64bits(inlined_bitcode()));
  std::optional<std::filesystem::path> dir =
      options.cache_dir.empty() ? CodeCache::default_directory() : options.cache_dir;
  if (options.cache && dir && !CodeCache::disabled_by_environment()) impl_->cache.emplace(*dir);
}

Compiler::~Compiler() = default;

Program Compiler::compile(const Graph &g, std::span<const TensorType> types,
                          std::span<const NodeId> schedule) {
  Impl &impl = *impl_;
  auto start = Clock::now();
  EmittedProgram emitted = emit_program(g, types, schedule, impl.jit.data_layout(), impl.jit.triple());
  Program program{std::move(emitted.kernels), std::move(emitted.buffers), {}, {}};
  std::vector<EmittedUnit> &units = emitted.units;
  CompileStats &stats = program.stats;
  stats.kernels = program.kernels.size();
  stats.units = units.size();

  // Keys; units already in the JIT; the first unit of each new key is built.
  const bool dedupe = impl.options.deduplicate;
  const std::string program_id = std::to_string(impl.programs++);
  std::vector<CacheKey> keys;
  std::vector<std::shared_ptr<const CompiledCode>> code(units.size());
  std::map<std::pair<uint64_t, uint64_t>, size_t> first; // key -> unit
  std::vector<size_t> build;
  // Kernel k of unit u, named by its key: unique in the JIT.
  auto symbol = [&](size_t u, size_t k) {
    std::string name = "kiln_" + keys[u].hex() + "_k" + std::to_string(k);
    return dedupe ? name : name + "_p" + program_id + "_u" + std::to_string(u);
  };
  for (size_t u = 0; u < units.size(); ++u) {
    keys.push_back(impl.key(*units[u].module));
    std::pair<uint64_t, uint64_t> k{keys[u].low, keys[u].high};
    if (!first.emplace(k, u).second && dedupe) continue;
    ++stats.unique_units;
    auto found = impl.in_jit.find(k);
    if (dedupe && found != impl.in_jit.end() && (code[u] = found->second.lock())) {
      ++stats.reused_units;
      continue;
    }
    build.push_back(u);
    for (size_t i = 0; i < units[u].kernels.size(); ++i)
      units[u].module->getFunction("k" + std::to_string(i))->setName(symbol(u, i));
  }
  const CodeCache *cache = dedupe && impl.cache ? &*impl.cache : nullptr;
  stats.codegen_ms = ms_since(start);

  std::vector<std::string> objects(build.size());
  std::atomic<int64_t> optimize_us = 0, machine_code_us = 0;
  std::atomic<size_t> cached = 0, rejected = 0;
  tbb::parallel_for(size_t(0), build.size(), [&](size_t i) {
    size_t u = build[i];
    CodeCache::Lookup found = cache ? cache->load(keys[u], objects[i]) : CodeCache::Lookup::miss;
    if (found == CodeCache::Lookup::hit) {
      ++cached;
      return;
    }
    rejected += found == CodeCache::Lookup::rejected;
    objects[i] = impl.build(*units[u].module, optimize_us, machine_code_us);
    if (cache) cache->store(keys[u], objects[i]);
  });
  stats.cached_units = cached;
  stats.rejected_cache_entries = rejected;
  stats.compiled_units = build.size() - cached;
  stats.optimize_ms = double(optimize_us) / 1000;
  stats.machine_code_ms = double(machine_code_us) / 1000;

  auto link_start = Clock::now();
  std::vector<std::string> symbols;
  for (size_t i = 0; i < build.size(); ++i) {
    size_t u = build[i];
    auto c = std::make_shared<CompiledCode>();
    c->tracker = impl.jit.add_object(objects[i], keys[u].hex());
    code[u] = c;
    if (dedupe) impl.in_jit[{keys[u].low, keys[u].high}] = c;
    for (size_t k = 0; k < units[u].kernels.size(); ++k) symbols.push_back(symbol(u, k));
  }
  std::vector<void *> addresses = impl.jit.lookup(symbols);
  auto address = addresses.begin();
  for (size_t u : build) {
    auto &kernels = const_cast<CompiledCode &>(*code[u]).kernels;
    kernels.assign(address, address + ptrdiff_t(units[u].kernels.size()));
    address += ptrdiff_t(units[u].kernels.size());
  }
  // Duplicates take the code of the first unit of their key.
  for (size_t u = 0; u < units.size(); ++u) {
    if (!code[u]) code[u] = code[first.at({keys[u].low, keys[u].high})];
    for (size_t k = 0; k < units[u].kernels.size(); ++k) {
      Kernel &kernel = program.kernels[units[u].kernels[k]];
      kernel.fn = reinterpret_cast<KernelFn>(code[u]->kernels.at(k));
      kernel.symbol = symbol(u, k);
    }
  }
  std::set<const CompiledCode *> kept;
  for (auto &c : code)
    if (kept.insert(c.get()).second) program.code.push_back(c);
  stats.link_ms = ms_since(link_start);
  stats.total_ms = ms_since(start);
  return program;
}

} // namespace kiln::compiler
