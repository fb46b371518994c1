#include "compiler/jit.h"

#include "ir/error.h"

#include <llvm/ExecutionEngine/Orc/ExecutionUtils.h>
#include <llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h>
#include <llvm/IR/Module.h>
#include <llvm/Passes/PassBuilder.h>
#include <llvm/Support/TargetSelect.h>

#include <mutex>

namespace kiln::compiler {

void check(llvm::Error error, const char *what) {
  if (error) fail("{}: {}", what, llvm::toString(std::move(error)));
}

Jit::Jit() {
  static std::once_flag once;
  std::call_once(once, [] {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
  });
  auto builder = unwrap(llvm::orc::JITTargetMachineBuilder::detectHost(), "detecting the host CPU");
  builder.setCodeGenOptLevel(llvm::CodeGenOptLevel::Aggressive);
  cpu_ = builder.getCPU();
  features_ = builder.getFeatures().getString();
  target_ = unwrap(builder.createTargetMachine(), "creating the target machine");
  lljit_ = unwrap(llvm::orc::LLJITBuilder().setJITTargetMachineBuilder(builder).create(),
                  "creating the JIT");
  // f64 math in the kernel library calls libm.
  lljit_->getMainJITDylib().addGenerator(
      unwrap(llvm::orc::DynamicLibrarySearchGenerator::GetForCurrentProcess(
                 data_layout().getGlobalPrefix()),
             "loading process symbols"));
}

void Jit::set_host_attributes(llvm::Function &f) const {
  f.removeFnAttr("target-cpu");
  f.removeFnAttr("target-features");
  f.removeFnAttr("tune-cpu");
  f.addFnAttr("target-cpu", cpu_);
  f.addFnAttr("target-features", features_);
  f.addFnAttr("prefer-vector-width", "512");
  f.addFnAttr("min-legal-vector-width", "512");
}

void Jit::optimize(llvm::Module &m) const {
  llvm::LoopAnalysisManager lam;
  llvm::FunctionAnalysisManager fam;
  llvm::CGSCCAnalysisManager cgam;
  llvm::ModuleAnalysisManager mam;
  llvm::PassBuilder pb(target_.get());
  pb.registerModuleAnalyses(mam);
  pb.registerCGSCCAnalyses(cgam);
  pb.registerFunctionAnalyses(fam);
  pb.registerLoopAnalyses(lam);
  pb.crossRegisterProxies(lam, fam, cgam, mam);
  // O3's inliner simplifies each always-inline library function once before
  // inlining it: measured 1.5-1.9x faster than inlining everything up front.
  pb.buildPerModuleDefaultPipeline(llvm::OptimizationLevel::O3).run(m, mam);
}

llvm::orc::ResourceTrackerSP Jit::add(std::unique_ptr<llvm::Module> m,
                                      std::unique_ptr<llvm::LLVMContext> c) {
  llvm::orc::ResourceTrackerSP tracker = lljit_->getMainJITDylib().createResourceTracker();
  check(lljit_->addIRModule(tracker, llvm::orc::ThreadSafeModule(std::move(m), std::move(c))),
        "adding a module to the JIT");
  return tracker;
}

void *Jit::lookup(const std::string &symbol) {
  return unwrap(lljit_->lookup(symbol), "looking up a kernel").toPtr<void *>();
}

} // namespace kiln::compiler
