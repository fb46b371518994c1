// ORC LLJIT for the host CPU: generated units go in as object files, linked
// against the native kernel library and libm.
#pragma once

#include <llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h>
#include <llvm/ExecutionEngine/Orc/LLJIT.h>
#include <llvm/Passes/OptimizationLevel.h>
#include <llvm/Target/TargetMachine.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace kiln::compiler {

class Jit {
public:
  Jit();

  const llvm::DataLayout &data_layout() const { return lljit_->getDataLayout(); }
  const llvm::Triple &triple() const { return lljit_->getTargetTriple(); }
  const std::string &cpu() const { return cpu_; }
  const std::string &features() const { return features_; }

  // A TargetMachine for one thread's compilations (they are not shared).
  std::unique_ptr<llvm::TargetMachine> create_target_machine() const;
  // The new PassManager's default pipeline at `level` for `target`.
  static void optimize(llvm::Module &m, llvm::TargetMachine &target, llvm::OptimizationLevel level);
  // Machine code for `m`, as an object file.
  static std::string emit_object(llvm::Module &m, llvm::TargetMachine &target);

  // Adds an object file; removing the returned tracker frees its code.
  llvm::orc::ResourceTrackerSP add_object(std::string_view object, const std::string &name);
  // The addresses of `symbols`, in one lookup.
  std::vector<void *> lookup(const std::vector<std::string> &symbols);

private:
  llvm::orc::JITTargetMachineBuilder machine_builder_;
  std::unique_ptr<llvm::orc::LLJIT> lljit_;
  std::string cpu_, features_;
};

// Turns an llvm::Error into a kiln::Error saying what was being done.
void check(llvm::Error error, const char *what);

template <typename T> T unwrap(llvm::Expected<T> value, const char *what) {
  check(value.takeError(), what);
  return std::move(*value);
}

} // namespace kiln::compiler
