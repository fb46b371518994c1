// The native kernel library is built in variants, one per x86-64 level
// (CMake's KILN_KERNEL_ARCH: `portable` builds baseline, avx2 and avx512;
// another value builds one, `native`), so one binary runs on any x86-64 CPU
// at the speed of its best: each process runs the best variant its CPU
// supports, or the one the environment variable KILN_CPU names, which tests
// use to run every variant on one machine. (Code the JIT generates targets
// the CPU it runs on already; an ahead-of-time object, its --target-cpu.)
// Host code, compiled by gcc.
#pragma once

#include <cstddef>
#include <span>
#include <string_view>

namespace kiln::kernels {

// A variant as built: its name and the -march it was compiled for.
struct BuiltVariant {
  std::string_view name, march;
};

// The variants in this build, least demanding first (a generated table).
std::span<const BuiltVariant> built_kernel_variants();

struct KernelVariant {
  std::string_view name;
  size_t index = 0; // in built_kernel_variants()
};

// Chosen once per process. A KILN_CPU naming no built variant, or one this
// CPU cannot run, is reported on stderr and the best runnable one is used.
const KernelVariant &kernel_variant();

} // namespace kiln::kernels
