// libFuzzer's entry point for one target, chosen at build time
// (KILN_FUZZ_TARGET, see tests/fuzz/CMakeLists.txt).
#include "targets.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  kiln::fuzz::KILN_FUZZ_TARGET(std::string_view(reinterpret_cast<const char *>(data), size));
  return 0;
}
