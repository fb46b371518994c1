// The native kernel library as one translation unit, compiled by clang-19 at
// -O3 for the CPU chosen at configure time (CMake's KILN_KERNEL_ARCH): one
// unit lets kernels inline each other's helpers (softmax's exp and row
// reductions, conv's GEMM, random's log) as the bitcode library did.
#include "conv.cpp"
#include "conv_direct.cpp"
#include "copy.cpp"
#include "indexing.cpp"
#include "math.cpp"
#include "matmul.cpp"
#include "pool.cpp"
#include "random.cpp"
#include "reduce.cpp"
#include "softmax.cpp"
