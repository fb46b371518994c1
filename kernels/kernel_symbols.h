// Every entry point of the native kernel library by name, at its address in
// the variant this process runs (kernels/kernel_variants.h): what the JIT
// links generated code against. A table generated at build time from the
// variants' symbols (cmake/kernel_symbols.cmake).
#pragma once

#include <span>

namespace kiln::kernels {

struct KernelSymbol {
  const char *name;
  void *address;
};

std::span<const KernelSymbol> kernel_symbols();

} // namespace kiln::kernels
