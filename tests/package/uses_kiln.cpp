// Links kiln::runtime from a project that added kiln as a subdirectory: a
// C++20 header and the C API resolve, and a call answers.
#include "data/npy.h"
#include "runtime/aot_abi.h"

#include <cstdio>
#include <string>

int main() {
  kiln_aot_instance *instance = nullptr;
  int status = kiln_aot_create(nullptr, nullptr, 1, &instance);
  std::printf("kiln_aot_create(NULL): %d, %s\n", status, kiln_last_error());
  return status == KILN_INVALID_ARGUMENT && std::string(kiln_last_error()) == "the model is null"
             ? 0
             : 1;
}
