// Embeds the bitcode of the kernels the JIT inlines (kernels/math.cpp and
// pool.cpp, compiled and linked by CMake).
  .section .rodata
  .balign 16
  .global kiln_inlined_kernels_start
kiln_inlined_kernels_start:
  .incbin KILN_INLINED_BC
  .global kiln_inlined_kernels_end
kiln_inlined_kernels_end:
  .byte 0
  .section .note.GNU-stack,"",@progbits
