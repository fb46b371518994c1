// Ahead-of-time compilation: the units of a model's programs (its entry
// points) optimized exactly as the JIT optimizes them, then linked into one
// relocatable object whose only global symbol is the model: a kiln_aot_model
// (runtime/aot_abi.h) holding the kernel table and the data the runtime
// needs. Equal units, within and across the programs, are compiled once.
#pragma once

#include "compiler/compile.h"

#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace kiln::compiler {

class ObjectCompiler final : public ProgramCompiler {
public:
  // `cpu`: "host", or an LLVM CPU name (znver4, skylake-avx512, x86-64-v3).
  explicit ObjectCompiler(const std::string &cpu);
  ~ObjectCompiler() override;
  ObjectCompiler(const ObjectCompiler &) = delete;
  ObjectCompiler &operator=(const ObjectCompiler &) = delete;

  const std::string &cpu() const; // the CPU's name, "host" resolved

  // Emits a program's units. Its kernels' `fn` stay null; `symbol` names each
  // in the object, the same for equal kernels.
  Program compile(const Graph &g, std::span<const TensorType> types,
                  std::span<const NodeId> schedule) override;

  struct Model {
    std::string symbol;               // the descriptor's name
    std::vector<std::string> kernels; // the kernel table, by symbol
    std::string_view description;     // runtime/aot_model.h's encoding
    std::string_view constants;       // 64-byte aligned in the object
    std::string_view weights;         // embedded weights (a checkpoint), or empty
  };
  // Optimizes every unit added (in parallel on the calling arena's threads),
  // links them with the descriptor into one position-independent object
  // file, and returns it.
  std::string finish(const Model &model, CompileStats &stats);

private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// An ar archive holding `object` as `member` (for libNAME.a).
std::string static_library(const std::string &member, std::string_view object);

} // namespace kiln::compiler
