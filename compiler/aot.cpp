#include "compiler/aot.h"

#include "compiler/code_cache.h"
#include "compiler/codegen.h"
#include "compiler/jit.h"
#include "compiler/unit_pipeline.h"
#include "ir/error.h"

#include <llvm/Bitcode/BitcodeReader.h>
#include <llvm/Bitcode/BitcodeWriter.h>
#include <llvm/IR/Constants.h>
#include <llvm/IR/GlobalVariable.h>
#include <llvm/Linker/Linker.h>
#include <llvm/MC/MCSubtargetInfo.h>
#include <llvm/MC/TargetRegistry.h>
#include <llvm/Object/ArchiveWriter.h>
#include <llvm/Support/MemoryBuffer.h>
#include <llvm/Support/TargetSelect.h>
#include <llvm/TargetParser/Host.h>

#include <tbb/enumerable_thread_specific.h>
#include <tbb/parallel_for.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <set>

namespace kiln::compiler {

namespace {

using Clock = std::chrono::steady_clock;
double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

// The CPU's features as LLVM spells them ("+avx2,-avx512f,..."): the host's
// as detected, none for a named CPU (its name implies them).
std::string host_features() {
  std::string out;
  for (const auto &[feature, enabled] : llvm::sys::getHostCPUFeatures())
    out += (out.empty() ? "" : ",") + std::string(enabled ? "+" : "-") + feature.str();
  return out;
}

llvm::Constant *bytes_global(llvm::Module &m, std::string_view bytes, const std::string &name,
                             unsigned alignment) {
  llvm::LLVMContext &c = m.getContext();
  auto *data = llvm::ConstantDataArray::get(
      c, llvm::ArrayRef<uint8_t>(reinterpret_cast<const uint8_t *>(bytes.data()), bytes.size()));
  auto *g = new llvm::GlobalVariable(m, data->getType(), true, llvm::GlobalValue::PrivateLinkage,
                                     data, name);
  g->setAlignment(llvm::Align(alignment));
  return g;
}

} // namespace

struct ObjectCompiler::Impl {
  std::string cpu, features, triple;
  std::unique_ptr<llvm::TargetMachine> machine; // for the data layout and the final object
  std::vector<EmittedUnit> units;               // one per distinct key
  std::set<CacheKey> keys;                      // of the units added
  size_t emitted_units = 0;

  std::unique_ptr<llvm::TargetMachine> create_machine() const {
    std::string error;
    const llvm::Target *target = llvm::TargetRegistry::lookupTarget(triple, error);
    if (!target) fail("no LLVM target for {}: {}", triple, error);
    llvm::TargetMachine *tm =
        target->createTargetMachine(triple, cpu, features, llvm::TargetOptions(), llvm::Reloc::PIC_,
                                    std::nullopt, llvm::CodeGenOptLevel::Default);
    if (!tm) fail("cannot compile for CPU '{}' ({})", cpu, triple);
    return std::unique_ptr<llvm::TargetMachine>(tm);
  }
};

ObjectCompiler::ObjectCompiler(const std::string &cpu) : impl_(std::make_unique<Impl>()) {
  static std::once_flag once;
  std::call_once(once, [] {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
  });
  impl_->triple = llvm::sys::getProcessTriple();
  if (cpu.empty() || cpu == "host") {
    impl_->cpu = llvm::sys::getHostCPUName().str();
    impl_->features = host_features();
  } else {
    std::string error;
    const llvm::Target *target = llvm::TargetRegistry::lookupTarget(impl_->triple, error);
    if (!target) fail("no LLVM target for {}: {}", impl_->triple, error);
    // An unknown name would only warn ("not a recognized processor") and
    // compile for a generic CPU.
    std::unique_ptr<llvm::MCSubtargetInfo> info(
        target->createMCSubtargetInfo(impl_->triple, cpu, ""));
    if (!info || !info->isCPUStringValid(cpu))
      fail("'{}' is not a CPU LLVM knows for {} (try 'host', 'x86-64-v3', 'znver4', "
           "'skylake-avx512')",
           cpu, impl_->triple);
    impl_->cpu = cpu;
  }
  impl_->machine = impl_->create_machine();
}

ObjectCompiler::~ObjectCompiler() = default;

const std::string &ObjectCompiler::cpu() const { return impl_->cpu; }

Program ObjectCompiler::compile(const Graph &g, std::span<const TensorType> types,
                                std::span<const NodeId> schedule) {
  Impl &impl = *impl_;
  llvm::Triple triple(impl.triple);
  EmittedProgram emitted =
      emit_program(g, types, schedule, impl.machine->createDataLayout(), triple, true);
  Program program{std::move(emitted.kernels), std::move(emitted.buffers), {}, {}};
  std::vector<CacheKey> keys; // by unit
  for (EmittedUnit &unit : emitted.units) {
    ++impl.emitted_units;
    CacheKey key = unit.same_as ? keys[*unit.same_as] : unit_key(*unit.module);
    keys.push_back(key);
    std::string prefix = "kiln_" + key.hex() + "_k";
    for (size_t k = 0; k < unit.kernels.size(); ++k)
      program.kernels[unit.kernels[k]].symbol = prefix + std::to_string(k);
    if (!impl.keys.insert(key).second) continue; // compiled once
    for (size_t k = 0; k < unit.kernels.size(); ++k)
      unit.module->getFunction("k" + std::to_string(k))->setName(prefix + std::to_string(k));
    impl.units.push_back(std::move(unit));
  }
  return program;
}

std::string ObjectCompiler::finish(const Model &model, CompileStats &stats) {
  Impl &impl = *impl_;
  stats.units = impl.emitted_units;
  stats.unique_units = stats.compiled_units = impl.units.size();

  // Each unit optimized in its own context, as the JIT does, then carried
  // into one module as bitcode.
  std::vector<std::string> bitcode(impl.units.size());
  tbb::enumerable_thread_specific<std::unique_ptr<llvm::TargetMachine>> machines;
  std::atomic<int64_t> optimize_us = 0;
  tbb::parallel_for(size_t(0), impl.units.size(), [&](size_t u) {
    auto start = Clock::now();
    std::unique_ptr<llvm::TargetMachine> &tm = machines.local();
    if (!tm) tm = impl.create_machine();
    llvm::Module &m = *impl.units[u].module;
    optimize_unit(m, *tm, impl.cpu, impl.features);
    llvm::raw_string_ostream os(bitcode[u]);
    llvm::WriteBitcodeToFile(m, os);
    optimize_us +=
        std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start).count();
  });
  stats.optimize_ms = double(optimize_us) / 1000;
  impl.units.clear();

