#include "compiler/unit_pipeline.h"

#include "compiler/jit.h"
#include "ir/error.h"

#include <llvm/Bitcode/BitcodeReader.h>
#include <llvm/IR/Verifier.h>
#include <llvm/Linker/Linker.h>
#include <llvm/Support/MemoryBuffer.h>
#include <llvm/Support/raw_ostream.h>
#include <llvm/Support/xxhash.h>

#include <algorithm>
#include <set>

// The bitcode of the kernels units inline, embedded by compiler/inlined_kernels.S.
extern "C" const char kiln_inlined_kernels_start[];
extern "C" const char kiln_inlined_kernels_end[];

namespace kiln::compiler {

llvm::StringRef inlined_bitcode() {
  return {kiln_inlined_kernels_start,
          size_t(kiln_inlined_kernels_end - kiln_inlined_kernels_start)};
}

namespace {

// Whether any function of the unit has a loop (or at least a branch): a
// kernel that only calls the native library is one basic block.
bool has_loops(const llvm::Module &m) {
  return std::any_of(m.begin(), m.end(), [](const llvm::Function &f) { return f.size() > 1; });
}

std::unique_ptr<llvm::Module> load_inlined(llvm::LLVMContext &c) {
  return unwrap(llvm::getLazyBitcodeModule(llvm::MemoryBufferRef(inlined_bitcode(), "inlined"), c),
                "loading the inlined kernels");
}

// The functions the inlined kernels define.
const std::set<std::string, std::less<>> &inlined_functions() {
  static const std::set<std::string, std::less<>> names = [] {
    llvm::LLVMContext c;
    std::unique_ptr<llvm::Module> inlined = load_inlined(c);
    std::set<std::string, std::less<>> defined;
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
    if (f.isDeclaration() && inlined_functions().contains(std::string_view(f.getName())))
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

} // namespace

void set_cpu_attributes(llvm::Function &f, const std::string &cpu, const std::string &features) {
  f.removeFnAttr("target-cpu");
  f.removeFnAttr("target-features");
  f.removeFnAttr("tune-cpu");
  f.addFnAttr("target-cpu", cpu);
  if (!features.empty()) f.addFnAttr("target-features", features);
  f.addFnAttr("prefer-vector-width", "512");
  f.addFnAttr("min-legal-vector-width", "512");
}

// Optimization by kind of unit, measured (docs/decisions.md): loops (those
// kiln generates: elementwise, epilogues, reduction prologues; and inlined
// pooling kernels) get O2, which vectorizes them as well as O3 does, and full
// instruction selection; units that only call the native library get O1 and
// fast instruction selection.
llvm::CodeGenOptLevel optimize_unit(llvm::Module &m, llvm::TargetMachine &target,
                                    const std::string &cpu, const std::string &features) {
  link_inlined(m);
  for (llvm::Function &f : m)
    if (!f.isDeclaration()) set_cpu_attributes(f, cpu, features);
  std::string problems;
  llvm::raw_string_ostream os(problems);
  if (llvm::verifyModule(m, &os)) fail("internal error: kiln emitted invalid IR:\n{}", problems);
  bool loops = has_loops(m);
  llvm::CodeGenOptLevel level =
      loops ? llvm::CodeGenOptLevel::Default : llvm::CodeGenOptLevel::None;
  target.setOptLevel(level);
  Jit::optimize(m, target, loops ? llvm::OptimizationLevel::O2 : llvm::OptimizationLevel::O1);
  return level;
}

CacheKey unit_key(const llvm::Module &m, std::string_view salt) {
  std::string text(salt);
  llvm::raw_string_ostream os(text);
  m.print(os, nullptr); // raw_string_ostream is unbuffered: `text` is complete
  llvm::XXH128_hash_t h = llvm::xxh3_128bits(
      llvm::ArrayRef<uint8_t>(reinterpret_cast<const uint8_t *>(text.data()), text.size()));
  return {h.low64, h.high64};
}

} // namespace kiln::compiler
