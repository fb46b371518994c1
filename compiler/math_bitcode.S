// Embeds the scalar math's bitcode (kernels/math.cpp, compiled by CMake),
// which the JIT inlines into generated elementwise loops.
  .section .rodata
  .balign 16
  .global kiln_math_bitcode_start
kiln_math_bitcode_start:
  .incbin KILN_MATH_BC
  .global kiln_math_bitcode_end
kiln_math_bitcode_end:
  .byte 0
  .section .note.GNU-stack,"",@progbits
