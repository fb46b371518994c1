// What turns a unit's IR into optimized IR, the same for the JIT and for
// ahead-of-time objects: the inlined kernels it calls linked in, the target
// CPU's attributes, verification, and optimization by kind of unit.
#pragma once

#include "compiler/code_cache.h"

#include <llvm/IR/Module.h>
#include <llvm/Support/CodeGen.h>
#include <llvm/Target/TargetMachine.h>

#include <string>
#include <string_view>

namespace kiln::compiler {

// Names the pipeline in cache keys: a change to it must change this.
inline constexpr const char *kUnitPipeline = "loops O2, calls O1 fast-isel";

// The bitcode of the kernels units inline (compiler/inlined_kernels.S).
llvm::StringRef inlined_bitcode();

// Gives every function the CPU and features (clang's bitcode has none we
// want) and 512-bit vectors.
void set_cpu_attributes(llvm::Function &f, const std::string &cpu, const std::string &features);

// Links in the inlined kernels `m` calls, sets the CPU attributes, verifies
// and optimizes it for `target`; returns the code generation level its kind
// of unit gets (and sets it on `target`).
llvm::CodeGenOptLevel optimize_unit(llvm::Module &m, llvm::TargetMachine &target,
                                    const std::string &cpu, const std::string &features);

// A unit's identity: a hash of `salt` (what else shapes its machine code) and
// of its printed IR. Equal keys are compiled once.
CacheKey unit_key(const llvm::Module &m, std::string_view salt = {});

} // namespace kiln::compiler
