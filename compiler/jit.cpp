#include "compiler/jit.h"

#include "ir/error.h"
#include "kernels/kernel_symbols.h"

#include <llvm/ExecutionEngine/Orc/ExecutionUtils.h>
#include <llvm/IR/LegacyPassManager.h>
#include <llvm/IR/Module.h>
#include <llvm/Passes/PassBuilder.h>
#include <llvm/Support/MemoryBuffer.h>
#include <llvm/Support/TargetSelect.h>

#include <mutex>

namespace kiln::compiler {

void check(llvm::Error error, const char *what) {
  if (error) fail("{}: {}", what, llvm::toString(std::move(error)));
}

namespace {

llvm::orc::JITTargetMachineBuilder host_machine_builder() {
  static std::once_flag once;
  std::call_once(once, [] {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
  });
  auto builder = unwrap(llvm::orc::JITTargetMachineBuilder::detectHost(), "detecting the host CPU");
  builder.setCodeGenOptLevel(llvm::CodeGenOptLevel::Default);
  return builder;
}

} // namespace

Jit::Jit() : machine_builder_(host_machine_builder()) {
  cpu_ = machine_builder_.getCPU();
  features_ = machine_builder_.getFeatures().getString();
  lljit_ = unwrap(llvm::orc::LLJITBuilder().setJITTargetMachineBuilder(machine_builder_).create(),
                  "creating the JIT");
  llvm::orc::JITDylib &main = lljit_->getMainJITDylib();
  // f64 math in the scalar math bitcode calls libm.
  main.addGenerator(unwrap(llvm::orc::DynamicLibrarySearchGenerator::GetForCurrentProcess(
                               data_layout().getGlobalPrefix()),
                           "loading process symbols"));
  llvm::orc::SymbolMap kernels;
  for (const kernels::KernelSymbol &k : kernels::kernel_symbols())
    kernels[lljit_->mangleAndIntern(k.name)] = {llvm::orc::ExecutorAddr::fromPtr(k.address),
                                                llvm::JITSymbolFlags::Exported |
                                                    llvm::JITSymbolFlags::Callable};
  check(main.define(llvm::orc::absoluteSymbols(std::move(kernels))), "defining the native kernels");
}

std::unique_ptr<llvm::TargetMachine> Jit::create_target_machine() const {
  llvm::orc::JITTargetMachineBuilder builder = machine_builder_;
  return unwrap(builder.createTargetMachine(), "creating the target machine");
}

void Jit::optimize(llvm::Module &m, llvm::TargetMachine &target, llvm::OptimizationLevel level) {
  llvm::LoopAnalysisManager lam;
  llvm::FunctionAnalysisManager fam;
  llvm::CGSCCAnalysisManager cgam;
  llvm::ModuleAnalysisManager mam;
  llvm::PassBuilder pb(&target);
  pb.registerModuleAnalyses(mam);
  pb.registerCGSCCAnalyses(cgam);
  pb.registerFunctionAnalyses(fam);
  pb.registerLoopAnalyses(lam);
  pb.crossRegisterProxies(lam, fam, cgam, mam);
  pb.buildPerModuleDefaultPipeline(level).run(m, mam);
}

std::string Jit::emit_object(llvm::Module &m, llvm::TargetMachine &target) {
  llvm::SmallVector<char, 0> buffer;
  llvm::raw_svector_ostream os(buffer);
  llvm::legacy::PassManager pm;
  if (target.addPassesToEmitFile(pm, os, nullptr, llvm::CodeGenFileType::ObjectFile))
    fail("internal error: the target cannot emit object files");
  pm.run(m);
  return std::string(buffer.data(), buffer.size());
}

llvm::orc::ResourceTrackerSP Jit::add_object(std::string_view object, const std::string &name) {
  llvm::orc::ResourceTrackerSP tracker = lljit_->getMainJITDylib().createResourceTracker();
  check(lljit_->addObjectFile(tracker, llvm::MemoryBuffer::getMemBufferCopy(
                                           llvm::StringRef(object.data(), object.size()), name)),
        "adding an object to the JIT");
  return tracker;
}

std::vector<void *> Jit::lookup(const std::vector<std::string> &symbols) {
  llvm::orc::SymbolLookupSet set;
  std::vector<llvm::orc::SymbolStringPtr> names;
  for (const std::string &s : symbols) {
    names.push_back(lljit_->mangleAndIntern(s));
    set.add(names.back());
  }
  llvm::orc::SymbolMap found =
      unwrap(lljit_->getExecutionSession().lookup(
                 llvm::orc::makeJITDylibSearchOrder(&lljit_->getMainJITDylib()), std::move(set)),
             "linking kernels");
  std::vector<void *> addresses;
  for (const auto &n : names) addresses.push_back(found.at(n).getAddress().toPtr<void *>());
  return addresses;
}

} // namespace kiln::compiler
