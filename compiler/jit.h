// ORC LLJIT for the host CPU, with the O3 pipeline tuned for it.
#pragma once

#include <llvm/ExecutionEngine/Orc/LLJIT.h>
#include <llvm/Target/TargetMachine.h>

#include <memory>
#include <string>

namespace kiln::compiler {

class Jit {
public:
  Jit();

  const llvm::DataLayout &data_layout() const { return lljit_->getDataLayout(); }
  const llvm::Triple &triple() const { return lljit_->getTargetTriple(); }

  // Gives every function the host CPU and features (clang's bitcode has none
  // we want) and 512-bit vectors.
  void set_host_attributes(llvm::Function &f) const;
  // The new PassManager's O3 pipeline with the host TargetMachine.
  void optimize(llvm::Module &m) const;
  // Adds a module; removing the returned tracker frees its code.
  llvm::orc::ResourceTrackerSP add(std::unique_ptr<llvm::Module> m,
                                   std::unique_ptr<llvm::LLVMContext> c);
  void *lookup(const std::string &symbol);

private:
  std::unique_ptr<llvm::orc::LLJIT> lljit_;
  std::unique_ptr<llvm::TargetMachine> target_;
  std::string cpu_, features_;
};

// Turns an llvm::Error into a kiln::Error saying what was being done.
void check(llvm::Error error, const char *what);

template <typename T> T unwrap(llvm::Expected<T> value, const char *what) {
  check(value.takeError(), what);
  return std::move(*value);
}

} // namespace kiln::compiler