  auto link_start = Clock::now();
  llvm::LLVMContext context;
  auto merged = std::make_unique<llvm::Module>(model.symbol, context);
  merged->setDataLayout(impl.machine->createDataLayout());
  merged->setTargetTriple(impl.triple);
  for (const std::string &b : bitcode) {
    std::unique_ptr<llvm::Module> unit =
        unwrap(llvm::parseBitcodeFile(llvm::MemoryBufferRef(b, "unit"), context), "reading a unit");
    if (llvm::Linker::linkModules(*merged, std::move(unit)))
      fail("internal error: linking the units of '{}' failed", model.symbol);
  }

  // The descriptor, laid out as struct kiln_aot_model (runtime/aot_abi.h).
  llvm::Type *ptr = llvm::PointerType::getUnqual(context);
  llvm::Type *i32 = llvm::Type::getInt32Ty(context);
  llvm::Type *i64 = llvm::Type::getInt64Ty(context);
  std::vector<llvm::Constant *> kernels;
  for (const std::string &name : model.kernels) {
    llvm::Function *f = merged->getFunction(name);
    if (!f || f->isDeclaration()) fail("internal error: kernel {} was not compiled", name);
    f->setLinkage(llvm::GlobalValue::InternalLinkage);
    kernels.push_back(f);
  }
  auto *table_type = llvm::ArrayType::get(ptr, kernels.size());
  auto *table =
      new llvm::GlobalVariable(*merged, table_type, true, llvm::GlobalValue::PrivateLinkage,
                               llvm::ConstantArray::get(table_type, kernels), "kernels");
  auto *null = llvm::ConstantPointerNull::get(llvm::PointerType::getUnqual(context));
  auto blob = [&](std::string_view bytes, const char *name) -> llvm::Constant * {
    return bytes.empty() ? null : bytes_global(*merged, bytes, name, 64);
  };
  auto *model_type = llvm::StructType::get(context, {i32, i32, ptr, ptr, i64, ptr, i64, ptr, i64});
  llvm::Constant *fields[] = {
      llvm::ConstantInt::get(i32, 4), // KILN_AOT_ABI_VERSION (runtime/aot_abi.h)
      llvm::ConstantInt::get(i32, kernels.size()),
      table,
      blob(model.description, "description"),
      llvm::ConstantInt::get(i64, model.description.size()),
      blob(model.constants, "constants"),
      llvm::ConstantInt::get(i64, model.constants.size()),
      blob(model.weights, "weights"),
      llvm::ConstantInt::get(i64, model.weights.size()),
  };
  new llvm::GlobalVariable(*merged, model_type, true, llvm::GlobalValue::ExternalLinkage,
                           llvm::ConstantStruct::get(model_type, fields), model.symbol);
  stats.link_ms = ms_since(link_start);

  auto machine_code_start = Clock::now();
  impl.machine->setOptLevel(llvm::CodeGenOptLevel::Default);
  std::string object = Jit::emit_object(*merged, *impl.machine);
  stats.machine_code_ms = ms_since(machine_code_start);
  return object;
}

std::string static_library(const std::string &member, std::string_view object) {
  llvm::NewArchiveMember m(
      llvm::MemoryBufferRef(llvm::StringRef(object.data(), object.size()), member));
  m.MemberName = member;
  std::unique_ptr<llvm::MemoryBuffer> archive =
      unwrap(llvm::writeArchiveToBuffer({std::move(m)}, llvm::SymtabWritingMode::NormalSymtab,
                                        llvm::object::Archive::K_GNU, true, false),
             "writing the static library");
  return archive->getBuffer().str();
}

} // namespace kiln::compiler
