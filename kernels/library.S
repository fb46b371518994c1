// Embeds the kernel library's bitcode (built by CMake from kernels/*.cpp).
  .section .rodata
  .balign 16
  .global kiln_kernel_library_start
kiln_kernel_library_start:
  .incbin KILN_KERNEL_LIBRARY_BC
  .global kiln_kernel_library_end
kiln_kernel_library_end:
  .byte 0
  .section .note.GNU-stack,"",@progbits
