// Every entry point of the native kernel library by name (a table generated
// at build time from the library's symbols): what the JIT links generated
// code against.
#pragma once

#include <span>

namespace kiln::kernels {

struct KernelSymbol {
  const char *name;
  void *address;
};

std::span<const KernelSymbol> kernel_symbols();

} // namespace kiln::kernels
