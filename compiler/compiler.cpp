// Compiler::compile: kernel library + emitted kernels -> O3 -> JIT.
#include "compiler/codegen.h"
#include "compiler/compile.h"
#include "compiler/jit.h"
#include "ir/error.h"

#include <llvm/Bitcode/BitcodeReader.h>
#include <llvm/IR/InstIterator.h>
#include <llvm/IR/Module.h>
#include <llvm/IR/Verifier.h>
#include <llvm/Support/MemoryBuffer.h>
#include <llvm/Support/raw_ostream.h>

#include <chrono>

// The kernel library's bitcode, embedded by kernels/library.S.
extern "C" const char kiln_kernel_library_start[];
extern "C" const char kiln_kernel_library_end[];

namespace kiln::compiler {

struct Compiler::Impl {
  CompileOptions options;
  Jit jit;
  int programs = 0;

  // The kernel library, lazily: function bodies are read only when
  // materialize_reachable asks for them.
  std::unique_ptr<llvm::Module> load_library(llvm::LLVMContext &c) {
    llvm::StringRef bytes(kiln_kernel_library_start,
                          size_t(kiln_kernel_library_end - kiln_kernel_library_start));
    auto m = unwrap(llvm::getLazyBitcodeModule(llvm::MemoryBufferRef(bytes, "kernels"), c),
                    "loading the kernel library");
    m->setDataLayout(jit.data_layout());
    m->setTargetTriple(jit.triple().str());
    return m;
  }
};

namespace {

// Reads the bodies of the library functions the kernels call (transitively)
// and drops the rest, so the optimizer sees only what this program uses.
// Library functions become internal and always-inline: each call with
// constant shapes is specialized in place.
void materialize_reachable(llvm::Module &m, const std::vector<Kernel> &kernels) {
  std::vector<llvm::Function *> work;
  for (const Kernel &k : kernels) work.push_back(m.getFunction(k.symbol));
  while (!work.empty()) {
    llvm::Function *f = work.back();
    work.pop_back();
    // Every function a body mentions, called or passed as a pointer: a body
    // read later must not refer to a function dropped below.
    for (llvm::Instruction &inst : llvm::instructions(*f)) {
      for (llvm::Value *operand : inst.operands()) {
        auto *callee = llvm::dyn_cast<llvm::Function>(operand);
        if (!callee || !callee->isMaterializable()) continue;
        check(callee->materialize(), "reading the kernel library");
        callee->setLinkage(llvm::GlobalValue::InternalLinkage);
        callee->removeFnAttr(llvm::Attribute::NoInline);
        callee->removeFnAttr(llvm::Attribute::OptimizeNone);
        callee->addFnAttr(llvm::Attribute::AlwaysInline);
        work.push_back(callee);
      }
    }
  }
  for (llvm::Function &f : llvm::make_early_inc_range(m))
    if (f.isMaterializable() && f.use_empty()) f.eraseFromParent();
  check(m.materializeAll(), "reading the kernel library");
}

} // namespace

Compiler::Compiler(CompileOptions options) : impl_(std::make_unique<Impl>()) {
  impl_->options = options;
}

Compiler::~Compiler() = default;

Program Compiler::compile(const Graph &g, std::span<const TensorType> types,
                          std::span<const NodeId> schedule) {
  auto start = std::chrono::steady_clock::now();
  auto context = std::make_unique<llvm::LLVMContext>();
  std::unique_ptr<llvm::Module> m = impl_->load_library(*context);
  std::string prefix = "kiln_p" + std::to_string(impl_->programs++);
  EmittedProgram emitted = emit_program(*m, g, types, schedule, prefix);
  materialize_reachable(*m, emitted.kernels);

  std::string problems;
  llvm::raw_string_ostream os(problems);
  if (llvm::verifyModule(*m, &os)) fail("internal error: kiln emitted invalid IR:\n{}", problems);
  for (llvm::Function &f : *m) impl_->jit.set_host_attributes(f);
  impl_->jit.optimize(*m);
  if (impl_->options.print_ir) m->print(llvm::errs(), nullptr);
  llvm::orc::ResourceTrackerSP tracker = impl_->jit.add(std::move(m), std::move(context));

  Program program{std::move(emitted.kernels), std::move(emitted.buffers), 0, nullptr};
  for (Kernel &k : program.kernels) k.fn = reinterpret_cast<KernelFn>(impl_->jit.lookup(k.symbol));
  // Removal only fails if the JIT's session has an error pending; there is
  // nothing a destructor could do about it.
  program.code =
      std::shared_ptr<void>(nullptr, [tracker](void *) { llvm::consumeError(tracker->remove()); });
  program.compile_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  return program;
}

} // namespace kiln::compiler
