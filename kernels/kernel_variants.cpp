#include "kernels/kernel_variants.h"

#include <cstdio>
#include <cstdlib>
#include <string>

namespace kiln::kernels {

namespace {

// Whether this CPU runs code built for `march`: the x86-64 levels are
// checked; anything else (native, a named CPU) was chosen for this machine
// when kiln was built.
bool runs_here(std::string_view march) {
  __builtin_cpu_init();
  if (march == "x86-64-v2") return __builtin_cpu_supports("x86-64-v2");
  if (march == "x86-64-v3") return __builtin_cpu_supports("x86-64-v3");
  if (march == "x86-64-v4") return __builtin_cpu_supports("x86-64-v4");
  return true;
}

std::string names(std::span<const BuiltVariant> built) {
  std::string out;
  for (const BuiltVariant &v : built) out += (out.empty() ? "" : ", ") + std::string(v.name);
  return out;
}

KernelVariant choose() {
  std::span<const BuiltVariant> built = built_kernel_variants();
  size_t best = 0;
  for (size_t i = 0; i < built.size(); ++i)
    if (runs_here(built[i].march)) best = i;
  KernelVariant chosen{built[best].name, best};
  const char *wanted = std::getenv("KILN_CPU");
  if (!wanted || !*wanted) return chosen;
  for (size_t i = 0; i < built.size(); ++i) {
    if (built[i].name != wanted) continue;
    if (runs_here(built[i].march)) return {built[i].name, i};
    std::fprintf(stderr, "kiln: warning: KILN_CPU=%s: this CPU cannot run -march=%s; using %s\n",
                 wanted, std::string(built[i].march).c_str(), std::string(chosen.name).c_str());
    return chosen;
  }
  std::fprintf(stderr, "kiln: warning: KILN_CPU=%s: this build's kernels are %s; using %s\n",
               wanted, names(built).c_str(), std::string(chosen.name).c_str());
  return chosen;
}

} // namespace

const KernelVariant &kernel_variant() {
  static const KernelVariant variant = choose();
  return variant;
}

} // namespace kiln::kernels
