// Byte copies that may find their bytes already in place: a data-parallel
// bucket gathers its gradients and hands them back (ops/collectives.cpp), and
// where the memory plan placed the gradients inside the bucket
// (compiler/memory_plan.cpp), source and destination are the same bytes and
// the copy is skipped. One task per 64 KiB.
#include <stdint.h>
#include <string.h>

#include "kernel_abi.h"
#include "kernels.h"

extern "C" void kiln_copy_bytes(const uint8_t *src, uint8_t *dst, int64_t src_offset,
                                int64_t dst_offset, int64_t bytes, int64_t task_begin,
                                int64_t task_end) {
  const uint8_t *from = src + src_offset;
  uint8_t *to = dst + dst_offset;
  if (from == to) return;
  for (int64_t t = task_begin; t < task_end; ++t) {
    int64_t begin = t * KILN_COPY_CHUNK,
            end = begin + KILN_COPY_CHUNK < bytes ? begin + KILN_COPY_CHUNK : bytes;
    memcpy(to + begin, from + begin, size_t(end - begin));
  }
}
