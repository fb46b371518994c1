// The header `kiln compile` writes beside an ahead-of-time object: typed C
// wrappers over runtime/aot_abi.h (NAME_create, NAME_predict, ...), the
// shapes of every input and output as constants, and a C++ class over them.
#pragma once

#include "runtime/aot_model.h"

#include <string>

namespace kiln {

struct AotHeaderOptions {
  std::string cpu;
  int64_t batch_size = 1;
  bool embedded_weights = false;
};

std::string aot_header(const aot::Model &m, const AotHeaderOptions &options);

} // namespace kiln
