// The kernels' vector type: kVectorBytes (one zmm with AVX-512) of T, which
// the compiler splits into narrower registers for the avx2 and baseline
// variants. vector_size works in both clang and gcc.
#pragma once

#include "kernel_abi.h"

namespace kiln::kernels {

template <typename T> struct Vec {
  typedef T type __attribute__((vector_size(abi::kVectorBytes)));
  static constexpr int kLanes = abi::kVectorBytes / sizeof(T);
};

} // namespace kiln::kernels
